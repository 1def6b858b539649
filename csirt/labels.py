"""Display names for what pages show: enumeration values, case roles, catalog text and the
automatic timeline entries, in the reader's language (never a stored code word)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from weakref import WeakKeyDictionary

from flask import g
from flask_babel import lazy_gettext as _l

from csirt.auth.forms import ROLE_LABELS
from csirt.auth.permissions import Role
from csirt.catalog import CASE_ROLE_LABELS
from csirt.catalog.current import current_catalog
from csirt.i18n import current_lang, format_day, format_month, format_time
from csirt.lang import LocalText

PHASE_LABELS = {
    "detect": _l("Detect"),
    "analyse": _l("Analyse"),
    "contain": _l("Contain"),
    "eradicate": _l("Eradicate"),
    "recover": _l("Recover"),
    "post_incident": _l("Post-incident"),
    "closed": _l("Closed"),
}
# Case roles a playbook does not staff (csirt.cases.roles): who opened the case, a committee
# member given its documents, and a plain member.
OTHER_CASE_ROLES = {
    "creator": _l("creator"),
    "committee": _l("Committee member"),
    "member": _l("member"),
}
# Actors that are not people: the audit log and automatic entries name them by these words.
SYSTEM_ACTORS = {"system": _l("System"), "demo": _l("Demo data"), "csirt": _l("System")}
# Why an automatic timeline entry was written, when code wrote it (people write their own).
AUTO_REASONS = {"triage": _l("by the triage")}
# Why triage ran (``facts_changed`` senders' reasons): the code's word, then its display name.
TRIAGE_TRIGGERS = {
    "datasets": _l("a data set changed"),
    "created": _l("the case was opened"),
    "report": _l("a report was linked"),
    "contractor notice": _l("a contractor's notice"),
    "manual re-run": _l("re-run by hand"),
    "case fields": _l("the case's facts changed"),
}
_AUTO_TITLE = re.compile(r"^(Priority|Phase) (\S+) → (\S+)(?: \((\S+)\))?$")


def role_label(role: str) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return role


# Labels of a fixed table translated once per catalog: a lazy text resolved through Flask-Babel
# costs some 60 Python calls, and lists ask for the same few labels on every page. Keyed by the
# request's translations object (one per language and process, a new one when reloaded).
_TRANSLATED: WeakKeyDictionary[Any, dict[tuple[int, str], str]] = WeakKeyDictionary()


def _translated(table: Mapping[str, Any], key: str) -> str:
    """``table[key]`` (a lazy text; ``key`` itself when missing) in the reader's language."""
    from csirt.web import request_translations  # csirt.web registers these labels

    translations = request_translations()
    try:
        cache = _TRANSLATED[translations]
    except (KeyError, TypeError):  # TypeError: an object without weak references
        cache = {}
        with suppress(TypeError):
            _TRANSLATED[translations] = cache
    label = cache.get((id(table), key))
    if label is None:
        label = cache[(id(table), key)] = str(table.get(key, key))
    return label


def phase_label(phase: str) -> str:
    return _translated(PHASE_LABELS, phase)


def case_role_label(role: str) -> str:
    """A case member's role (csirt.cases.roles) in the reader's language."""
    label = CASE_ROLE_LABELS.get(role)
    if label is not None:
        return label.get(current_lang())
    return _translated(OTHER_CASE_ROLES, role)


def status_label(status: str) -> str:
    """A task's status in words ("open" is 未着手, not the verb 開く)."""
    from csirt.cases.forms import STATUS_LABELS

    return str(STATUS_LABELS.get(status, status))


def _catalog_texts() -> Mapping[str, LocalText]:
    """Every playbook text that rows copy from the catalog (task titles and descriptions,
    playbook titles), by its Japanese and its English wording."""
    catalog = current_catalog()
    cached: tuple[Any, dict[str, LocalText]] | None = g.get("_csirt_catalog_texts")
    if cached is not None and cached[0] is catalog:
        return cached[1]
    texts = _CATALOG_TEXTS.get(id(catalog))
    if texts is None:
        texts = {}
        for playbook in catalog.playbooks.values():
            found: list[LocalText | None] = [playbook.title]
            for task in playbook.tasks:
                found += [task.title, task.description]
            for text in found:
                if text is not None:
                    texts.setdefault(text.ja.strip(), text)
                    texts.setdefault(text.en.strip(), text)
        _CATALOG_TEXTS.clear()  # one catalog at a time: a reloaded one replaces it
        _CATALOG_TEXTS[id(catalog)] = texts
    g._csirt_catalog_texts = (catalog, texts)
    return texts


_CATALOG_TEXTS: dict[int, dict[str, LocalText]] = {}


def catalog_text(text: str | None) -> str:
    """``text`` in the reader's language when it is a playbook's own wording (a task created
    from a playbook keeps the title in the language it was created in); anything a person
    wrote or corrected comes back as it is."""
    if not text:
        return ""
    local = _catalog_texts().get(text.strip())
    return local.get(current_lang()) if local is not None else text


def with_catalog_titles(text: str | None) -> str:
    """``text`` with every playbook task title it quotes in the reader's language ("Required
    task not done: 警察への相談" on an English page names "Consult the police")."""
    if not text:
        return ""
    lang = current_lang()
    titles = [
        (key, local.get(lang))
        for key, local in _catalog_texts().items()
        if key != local.get(lang) and len(key) <= 80  # titles, not descriptions
    ]
    for key, wording in sorted(titles, key=lambda pair: -len(pair[0])):
        if key in text:
            text = text.replace(key, wording)
    return text


def auto_event_title(title: str) -> str:
    """An automatic timeline entry ("Priority P3 → P1", "Phase detect → closed (resolved)")
    in the reader's language; any other title as it is."""
    match = _AUTO_TITLE.match(title)
    if match is None:
        return title
    what, old, new, outcome = match.groups()
    if what == "Priority":
        return str(_l("Priority %(old)s → %(new)s", old=old, new=new))
    from csirt.cases.forms import OUTCOME_LABELS

    text = str(_l("Phase %(old)s → %(new)s", old=phase_label(old), new=phase_label(new)))
    if outcome:
        text += f" ({OUTCOME_LABELS.get(outcome, outcome)})"
    return text


def auto_reason(text: str) -> str:
    """The reason of an automatic entry: a code's own reason in words, a person's as written."""
    return str(AUTO_REASONS.get(text, text))


def actor_name(actor: str | None) -> str:
    """Who did something: a person's login as it is, the system in words."""
    if not actor:
        return ""
    label = SYSTEM_ACTORS.get(actor)
    return str(label) if label is not None else actor


def event_time(event: Any) -> str:
    """When a timeline event happened, as precisely as it is known: a month, a day, a time
    ("about" a time for an approximate one), in the reader's language with the zone."""
    moment, precision = event.occurred_at, event.precision
    if precision == "month":
        return format_month(moment)
    if precision == "day":
        return format_day(moment)
    if precision == "approx":
        return str(_l("about %(time)s", time=format_time(moment)))
    return format_time(moment)


def triage_trigger(reason: str) -> str:
    """Why a triage run happened, in words ("case fields: aware_at, insider" names no field)."""
    key = reason.split(":", 1)[0].strip()
    label = TRIAGE_TRIGGERS.get(key)
    return str(label) if label is not None else reason


def change_value(field: str, value: Any) -> str:
    """A value in the triage history in words: an obligation's name, an exposure's name, yes
    or no, a time; anything else as it is."""
    if value is None:
        return "—"
    if field == "obligation":
        for rule in current_catalog().rules.obligations:
            if rule.kind == value:
                return rule.label.get(current_lang())
        return str(value)
    if field == "facts.exposure" and isinstance(value, str):
        return current_catalog().vocabulary.exposure_label(value, current_lang())
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    return str(value)


# Japanese legal citations (legal.yaml ``article`` and ``source``) in English: the names of the
# laws, rules and guidelines the catalog cites, then article numbering. Longest names first.
_LAW_NAMES = (
    (
        "特定個人情報の漏えい等に関する報告等に関する規則",
        "PPC Rules on Reports of Leaks of Specific Personal Information",
    ),
    (
        "令和7年法律第62号による改正後、2026年12月1日施行",
        "as amended by Act No. 62 of 2025, in force from 1 Dec 2026",
    ),
    ("行政機関の休日に関する法律", "Act on Holidays of Administrative Organs"),
    ("個人情報保護法ガイドライン（通則編）", "APPI Guidelines (General Rules)"),
    ("指針（是正措置等の通知）", "Guidelines (notice of corrective measures)"),
    ("指針第4 是正措置等の通知", "Guidelines No. 4 (notice of corrective measures)"),
    ("公益通報者保護法", "Whistleblower Protection Act"),
    ("同法施行規則", "APPI Enforcement Rules"),
    ("個人情報保護法", "APPI"),
    ("施行規則", "Enforcement Rules"),
    ("報告規則", "Reporting Rules"),
    ("番号法", "My Number Act"),
    ("指針", "Guidelines"),
    ("規則", "Rules"),
)
_LAW_NUMBERS = (
    (re.compile(r"(\d+)条の(\d+)第(\d+)項"), r" Art. \1-\2(\3)"),
    (re.compile(r"(\d+)条(\d+)項"), r" Art. \1(\2)"),
    (re.compile(r"(\d+)条(\d+)号"), r" Art. \1 item \2"),
    (re.compile(r"(\d+)条"), r" Art. \1"),
    (re.compile(r"(\d+)号"), r" item \1"),
    (re.compile(r"(\d+)項"), r" para. \1"),
)
_LAW_MARKS = (
    ("イ〜ホ", " (a)–(e)"),
    ("ホ", " (e)"),
    ("、", "; "),
    ("・", ", "),
    ("（", " ("),
    ("）", ")"),
    ("※", " note "),
)


def law_citation(text: str) -> str:
    """A citation of Japanese law in the reader's language: as written in Japanese, turned
    into English names and article numbers in English ("個人情報保護法68条1項" -> "APPI Art.
    68(1)")."""
    if current_lang() == "ja" or not text:
        return text
    for ja, en in _LAW_NAMES:
        text = text.replace(ja, f" {en} ")
    for pattern, replacement in _LAW_NUMBERS:
        text = pattern.sub(replacement, text)
    for ja, en in _LAW_MARKS:
        text = text.replace(ja, en)
    text = re.sub(r"\s+", " ", text)
    return text.replace(" ;", ";").replace(" )", ")").replace("( ", "(").strip()


# What services answer bad input with (CaseValidationError messages: English, also the API's
# words), in the reader's language on console forms. Fixed texts, then patterns with a number.
SERVICE_MESSAGES = {
    "required": _l("Required."),
    "required: YYYY-MM-DD or an ISO 8601 date and time": _l(
        "Enter a day or a time, e.g. 2026-12-06 or 2026-12-06 09:30."
    ),
    "must carry a time zone": _l("Give the time with its time zone."),
    "month, day, approx or minute": _l("Choose how precise the time is."),
    "internal or public": _l("Choose internal or public."),
    "must be text": _l("Enter text."),
    "a list of evidence ids": _l("Choose evidence of this case."),
    "unknown evidence of this case": _l("Choose evidence of this case."),
    "unknown status": _l("Choose a status from the list."),
    "unknown priority": _l("Choose a priority from the list."),
    "unknown phase": _l("Choose a phase from the list."),
    "unknown TLP": _l("Choose a TLP level from the list."),
    "unknown user": _l("Choose a person from the list."),
    "assignees must be members of the case": _l("Assignees must be members of the case."),
    "the case is already closed": _l("The case is already closed."),
    "select at least one task": _l("Select at least one task."),
    "give a status or an assignee": _l("Choose a status or an assignee."),
    "choose a status or an assignee": _l("Choose a status or an assignee."),
    "a case cannot be related to itself": _l("A case cannot be related to itself."),
}
_AT_MOST = re.compile(r"^(?:required, )?(?:a string of )?at most ([\d,]+) characters$")
_ONE_OF = re.compile(r"^(?:choose )?one of ")


def service_message(message: Any) -> str:
    """A service's message about bad input in the reader's language (a form's own message,
    already translated, comes back as it is)."""
    text = str(message)
    known = SERVICE_MESSAGES.get(text)
    if known is not None:
        return str(known)
    if (match := _AT_MOST.match(text)) is not None:
        return str(_l("At most %(n)s characters.", n=match.group(1)))
    if _ONE_OF.match(text):
        return str(_l("Choose one from the list."))
    return text


# Notes the evidence service writes into the chain of custody (csirt.records.service).
_UPLOADED = re.compile(r"^uploaded via (\w+); sha256 ([0-9a-f]+)$")
_VIA = re.compile(r"^via (\w+)$")
CHANNELS = {"console": _l("the console"), "api": _l("the API")}


def custody_note(note: str | None) -> str:
    """A chain-of-custody note in the reader's language when the system wrote it."""
    if not note:
        return ""
    if (match := _UPLOADED.match(note)) is not None:
        via = CHANNELS.get(match.group(1), match.group(1))
        return str(_l("Uploaded through %(via)s; SHA-256 %(sha)s", via=via, sha=match.group(2)))
    if (match := _VIA.match(note)) is not None:
        return str(_l("Through %(via)s", via=CHANNELS.get(match.group(1), match.group(1))))
    return note


def init_app_filters(env: Any) -> None:
    """Register the display-name filters and globals on a Jinja environment."""
    env.globals.update(
        case_role_label=case_role_label, status_label=status_label, change_value=change_value
    )
    env.filters.update(
        catalog_text=catalog_text,
        with_catalog_titles=with_catalog_titles,
        auto_title=auto_event_title,
        auto_reason=auto_reason,
        actor_name=actor_name,
        event_time=event_time,
        triage_trigger=triage_trigger,
        law_citation=law_citation,
        service_message=service_message,
        custody_note=custody_note,
    )
