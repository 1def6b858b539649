"""Hand-off of a report to a case, through the cases and records services like any fact change."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.roles import CaseRole
from csirt.catalog import Questionnaire
from csirt.db import read_rows
from csirt.intake.base import AnswersInvalidError, IntakeError, record_on_report
from csirt.intake.conflicts import is_conflicted
from csirt.intake.handling import load_visible, open_submission, reporter_wrote_last
from csirt.intake.models import Submission, SubmissionMessage
from csirt.records.validation import MAX_PERSONS, DatasetInput
from csirt.triage import Vocabulary
from csirt.triage.exposure import Exposure

# --- hand-off to a case: through the cases and records services, like any fact change ---------

_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+", re.IGNORECASE)
_CASE_WORDS: dict[str, dict[str, str]] = {
    "received": {"ja": "通報窓口で情報提供を受け付けた", "en": "Report received at the intake"},
    "attached": {
        "ja": "通報窓口で関連する情報提供を受け付けた（後から事案に関連付け）",
        "en": "Related report received at the intake (attached to this case later)",
    },
    "dataset": {"ja": "通報で示された個人データ", "en": "Personal data named in a report"},
}


def _words(key: str, lang: str) -> str:
    return _CASE_WORDS[key]["en" if lang == "en" else "ja"]


def url_given(answers: Mapping[str, Any], questionnaire: Questionnaire | None = None) -> bool:
    """Whether the reporter gave a web address (in a URL-or-place answer, if the form has one)."""
    keys = [f.key for f in questionnaire.fields if f.type == "url_or_text"] if questionnaire else []
    values = [answers.get(k) for k in keys] if keys else list(answers.values())
    return any(isinstance(v, str) and _URL.search(v) for v in values)


def tip_dataset(
    answers: Mapping[str, Any],
    lang: str,
    vocabulary: Vocabulary,
    questionnaire: Questionnaire | None = None,
) -> DatasetInput | None:
    """The data set a report describes, in the UI language; None if it names none.

    Only structured answers are used: the ticked vocabulary items, the persons estimate and
    whether a web address was given (exposure ``public_internet``); never a word of free text.
    """
    raw_items = answers.get("data_items")
    keys = [str(k) for k in raw_items] if isinstance(raw_items, list) else []
    items = tuple(dict.fromkeys(k for k in keys if k in vocabulary))
    raw_persons = answers.get("persons_estimate")
    persons = raw_persons if isinstance(raw_persons, int) and raw_persons > 0 else 0
    persons = min(persons, MAX_PERSONS)
    online = url_given(answers, questionnaire)
    if not items and not persons and not online:
        return None
    language: Literal["ja", "en"] = "en" if lang == "en" else "ja"
    labels = [vocabulary.label(k, language) for k in items[:4]]
    if len(items) > 4:
        labels.append("ほか" if language == "ja" else "more")
    parts = ("・" if language == "ja" else ", ").join(labels)
    count = ""
    if persons:
        count = f"約{persons:,}人" if language == "ja" else f"about {persons:,} persons"
    detail = ("、" if language == "ja" else "; ").join(p for p in (parts, count) if p)
    name = _words("dataset", language)
    if detail:
        name += f"（{detail}）" if language == "ja" else f" ({detail})"
    return DatasetInput(
        name=name[:200],
        holder="",
        items=items,
        persons=persons,
        persons_estimated=True,
        exposure=(Exposure.PUBLIC_INTERNET if online else Exposure.INTERNAL).value,
        exposed_from=None,
        exposed_until=None,
        encrypted=False,
        secondary_damage="",
    )


def _report_event(
    session: Session, case: Any, user: User, submission: Submission, key: str, lang: str
) -> None:
    from csirt.cases.timeline import EventInput, add_event

    add_event(
        session,
        case,
        user,
        EventInput(
            occurred_at=submission.received_at,
            precision="minute",
            title=_words(key, lang),
            source="intake",
            category="report",
        ),
    )


def promote(
    session: Session,
    user: User,
    private: bytes,
    submission_id: int,
    title: str,
    *,
    lang: str = "ja",
    vocabulary: Vocabulary,
    questionnaire: Questionnaire | None = None,
) -> int:
    """Open a case from a report with only structured, non-identifying facts (audited).

    The case is created by the cases service, the report's data set is added by the records
    service (so triage runs, obligations are tracked and a P1/P2 pages the on-call lead), and the
    timeline gets a dated "report received" event. No tip text and no identity enter the case.
    """
    from csirt.cases.creation import create_case
    from csirt.cases.signals import facts_changed
    from csirt.records import service as records

    clean_title = " ".join((title or "").split())[:200]
    if not clean_title:
        raise AnswersInvalidError({"title": "give the case a title"})
    opened = open_submission(session, user, private, submission_id)
    submission, answers = opened.submission, opened.answers
    if submission.case_id is not None:
        raise IntakeError("already linked to a case")
    case = create_case(
        session,
        title=clean_title,
        actor=user,
        aware_at=submission.received_at,
        insider=answers.get("reporter_is_insider") is True,
        involved=submission.involved,
        lang=lang,
    )
    # Linked first: triage reads whether a whistleblower report belongs to the case.
    submission.case_id = case.id
    submission.status = "promoted"
    session.flush()
    record_on_report(session, AuditAction.INTAKE_PROMOTE, user, submission.id, case_id=case.id)
    _report_event(session, case, user, submission, "received", lang)
    dataset = tip_dataset(answers, lang, vocabulary, questionnaire)
    if dataset is not None:
        records.add_dataset(session, case, user, dataset)  # audited; sends facts_changed
    else:
        facts_changed.send(case, session=session, actor=user, reason="report")
    return case.id


def attach_to_case(
    session: Session, user: User, submission_id: int, case_id: int, *, lang: str = "ja"
) -> None:
    """Link a report to a case the officer can see (audited; triage re-runs with the report)."""
    from csirt.cases.errors import CaseNotFoundError
    from csirt.cases.need_to_know import get_case_for
    from csirt.cases.signals import facts_changed

    submission = load_visible(session, user, submission_id)
    if submission.case_id is not None:
        raise IntakeError("already linked to a case")
    try:
        case = get_case_for(session, user, case_id)
    except CaseNotFoundError:
        raise AnswersInvalidError({"case": "no such case"}) from None
    submission.case_id = case.id
    submission.status = "attached"
    session.flush()
    record_on_report(session, AuditAction.INTAKE_ATTACH, user, submission.id, case_id=case.id)
    _report_event(session, case, user, submission, "attached", lang)
    # A linked whistleblower report starts the reporter's clocks on the case.
    facts_changed.send(case, session=session, actor=user, reason="report")


@dataclass(frozen=True)
class ReportState:
    """What a case's members may know about a linked report: never its content."""

    id: int
    received_at: datetime
    status: str
    whistleblower: bool
    last_reply_at: datetime | None
    reply_waiting: bool


def may_know_reports(session: Session, user: User, case_id: int) -> bool:
    """Intake officers, the case's leads and leads may know that a case has reports."""
    from csirt.auth.permissions import Role
    from csirt.cases.models import CaseMember

    if user.can(Permission.INTAKE_READ) or user.has_role(Role.LEAD):
        return True
    lead = session.scalar(
        select(CaseMember.id).where(
            CaseMember.case_id == case_id,
            CaseMember.user_id == user.id,
            CaseMember.role == CaseRole.LEAD,
        )
    )
    return lead is not None


# A case's reports with what its page shows of them, the last reply and whether it waits for an
# answer in the same statement; built once, the case bound at execution.
_CASE_REPORTS = (
    select(
        Submission.id,
        Submission.received_at,
        Submission.status,
        Submission.whistleblower,
        Submission.involved,
        select(func.max(SubmissionMessage.created_at))
        .where(
            SubmissionMessage.submission_id == Submission.id,
            SubmissionMessage.from_reporter.is_(True),
        )
        .scalar_subquery(),
        reporter_wrote_last(),
    )
    .where(Submission.case_id == bindparam("case_id"))
    .order_by(Submission.id)
)


def case_reports(session: Session, user: User, case_id: int) -> list[ReportState]:
    """The reports linked to a case, with status and replies, for those who may know of them.

    Reports that name the user as involved are left out; nobody else learns anything here.
    Only the columns shown are read: never a sealed one.
    """
    if not may_know_reports(session, user, case_id):
        return []
    return [
        ReportState(
            id=report_id,
            received_at=received_at,
            status=status,
            whistleblower=whistleblower,
            last_reply_at=last_reply_at,
            reply_waiting=bool(waiting),
        )
        for report_id, received_at, status, whistleblower, involved, last_reply_at, waiting in (
            read_rows(session, _CASE_REPORTS, {"case_id": case_id})
        )
        if not is_conflicted(user, involved)
    ]
