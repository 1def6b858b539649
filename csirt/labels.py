"""Translatable labels for enum values shown in pages."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l

from csirt.auth.forms import ROLE_LABELS
from csirt.auth.permissions import Role

PHASE_LABELS = {
    "detect": _l("Detect"),
    "analyse": _l("Analyse"),
    "contain": _l("Contain"),
    "eradicate": _l("Eradicate"),
    "recover": _l("Recover"),
    "post_incident": _l("Post-incident"),
    "closed": _l("Closed"),
}


def role_label(role: str) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return role


def phase_label(phase: str) -> str:
    # Translated once per request: lists call this for every row.
    cache: dict[str, str] = g.setdefault("_csirt_phase_labels", {})
    if phase not in cache:
        cache[phase] = str(PHASE_LABELS.get(phase, phase))
    return cache[phase]
