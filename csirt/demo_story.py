"""The founding story (Sakai city, 2015) as data: playbooks/demo/sakai-2015.yaml.

Two readers of the one file: `seed_story` writes it into the demo case through the owning
services (organisation settings, timeline, data sets with their triage, facts for documents,
measures), so that every document kind exports cleanly after `make run`; `founding_facts`
turns it into `CaseFacts` without a database, for tests and previews. Only the demo and the
tests load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases import persons
from csirt.cases.models import Case
from csirt.cases.timeline import add_event, validate_event
from csirt.catalog import load_catalog
from csirt.documents import facts as f
from csirt.documents import service as documents
from csirt.documents import snapshot
from csirt.lang import as_lang
from csirt.records import service as records
from csirt.records import validation as records_validation
from csirt.triage import Vocabulary
from csirt.yamlfile import LineDict, PlaybookError, load_yaml, playbooks_dir

STORY_FILE = Path("demo") / "sakai-2015.yaml"
STORY_ZONE = "Asia/Tokyo"
SECTIONS = (
    "organisation",
    "case",
    "data_sets",
    "events",
    "measures",
    "committee",
    "recommendations",
    "obligations",
)


@dataclass(frozen=True)
class Story:
    """The loaded file, and where it came from (for error messages)."""

    path: Path
    data: LineDict

    def fail(self, node: Any, key: str, message: str) -> PlaybookError:
        line = node.line_of(key) if isinstance(node, LineDict) else None
        return PlaybookError(self.path, line, f"{key}: {message}")

    def text(self, node: LineDict, key: str, lang: str, *, required: bool = True) -> str:
        """A {ja, en} text (or one string for both) in `lang`."""
        value = node.get(key, "")
        if isinstance(value, dict):
            value = value.get(lang, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(node, key, f"needs a text in {lang}")
        return value.strip()

    def section(self, key: str) -> Any:
        return self.data[key]


def story_path(playbooks: Path | None = None) -> Path:
    """The founding story's file under the playbooks folder."""
    return (playbooks or playbooks_dir()) / STORY_FILE


def story_vocabulary(path: Path) -> Vocabulary:
    """The vocabulary of the playbooks folder the story file belongs to (its catalog's)."""
    return load_catalog(path.parent.parent).vocabulary


def load_story(path: Path | None = None) -> Story:
    """Read and check the founding story; PlaybookError names the file and line."""
    resolved = path or story_path()
    data = load_yaml(resolved)
    if not isinstance(data, LineDict):
        raise PlaybookError(resolved, None, "must be a mapping")
    story = Story(resolved, data)
    for key in SECTIONS:
        if key not in data:
            raise PlaybookError(resolved, data.line, f"{key}: missing")
    for key in ("data_sets", "events", "measures", "recommendations", "obligations"):
        if not isinstance(data[key], list) or not all(isinstance(x, dict) for x in data[key]):
            raise story.fail(data, key, "must be a list of mappings")
    vocabulary = story_vocabulary(resolved)
    for item in data["data_sets"]:
        for key in item.get("items", []):
            if key not in vocabulary:
                raise story.fail(item, "items", f"{key} is not in the vocabulary")
    return story


def _local(value: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=zone).astimezone(UTC)


# --- CaseFacts without a database ---------------------------------------------------------------


@cache
def _facts(path: Path, lang: str) -> f.CaseFacts:
    story = load_story(path)
    zone = ZoneInfo(STORY_ZONE)
    vocabulary = story_vocabulary(story.path)
    org = story.section("organisation")
    case = story.section("case")
    text = story.text

    def t(node: LineDict, key: str) -> str:
        return text(node, key, lang, required=False)

    names = {d.get("key"): text(d, "name", lang) for d in story.section("data_sets")}
    sensitive = vocabulary.sensitive_keys()
    data_sets = tuple(
        f.DataSet(
            name=text(d, "name", lang),
            holder_department=t(d, "holder"),
            items=tuple(
                f.DataItem(key, vocabulary.label(key, "ja"), vocabulary.label(key, "en"))
                for key in d.get("items", [])
            ),
            persons=int(d["persons"]),
            persons_estimated=bool(d.get("persons_estimated", False)),
            exposure=_exposure_label(str(d.get("exposure", "public_internet")), lang, vocabulary),
            persons_max=d.get("count") == "max",
            overlaps=names.get(d.get("overlaps"), "") if d.get("overlaps") else "",
            sensitive_items=tuple(
                vocabulary.label(key, "ja" if lang == "ja" else "en")
                for key in d.get("items", [])
                if key in sensitive
            ),
        )
        for d in story.section("data_sets")
    )
    events = tuple(
        f.PublicEvent(
            _local(e["at"], zone),
            f.Precision(e["precision"]),
            text(e, "title", lang),
            t(e, "description"),
        )
        for e in story.section("events")
        if e.get("visibility") == "public"
    )
    measures = tuple(
        f.Measure(
            title=text(m, "title", lang),
            owner=t(m, "owner"),
            due=date.fromisoformat(m["due"]) if m.get("due") else None,
            status=f.MeasureStatus(m["status"]),
            evidence=t(m, "evidence"),
        )
        for m in story.section("measures")
    )
    recommendations = tuple(
        f.Recommendation(
            number, text(r, "text", lang), t(r, "owner"), t(r, "title"), t(r, "finding")
        )
        for number, r in enumerate(story.section("recommendations"), start=1)
    )
    committee_data = story.section("committee")
    committee = f.Committee(
        name=text(committee_data, "name", lang),
        mandate=t(committee_data, "mandate"),
        members=tuple(
            f.CommitteeMember(text(m, "name", lang), t(m, "affiliation"), t(m, "role"))
            for m in committee_data.get("members", [])
        ),
        independence=t(committee_data, "independence"),
        scope=t(committee_data, "scope"),
        method=t(committee_data, "method"),
        period_start=date.fromisoformat(committee_data["period_start"]),
        period_end=date.fromisoformat(committee_data["period_end"]),
        meetings=tuple(
            f.CommitteeMeeting(date.fromisoformat(m["day"]), t(m, "summary"))
            for m in committee_data.get("meetings", [])
        ),
    )
    org_kind = "local_government" if org.get("public_body", True) else "business"
    aware = _local(case["aware_at"], zone).date()
    obligations = tuple(
        f.Obligation(
            o["kind"],
            _local(o["due"], zone),
            _local(o["done"], zone) if o.get("done") else None,
            regime=snapshot.REGIME_OF_KIND.get(o["kind"], ""),
            in_force=snapshot.in_force(snapshot.REGIME_OF_KIND.get(o["kind"], ""), org_kind, aware),
        )
        for o in story.section("obligations")
    )
    staff = case.get("staff")
    responses = case.get("responses", {})
    return f.CaseFacts(
        organisation=f.Organisation(
            name=text(org, "name", lang),
            department=t(org, "department"),
            contact=f.ContactPoint(
                department=t(org, "contact_department") or t(org, "department"),
                phone=str(org.get("phone", "")),
                email=str(org.get("email", "")),
            ),
            public_body=bool(org.get("public_body", True)),
            head=t(org, "head"),
            date_style=str(org.get("date_style", "wareki")),
        ),
        case_reference=str(case["reference"]),
        title=text(case, "public_title", lang),
        summary=text(case, "public_summary", lang),
        aware_at=_local(case["aware_at"], zone),
        first_report_at=_local(case["first_report_at"], zone),
        first_contact_with_reporter_at=_local(case["first_contact_at"], zone),
        document_date=date.fromisoformat(case["document_date"]),
        lang=lang,
        timezone=STORY_ZONE,
        staff=None
        if not staff
        else f.StaffMisconduct(t(staff, "department"), t(staff, "post"), staff.get("age")),
        events=events,
        data_sets=data_sets,
        causes=tuple(str(c.get(lang, "")) for c in case.get("causes", [])),
        responses=f.Responses(
            notice_to_individuals=t(responses, "notice_to_individuals"),
            takedown=t(responses, "takedown"),
            police=t(responses, "police"),
        ),
        secondary_damage=t(case, "secondary_damage"),
        measures=measures,
        findings=tuple(str(c.get(lang, "")) for c in case.get("findings", [])),
        recommendations=recommendations,
        committee=committee,
        triage=f.TriageSummary(
            "P1",
            obligations,
            org_kind=org_kind,
        ),
        ppc_stage=f.PpcStage(case.get("ppc_stage", "preliminary")),
        publication=t(case, "publication"),
        other_notes=t(case, "other_notes"),
        persons_total=case.get("persons_total"),
        persons_total_note=t(case, "persons_total_note"),
        **{key: t(case, key) for key in CONTEXT_TEXTS},
    )


# Texts of the story's case that go into the facts for documents as they are.
CONTEXT_TEXTS = (
    "future_actions",
    "discipline",
    "caution",
    "reporter",
    "data_holder",
    "contact_person",
    "occurrence",
    "discovery",
    "medium",
    "direct_cause",
)


def founding_facts(
    lang: str = "ja", path: Path | None = None, as_of: date | None = None
) -> f.CaseFacts:
    """The founding case's public facts in one language, as of `as_of` (default: the story's
    document date): nothing after that day (see `facts.as_of`)."""
    if lang not in f.LANGS:
        raise ValueError(f"lang must be one of {f.LANGS}, not {lang!r}")
    facts = _facts((path or story_path()).resolve(), lang)
    return f.as_of(facts, as_of or facts.document_date)


def _exposure_label(exposure: str, lang: str, vocabulary: Vocabulary) -> str:
    return vocabulary.exposure_public(exposure, as_lang(lang))


# --- the demo case in the database --------------------------------------------------------------


def seed_story(
    session: Session,
    case: Case,
    actor: User,
    *,
    zone: ZoneInfo,
    org_fallback: str,
    path: Path | None = None,
    lang: str = "ja",
) -> None:
    """Write the founding story's facts into `case` through the services, as `actor` (a lead
    of the case) would: organisation details, timeline, data sets (triage runs), facts for
    documents and measures."""
    story = load_story(path)
    text = story.text
    org = story.section("organisation")
    current = snapshot.organisation_settings(session, org_fallback)
    if not (current.phone or current.email):  # never overwrite what an admin set
        snapshot.save_organisation_settings(
            session,
            snapshot.OrganisationSettings(
                name=text(org, "name", lang),
                department=text(org, "department", lang, required=False),
                contact_department=text(org, "contact_department", lang, required=False),
                phone=str(org.get("phone", "")),
                email=str(org.get("email", "")),
                public_body=bool(org.get("public_body", True)),
                head=text(org, "head", lang, required=False),
                date_style=str(org.get("date_style", "wareki")),
            ),
        )
    for event in story.section("events"):
        item = validate_event(
            {
                "occurred_at": event["at"],
                "precision": event["precision"],
                "title": text(event, "title", lang),
                "description": text(event, "description", lang, required=False),
                "source": str(event.get("source", "")),
                "category": event.get("category", "event"),
                "visibility": event.get("visibility", "internal"),
            },
            zone,
        )
        add_event(session, case, actor, item)
    vocabulary = story_vocabulary(story.path)
    ids: dict[str, int] = {}
    stated: dict[str, Any] = {}
    for data_set in story.section("data_sets"):
        payload = {
            "name": text(data_set, "name", lang),
            "holder": text(data_set, "holder", lang, required=False),
            "items": list(data_set.get("items", [])),
            "persons": int(data_set["persons"]),
            "persons_estimated": bool(data_set.get("persons_estimated", False)),
            "exposure": str(data_set.get("exposure", "public_internet")),
        }
        row = records.add_dataset(
            session, case, actor, records_validation.read_dataset(payload, vocabulary, zone)
        )
        if data_set.get("key"):
            ids[str(data_set["key"])] = row.id
        overlaps = ids.get(str(data_set.get("overlaps", "")))
        if data_set.get("count") or overlaps:
            stated[str(row.id)] = {"count": data_set.get("count", "exact"), "overlaps": overlaps}
    data = story.section("case")
    persons.set_persons_total(
        session,
        actor,
        case,
        {
            "persons_total": data.get("persons_total"),
            "persons_total_note": text(data, "persons_total_note", lang, required=False),
        },
    )
    _seed_context(session, case, actor, story, zone, lang, stated)
    for measure in story.section("measures"):
        values = documents.validate_measure(
            {
                "title": text(measure, "title", lang),
                "owner": text(measure, "owner", lang, required=False),
                "due": measure.get("due") or None,
                "status": measure.get("status", "planned"),
                "evidence": text(measure, "evidence", lang, required=False),
            }
        )
        documents.save_measure(session, actor, values, case=case)
    session.flush()


def _seed_context(
    session: Session,
    case: Case,
    actor: User,
    story: Story,
    zone: ZoneInfo,
    lang: str,
    stated: dict[str, Any],
) -> None:
    text = story.text
    data = story.section("case")
    staff = data.get("staff") or LineDict()
    responses = data.get("responses") or LineDict()
    committee = story.section("committee")

    def t(node: LineDict, key: str) -> str:
        return text(node, key, lang, required=False)

    documents.save_context(
        session,
        actor,
        case,
        {
            "public_title": text(data, "public_title", lang),
            "public_summary": text(data, "public_summary", lang),
            "causes": [str(c.get(lang, "")) for c in data.get("causes", [])],
            "findings": [str(c.get(lang, "")) for c in data.get("findings", [])],
            "notice_to_individuals": t(responses, "notice_to_individuals"),
            "takedown": t(responses, "takedown"),
            "police": t(responses, "police"),
            "secondary_damage": t(data, "secondary_damage"),
            "publication": t(data, "publication"),
            "other_notes": t(data, "other_notes"),
            "staff_department": t(staff, "department"),
            "staff_post": t(staff, "post"),
            "staff_age": staff.get("age"),
            "ppc_stage": str(data.get("ppc_stage", "preliminary")),
            "first_report_at": _local(data["first_report_at"], zone),
            "first_contact_at": _local(data["first_contact_at"], zone),
            "committee": {
                "name": text(committee, "name", lang),
                "mandate": t(committee, "mandate"),
                "independence": t(committee, "independence"),
                "scope": t(committee, "scope"),
                "method": t(committee, "method"),
                "period_start": str(committee["period_start"]),
                "period_end": str(committee["period_end"]),
                "meetings": [
                    {"day": str(m["day"]), "summary": t(m, "summary")}
                    for m in committee.get("meetings", [])
                ],
                "members": [
                    {
                        "name": text(m, "name", lang),
                        "affiliation": t(m, "affiliation"),
                        "role": t(m, "role"),
                    }
                    for m in committee.get("members", [])
                ],
            },
            "recommendations": [
                {
                    "number": number,
                    "title": t(r, "title"),
                    "text": text(r, "text", lang),
                    "owner": t(r, "owner"),
                    "finding": t(r, "finding"),
                }
                for number, r in enumerate(story.section("recommendations"), start=1)
            ],
            "datasets": stated,
            **{key: t(data, key) for key in CONTEXT_TEXTS},
        },
    )
