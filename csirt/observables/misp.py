"""MISP event JSON export and import (the ``pymisp`` object model, offline: no MISP server).

Export: one event (the case), an attribute per observable with its ``tlp:`` and ``PAP:`` tags
and ``to_ids`` from the IOC flag, and a ``misp-galaxy:mitre-attack-pattern`` tag per ATT&CK
technique. Import reads the attributes of an event and of its objects, and those galaxy tags.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Final

from pymisp import MISPAttribute, MISPEvent
from pymisp.exceptions import PyMISPError

from csirt.observables.errors import ExchangeFormatError
from csirt.observables.exchange import ExportContent
from csirt.observables.service import MAX_TAGS, ObservableIn

MISP_TYPE: Final = {
    "ip": "ip-dst",
    "domain": "domain",
    "url": "url",
    "email": "email",
    "filename": "filename",
    "registry": "regkey",
    "user-agent": "user-agent",
    "other": "text",
}
# MISP attribute type -> observable types of its parts (a composite type "a|b" has two).
FROM_MISP: Final[dict[str, tuple[str | None, ...]]] = {
    "ip-src": ("ip",),
    "ip-dst": ("ip",),
    "ip-src|port": ("ip", None),
    "ip-dst|port": ("ip", None),
    "domain": ("domain",),
    "hostname": ("domain",),
    "domain|ip": ("domain", "ip"),
    "url": ("url",),
    "link": ("url",),
    "md5": ("hash",),
    "sha1": ("hash",),
    "sha256": ("hash",),
    "sha512": ("hash",),
    "filename|md5": ("filename", "hash"),
    "filename|sha1": ("filename", "hash"),
    "filename|sha256": ("filename", "hash"),
    "filename|sha512": ("filename", "hash"),
    "email": ("email",),
    "email-src": ("email",),
    "email-dst": ("email",),
    "filename": ("filename",),
    "regkey": ("registry",),
    "regkey|value": ("registry", None),
    "user-agent": ("user-agent",),
}
TLP_TAGS: Final = {
    "tlp:white": "clear",
    "tlp:clear": "clear",
    "tlp:green": "green",
    "tlp:amber": "amber",
    "tlp:amber+strict": "amber+strict",
    "tlp:red": "red",
}
GALAXY: Final = "misp-galaxy:mitre-attack-pattern="
_TECHNIQUE = re.compile(r"\b(T\d{4}(?:\.\d{3})?)\b")


def build_event(content: ExportContent, now: datetime) -> str:
    """The MISP event of an export, as JSON text (``MISPEvent.to_json``)."""
    event = MISPEvent()
    event.info = content.reference + (f" {content.title}" if content.title else "")
    event.date = now.date()
    event.distribution = 0  # this organisation only: the recipient decides any sharing
    event.threat_level_id = 4  # undefined
    event.analysis = 1  # ongoing
    event.add_tag(f"tlp:{content.tlp}")
    for row in content.observables:
        kind = row.hash_algorithm if row.type == "hash" and row.hash_algorithm else row.type
        attribute: MISPAttribute = event.add_attribute(  # type: ignore[assignment]
            MISP_TYPE.get(kind, kind),
            row.value,
            to_ids=row.ioc,
            comment=row.description[:1000] or None,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
        )
        attribute.add_tag(f"tlp:{row.tlp}")
        attribute.add_tag(f"PAP:{row.pap.upper()}")
        for tag in row.tags or []:
            attribute.add_tag(tag)
    for technique in content.techniques:
        event.add_tag(f'{GALAXY}"{technique.name} - {technique.id}"')
    if content.summary:
        event.add_attribute("comment", content.summary[:10000], to_ids=False)
    return str(event.to_json())


def _tag_names(entity: Any) -> list[str]:
    return [str(tag.name) for tag in getattr(entity, "tags", []) or [] if getattr(tag, "name", "")]


def _levels(tags: list[str], default_tlp: str) -> tuple[str, str]:
    tlp, pap = default_tlp, "amber"
    for tag in tags:
        lowered = tag.lower().replace('"', "")
        if lowered in TLP_TAGS:
            tlp = TLP_TAGS[lowered]
        elif lowered.startswith("pap:") and lowered[4:] in (
            "clear",
            "white",
            "green",
            "amber",
            "red",
        ):
            pap = "clear" if lowered[4:] == "white" else lowered[4:]
    return tlp, pap


def _plain_tags(tags: list[str]) -> tuple[str, ...]:
    plain = [t for t in tags if not t.lower().startswith(("tlp:", "pap:", "misp-galaxy:"))]
    return tuple(plain[:MAX_TAGS])


def _items(attribute: MISPAttribute, default_tlp: str) -> list[ObservableIn]:
    kinds = FROM_MISP.get(str(attribute.type))
    if kinds is None:
        return []
    tags = _tag_names(attribute)
    tlp, pap = _levels(tags, default_tlp)
    parts = str(attribute.value).split("|") if len(kinds) > 1 else [str(attribute.value)]
    found = []
    for kind, value in zip(kinds, parts, strict=False):
        if kind is None:
            continue
        found.append(
            ObservableIn(
                type=kind,
                value=value,
                tlp=tlp,
                pap=pap,
                tags=_plain_tags(tags),
                ioc=bool(attribute.to_ids),
                description=str(getattr(attribute, "comment", "") or "")[:5000],
                first_seen=getattr(attribute, "first_seen", None),
                last_seen=getattr(attribute, "last_seen", None),
            )
        )
    return found


def read_event(raw: bytes | str) -> tuple[list[ObservableIn], list[str], int]:
    """(observables, ATT&CK technique ids, attributes skipped) of a MISP event JSON."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        event = MISPEvent()
        event.load(data)
    except (ValueError, PyMISPError, KeyError, TypeError, RecursionError) as exc:
        raise ExchangeFormatError(f"not a MISP event: {str(exc)[:200]}") from None
    event_tags = _tag_names(event)
    event_tlp, _pap = _levels(event_tags, "amber")
    attributes = list(event.attributes)
    for misp_object in event.objects:
        attributes += list(misp_object.attributes)
    items: list[ObservableIn] = []
    skipped = 0
    techniques: list[str] = []
    for attribute in attributes:
        found = _items(attribute, event_tlp)
        items += found
        skipped += 0 if found else 1
        techniques += _techniques(_tag_names(attribute))
    return items, [*_techniques(event_tags), *techniques], skipped


def _techniques(tags: list[str]) -> list[str]:
    return [match for tag in tags if tag.startswith(GALAXY) for match in _TECHNIQUE.findall(tag)]
