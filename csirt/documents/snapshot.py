"""The ONE place that turns a case in the database into `CaseFacts` for the builders.

Only what may be public goes in: timeline events marked public, the data sets with their item
labels and counts, the case's document context (causes, findings, responses, committee), its
measures and the triage obligations. Internal events, notes, members and the reporter never do.
The same module collects what the public-text guard must refuse for the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from csirt.auth.models import Setting, User
from csirt.cases.models import AffectedDataset, Case, CaseMember, TimelineEvent, Visibility
from csirt.db import utcnow
from csirt.documents import facts as f
from csirt.documents.builders._common import OBLIGATION_LABELS
from csirt.documents.guard import ForbiddenTerms, forbidden_for_case
from csirt.documents.models import DocumentContext, PreventionMeasure
from csirt.intake.models import Submission, SubmissionMessage
from csirt.lang import as_lang
from csirt.triage.models import Obligation
from csirt.triage.service import latest_run
from csirt.triage.vocabulary import Vocabulary, load_vocabulary
from csirt.yamlfile import playbooks_dir

ORGANISATION_SETTING = "documents.organisation"
DATE_STYLES = ("wareki", "seireki")
# What a document calls a case whose public title is not written yet: never the internal title.
UNTITLED = ("個人情報の取扱いに係る事案について", "An incident involving personal data")
# When each regime's duties came into force for each kind of organisation: a duty is judged
# only for an incident the organisation became aware of on or after that day (令和2年改正法:
# 2022-04-01 for businesses and 行政機関; 令和3年改正法: 2023-04-01 for local governments;
# 改正公益通報者保護法: 2022-06-01). Regimes not listed are judged always.
IN_FORCE: dict[tuple[str, str], date] = {
    ("appi", "business"): date(2022, 4, 1),
    ("appi", "local_government"): date(2023, 4, 1),
    ("mynumber", "business"): date(2022, 4, 1),
    ("mynumber", "local_government"): date(2022, 4, 1),
    ("whistleblower_jp", "business"): date(2022, 6, 1),
    ("whistleblower_jp", "local_government"): date(2022, 6, 1),
}
REGIME_OF_KIND = {
    "ppc_preliminary": "appi",
    "ppc_final": "appi",
    "notify_individuals": "appi",
    "individual_notice": "appi",
    "mynumber_preliminary": "mynumber",
    "mynumber_report": "mynumber",
    "reporter_notice": "whistleblower_jp",
    "wb_investigation_notice": "whistleblower_jp",
    "wb_outcome_notice": "whistleblower_jp",
}
COUNT_FORMS = ("exact", "approx", "max")

# The free texts of a case's document context ("facts for documents"): short ones (a name, a
# title) and long ones (paragraphs).
SHORT_TEXTS = (
    "public_title",
    "staff_department",
    "staff_post",
    "reporter",
    "data_holder",
    "contact_person",
)
LONG_TEXTS = (
    "public_summary",
    "notice_to_individuals",
    "takedown",
    "police",
    "secondary_damage",
    "publication",
    "other_notes",
    "caution",
    "discipline",
    "future_actions",
    "occurrence",
    "discovery",
    "medium",
    "direct_cause",
)
CONTEXT_TEXTS = (*SHORT_TEXTS, *LONG_TEXTS)


def in_force(regime: str, org_kind: str, aware: date) -> bool:
    """Whether the regime's duties applied to an incident the organisation knew of on `aware`."""
    return aware >= IN_FORCE.get((regime, org_kind), date.min)


@dataclass(frozen=True)
class OrganisationSettings:
    """The organisation's public details as an admin set them (Documents -> Settings)."""

    name: str
    department: str
    contact_department: str
    phone: str
    email: str
    public_body: bool
    head: str = ""
    date_style: str = "wareki"
    caution: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON for the settings row."""
        return asdict(self)


def organisation_settings(session: Session, default_name: str) -> OrganisationSettings:
    """The saved organisation details, or defaults named after the deployment."""
    row = session.get(Setting, ORGANISATION_SETTING)
    value: dict[str, Any] = row.value if row is not None and isinstance(row.value, dict) else {}
    return OrganisationSettings(
        name=str(value.get("name") or default_name),
        department=str(value.get("department", "")),
        contact_department=str(value.get("contact_department", "")),
        phone=str(value.get("phone", "")),
        email=str(value.get("email", "")),
        public_body=bool(value.get("public_body", True)),
        head=str(value.get("head", "")),
        date_style=str(value.get("date_style") or "wareki"),
        caution=str(value.get("caution", "")),
    )


def save_organisation_settings(session: Session, settings: OrganisationSettings) -> None:
    """Store the organisation details."""
    row = session.get(Setting, ORGANISATION_SETTING)
    if row is None:
        session.add(Setting(key=ORGANISATION_SETTING, value=settings.as_dict()))
    else:
        row.value = settings.as_dict()


def get_context(session: Session, case_id: int) -> DocumentContext:
    """The case's document context (a new, unsaved, empty one if none was written yet)."""
    context = session.get(DocumentContext, case_id)
    if context is None:
        context = DocumentContext(
            case_id=case_id,
            causes=[],
            findings=[],
            ppc_stage=f.PpcStage.PRELIMINARY.value,
            recommendations=[],
            datasets={},
            contact={},
            **dict.fromkeys(CONTEXT_TEXTS, ""),
        )
    return context


def _organisation(settings: OrganisationSettings, override: dict[str, Any]) -> f.Organisation:
    """The organisation, its contact replaced field by field by the case's overrides."""
    return f.Organisation(
        name=settings.name,
        department=settings.department,
        contact=f.ContactPoint(
            department=str(override.get("department") or "")
            or settings.contact_department
            or settings.department,
            phone=str(override.get("phone") or "") or settings.phone,
            email=str(override.get("email") or "") or settings.email,
        ),
        public_body=settings.public_body,
        head=settings.head,
        date_style=settings.date_style if settings.date_style in DATE_STYLES else "wareki",
        caution=settings.caution,
    )


def public_events(session: Session, case_id: int) -> list[TimelineEvent]:
    """The case's timeline events marked public, in time order."""
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.case_id == case_id,
                TimelineEvent.visibility == Visibility.PUBLIC.value,
            )
            .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
        )
    )


def _event(row: TimelineEvent) -> f.PublicEvent:
    try:
        precision = f.Precision(row.precision)
    except ValueError:
        precision = f.Precision.MINUTE
    return f.PublicEvent(row.occurred_at, precision, row.title, row.description or "")


def _exposure(row: AffectedDataset, lang: str, zone: ZoneInfo, vocabulary: Vocabulary) -> str:
    from csirt.documents.blocks import format_date

    text = vocabulary.exposure_public(row.exposure, as_lang(lang))
    if row.exposed_from is None:
        return text
    start = format_date(row.exposed_from.astimezone(zone).date(), lang)
    end = format_date(row.exposed_until.astimezone(zone).date(), lang) if row.exposed_until else ""
    span = f"{start}〜{end}" if lang == "ja" else f"{start} – {end}".rstrip(" –")
    return f"{text}（{span}）" if lang == "ja" else f"{text} ({span})"


def public_datasets(session: Session, case_id: int) -> list[AffectedDataset]:
    """The case's affected data sets (their names, items and counts are public facts)."""
    return list(
        session.scalars(
            select(AffectedDataset)
            .where(AffectedDataset.case_id == case_id)
            .order_by(AffectedDataset.id)
        )
    )


def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, for callers that were given none (the app passes its catalog's)."""
    return load_vocabulary(playbooks_dir() / "vocabulary.yaml")


def _data_set(
    row: AffectedDataset,
    lang: str,
    zone: ZoneInfo,
    vocabulary: Vocabulary,
    stated: dict[str, Any],
    names: dict[int, str],
) -> f.DataSet:
    items = tuple(
        f.DataItem(key, vocabulary.label(key, "ja"), vocabulary.label(key, "en"))
        for key in row.items or []
        if key in vocabulary
    )
    sensitive = vocabulary.sensitive_keys()
    form = stated.get(str(row.id)) or {}
    count = form.get("count") if form.get("count") in COUNT_FORMS else None
    overlaps = form.get("overlaps")
    return f.DataSet(
        persons_max=count == "max",
        overlaps=names.get(overlaps, "") if isinstance(overlaps, int) else "",
        sensitive_items=tuple(
            vocabulary.label(key, "ja" if lang == "ja" else "en")
            for key in row.items or []
            if key in sensitive
        ),
        name=row.name,
        holder_department=row.holder or "",
        items=items,
        persons=row.persons,
        persons_estimated=row.persons_estimated if count is None else count == "approx",
        exposure=_exposure(row, lang, zone, vocabulary),
    )


def case_measures(session: Session, case_id: int) -> list[PreventionMeasure]:
    """The case's own measures and the organisation-wide ones, oldest first."""
    return list(
        session.scalars(
            select(PreventionMeasure)
            .where(or_(PreventionMeasure.case_id == case_id, PreventionMeasure.case_id.is_(None)))
            .order_by(PreventionMeasure.id)
        )
    )


def _measure(row: PreventionMeasure) -> f.Measure:
    return f.Measure(
        title=row.title,
        owner=row.owner,
        due=row.due,
        status=f.MeasureStatus(row.status),
        evidence=row.evidence,
    )


def _committee(data: dict[str, Any] | None, today: date) -> f.Committee | None:
    if not data or not data.get("name"):
        return None
    members = tuple(
        f.CommitteeMember(
            str(m.get("name", "")), str(m.get("affiliation", "")), str(m.get("role", ""))
        )
        for m in data.get("members", [])
    )
    return f.Committee(
        name=str(data["name"]),
        mandate=str(data.get("mandate", "")),
        members=members,
        independence=str(data.get("independence", "")),
        scope=str(data.get("scope", "")),
        method=str(data.get("method", "")),
        period_start=parse_date(data.get("period_start")) or today,
        period_end=parse_date(data.get("period_end")) or today,
        meetings=tuple(
            f.CommitteeMeeting(day, str(m.get("summary", "")))
            for m in data.get("meetings", [])
            if isinstance(m, dict) and (day := parse_date(m.get("day"))) is not None
        ),
    )


def parse_date(value: object) -> date | None:
    """An ISO date from JSON, or None."""
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _recommendations(rows: Iterable[dict[str, Any]]) -> tuple[f.Recommendation, ...]:
    return tuple(
        f.Recommendation(
            number=int(r.get("number", i)),
            text=str(r.get("text", "")),
            owner=str(r.get("owner", "")),
            title=str(r.get("title", "")),
            finding=str(r.get("finding", "")),
        )
        for i, r in enumerate(rows, start=1)
    )


def _triage(session: Session, case: Case, lang: str, public_body: bool) -> f.TriageSummary:
    run = latest_run(session, case)
    result = (run.result or {}).get(lang, {}) if run is not None else {}
    org_kind = str((run.facts or {}).get("org_kind", "")) if run is not None else ""
    org_kind = org_kind or ("local_government" if public_body else "business")
    aware = (case.aware_at or case.created_at).date()
    rows = session.scalars(
        select(Obligation).where(Obligation.case_id == case.id).order_by(Obligation.due_at)
    ).all()
    obligations = tuple(
        f.Obligation(
            kind=row.kind,
            due=row.due_at,
            done_at=row.done_at,
            label="" if row.kind in OBLIGATION_LABELS else (row.article or row.kind),
            regime=row.regime,
            in_force=in_force(row.regime, org_kind, aware),
        )
        for row in rows
        # A protection window (wb_protection_window) is no duty to be done on time.
        if row.status != "not_applicable" and row.deadline != "window"
    )
    return f.TriageSummary(
        case.priority,
        obligations,
        reportable=bool(result.get("reportable", False)),
        reasons=tuple(str(r) for r in result.get("reasons", []) if r),
        org_kind=org_kind,
    )


def _intake_dates(session: Session, case_id: int) -> tuple[datetime | None, datetime | None]:
    """When the first report about the case arrived, and when staff first wrote back."""
    rows = session.scalars(select(Submission).where(Submission.case_id == case_id)).all()
    received = [row.received_at for row in rows if row.received_at is not None]
    contacts: list[datetime] = []
    message = SubmissionMessage
    if rows:
        ids = [row.id for row in rows]
        contacts = list(
            session.scalars(
                select(message.created_at).where(
                    message.submission_id.in_(ids), message.from_reporter.is_(False)
                )
            )
        )
    return (min(received) if received else None), (min(contacts) if contacts else None)


def build_case_facts(
    session: Session,
    case: Case,
    *,
    lang: str,
    org_name: str,
    timezone: str = "Asia/Tokyo",
    today: date | None = None,
    vocabulary: Vocabulary | None = None,
) -> f.CaseFacts:
    """Everything about the case that may appear in a public document as of `today` (default:
    the current day in `timezone`), and nothing else (see `facts.as_of`)."""
    zone = ZoneInfo(timezone)
    document_date = today or utcnow().astimezone(zone).date()
    context = get_context(session, case.id)
    settings = organisation_settings(session, org_name)
    datasets = public_datasets(session, case.id)
    intake_first, intake_contact = _intake_dates(session, case.id)
    first_report = context.first_report_at or intake_first
    staff = None
    if context.staff_department or context.staff_post:
        staff = f.StaffMisconduct(context.staff_department, context.staff_post, context.staff_age)
    secondary = context.secondary_damage or "\n".join(
        d.secondary_damage for d in datasets if d.secondary_damage
    )
    names = {d.id: d.name for d in datasets}
    stated = context.datasets or {}
    vocab = vocabulary or default_vocabulary()
    facts = f.CaseFacts(
        organisation=_organisation(settings, context.contact or {}),
        case_reference=case.reference,
        # Never the internal title or summary: only what someone wrote for the public.
        title=context.public_title or UNTITLED[0 if lang == "ja" else 1],
        summary=context.public_summary,
        aware_at=case.aware_at or case.created_at,
        first_report_at=first_report,
        document_date=document_date,
        lang=lang,
        timezone=timezone,
        first_contact_with_reporter_at=context.first_contact_at or intake_contact,
        staff=staff,
        events=tuple(_event(e) for e in public_events(session, case.id)),
        data_sets=tuple(_data_set(d, lang, zone, vocab, stated, names) for d in datasets),
        causes=tuple(context.causes or ()),
        responses=f.Responses(
            notice_to_individuals=context.notice_to_individuals,
            takedown=context.takedown,
            police=context.police,
        ),
        secondary_damage=secondary,
        measures=tuple(_measure(m) for m in case_measures(session, case.id)),
        findings=tuple(context.findings or ()),
        recommendations=_recommendations(context.recommendations or []),
        committee=_committee(context.committee, document_date),
        triage=_triage(session, case, lang, settings.public_body),
        ppc_stage=f.PpcStage(context.ppc_stage or f.PpcStage.PRELIMINARY.value),
        publication=context.publication,
        other_notes=context.other_notes,
        persons_total=case.persons_total,
        persons_total_note=case.persons_total_note or "",
        caution=context.caution or "",
        discipline=context.discipline or "",
        future_actions=context.future_actions or "",
        reporter=context.reporter or "",
        data_holder=context.data_holder or "",
        contact_person=context.contact_person or "",
        occurrence=context.occurrence or "",
        discovery=context.discovery or "",
        medium=context.medium or "",
        direct_cause=context.direct_cause or "",
    )
    return f.as_of(facts, document_date)


def _user_terms(user: User) -> list[str]:
    # A username is a term only when it looks like a personal handle (t.yamada, yamada2): a
    # plain word (pr, committee, lead) names a role, and the display name covers the person.
    handle = user.username if any(not ch.isalpha() for ch in user.username) else ""
    return [t for t in (handle, user.display_name, user.email or "") if t]


def sealed_terms(session: Session, case: Case) -> list[str]:
    """Names and contacts from the case's internal data, which no public text may contain.

    Members' usernames, display names and e-mail addresses; people named as involved (users by
    username, plus the names the intake recorded as involved); the actors of internal events.
    Department names in `Case.involved` are not names of people and stay allowed.
    """
    terms: list[str] = []
    members = session.scalars(
        select(User)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case.id)
    ).all()
    for user in members:
        terms += _user_terms(user)
    involved = [name for name in case.involved or [] if name]
    if involved:
        for user in session.scalars(select(User).where(User.username.in_(involved))):
            terms += _user_terms(user)
    for names in session.scalars(select(Submission.involved).where(Submission.case_id == case.id)):
        terms += [str(n) for n in names or [] if n]
    actors = session.scalars(
        select(TimelineEvent.actor).where(
            TimelineEvent.case_id == case.id,
            TimelineEvent.visibility != Visibility.PUBLIC.value,
            TimelineEvent.actor != "",
        )
    )
    terms += list(actors)
    return sorted(set(terms))


def forbidden_terms(session: Session, case: Case, facts: f.CaseFacts) -> ForbiddenTerms:
    """What the guard must refuse in this case's public texts (its own contact is allowed)."""
    allowed = {facts.organisation.contact.phone, facts.organisation.contact.email}
    terms = [t for t in sealed_terms(session, case) if t not in allowed]
    return forbidden_for_case(
        sealed_terms=terms,
        public_phone=facts.organisation.contact.phone,
        public_email=facts.organisation.contact.email,
    )


def fact_texts(facts: f.CaseFacts) -> dict[str, str]:
    """The texts the builders take straight from the facts (tables, title), for the guard."""
    return {
        "title": "\n".join((facts.title, facts.summary)),
        "context": "\n".join(
            (
                facts.caution,
                facts.discipline,
                facts.future_actions,
                facts.reporter,
                facts.data_holder,
                facts.contact_person,
                facts.occurrence,
                facts.discovery,
                facts.medium,
                facts.direct_cause,
                facts.persons_total_note,
            )
        ),
        "timeline": "\n".join(f"{e.title}\n{e.description}" for e in facts.events),
        "data_sets": "\n".join(
            f"{d.name}\n{d.holder_department}\n{d.exposure}" for d in facts.data_sets
        ),
        "measures": "\n".join(f"{m.title}\n{m.owner}\n{m.evidence}" for m in facts.measures),
        "recommendations": "\n".join(
            f"{r.title}\n{r.text}\n{r.owner}" for r in facts.recommendations
        ),
        "committee": ""
        if facts.committee is None
        else "\n".join(
            [facts.committee.name, *(f"{m.name} {m.affiliation}" for m in facts.committee.members)]
        ),
    }
