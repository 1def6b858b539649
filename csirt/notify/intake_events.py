"""Tell staff about reports at the intake: a new tip, a reporter's reply, an answer date ahead.

The receivers are connected to ``csirt.intake.signals`` in ``csirt/wiring.py``; the reminders
run from ``csirt reminders send``. Every message names the report's number, a date and a link,
never a word of what the reporter wrote, a receipt or anything about who they are. In-app rows
carry the hour only, like the report itself, so that they cannot be matched to a network log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.models import Case, CaseMember
from csirt.cases.roles import CaseRole
from csirt.db import utcnow
from csirt.intake.conflicts import is_conflicted
from csirt.intake.models import Submission, SubmissionMessage
from csirt.notify import service
from csirt.notify.messages import Kind, Text, case_report_reply_text, format_due, report_text

Clock = Callable[[], datetime]
# Remind this long before each date owed to a reporter (the 20-day notice, the acknowledgement
# target, the EU 7-day acknowledgement and 3-month feedback).
REPORT_WINDOW_HOURS = 72
REPORT_DATES = ("ack_due", "answer_due", "feedback_due")
# Audit actions that make an officer one of those handling a report.
HANDLING_ACTIONS = (AuditAction.INTAKE_OPEN.value, AuditAction.INTAKE_REPLY.value)


def report_path(submission_id: int) -> str:
    """The console page of a report (opening it still needs the officer's key)."""
    return f"/console/intake/{submission_id}"


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _channel() -> service.Channel | None:
    if not has_app_context() or service.MAILER_KEY not in current_app.extensions:
        return None  # outside an app nothing can be delivered
    return service.channel_for(current_app)


def intake_officers(session: Session, submission: Submission) -> list[User]:
    """Active intake officers who may see this report (with or without a key pair yet)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
    return [
        u
        for u in users
        if u.can(Permission.INTAKE_READ) and not is_conflicted(u, submission.involved)
    ]


def handlers(session: Session, submission: Submission) -> list[User]:
    """The officers handling a report (who answered or opened it); else every officer."""
    allowed = intake_officers(session, submission)
    replied = set(
        session.scalars(
            select(SubmissionMessage.author_id).where(
                SubmissionMessage.submission_id == submission.id,
                SubmissionMessage.author_id.is_not(None),
            )
        )
    )
    opened = set(
        session.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.object_type == "submission",
                AuditEvent.object_id == str(submission.id),
                AuditEvent.action.in_(HANDLING_ACTIONS),
            )
        )
    )
    handling = [u for u in allowed if u.id in replied | opened]
    return handling or allowed


def case_leads(session: Session, case_id: int, involved: Iterable[str]) -> list[User]:
    """Active leads of a case who are not named as involved in the report."""
    named = list(involved)
    rows = session.scalars(
        select(User)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(
            CaseMember.case_id == case_id, CaseMember.role == CaseRole.LEAD, User.active.is_(True)
        )
        .order_by(User.id)
        .distinct()
    )
    return [u for u in rows if not is_conflicted(u, named)]


def _deliver(
    session: Session,
    channel: service.Channel,
    user: User,
    kind: str,
    mail: Text,
    in_app: Text,
    *,
    path: str,
    moment: datetime,
    case_id: int | None = None,
) -> None:
    """The mail (with the absolute link) and the in-app row (its path only, at the hour)."""
    service.deliver(
        session,
        channel,
        user,
        kind,
        mail,
        link=path,
        case_id=case_id,
        now=_hour(moment),
        in_app_text=in_app,
    )


def _tell(
    session: Session,
    channel: service.Channel,
    user: User,
    kind: str,
    submission: Submission,
    moment: datetime,
    *,
    what: str = "",
    due: str = "",
) -> None:
    path = report_path(submission.id)
    lang = user.lang or channel.settings.default_lang
    url = channel.settings.url(path)
    mail = report_text(kind, submission.id, url, lang, what=what, due=due)
    in_app = report_text(kind, submission.id, path, lang, what=what, due=due)
    _deliver(session, channel, user, kind, mail, in_app, path=path, moment=moment)


# --- receivers (csirt/wiring.py) ------------------------------------------------------------


def on_report_received(sender: Submission, *, session: Session, **_: Any) -> None:
    """Receiver of ``report_received``: tell every intake officer who may see the report."""
    channel = _channel()
    if channel is None:
        return
    moment = utcnow()
    for user in intake_officers(session, sender):
        _tell(session, channel, user, Kind.REPORT_NEW, sender, moment)


def on_reporter_replied(sender: Submission, *, session: Session, **_: Any) -> None:
    """Receiver of ``reporter_replied``: tell its officers and, once linked, its case's lead."""
    channel = _channel()
    if channel is None:
        return
    moment = utcnow()
    told = set()
    for user in handlers(session, sender):
        _tell(session, channel, user, Kind.REPORT_REPLY, sender, moment)
        told.add(user.id)
    if sender.case_id is None:
        return
    case = session.get(Case, sender.case_id)
    if case is None:
        return
    involved = [*(case.involved or []), *(sender.involved or [])]
    for user in case_leads(session, case.id, involved):
        if user.id in told:
            continue
        path = f"/console/cases/{case.id}#reports"
        lang = user.lang or channel.settings.default_lang
        ref = service.case_ref(case)
        _deliver(
            session,
            channel,
            user,
            Kind.REPORT_REPLY,
            case_report_reply_text(ref, channel.settings.url(path), lang),
            case_report_reply_text(ref, path, lang),
            path=path,
            moment=moment,
            case_id=case.id,
        )


# --- reminders before the dates owed to reporters (``csirt reminders send``) ----------------


def _dates(submission: Submission) -> list[tuple[str, datetime]]:
    dates: list[tuple[str, datetime]] = []
    if submission.answered_at is None:
        dates.append(("ack_due", submission.ack_due))
    if submission.answer_due != submission.ack_due:
        dates.append(("answer_due", submission.answer_due))
    if submission.feedback_due is not None:
        dates.append(("feedback_due", submission.feedback_due))
    return dates


def send_report_due(
    session: Session,
    channel: service.Channel,
    *,
    window_hours: int = REPORT_WINDOW_HOURS,
    now: Clock = utcnow,
) -> int:
    """Remind the officers handling a report of each date owed to its reporter, once each.

    The key ``report:<id>:<date kind>:<due>`` (unique per person in ``sent_reminders``) makes a
    second run, or a run on another node, send nothing again.
    """
    moment = now()
    horizon = moment + timedelta(hours=window_hours)
    rows = session.scalars(
        select(Submission)
        .where(
            or_(
                Submission.ack_due.between(moment, horizon),
                Submission.answer_due.between(moment, horizon),
                Submission.feedback_due.between(moment, horizon),
            )
        )
        .order_by(Submission.id)
    )
    sent = 0
    for submission in rows:
        for what, due_at in _dates(submission):
            if not moment < due_at <= horizon:
                continue
            key = f"report:{submission.id}:{what}:{due_at.isoformat()}"
            for user in handlers(session, submission):
                if service.already_sent(session, key, user.id):
                    continue
                _tell(
                    session,
                    channel,
                    user,
                    Kind.REPORT_DUE,
                    submission,
                    moment,
                    what=what,
                    due=format_due(due_at, channel.settings.timezone),
                )
                service.record_sent(session, key, user.id, moment)
                sent += 1
    return sent
