"""Reminders to the owners of recurrence-prevention measures before and after the due date
(``csirt measures remind``, daily): once per measure, due date and stage, content-free — the
measure's number and due date and a link, never its title or the case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.db import utcnow
from csirt.documents.models import MeasureStatus, PreventionMeasure
from csirt.lang import as_lang
from csirt.notify import service as notify
from csirt.notify.messages import Kind, Text

BEFORE_DAYS = 14
# Measure reminders count as task reminders in each person's e-mail preferences.
KIND = Kind.TASK_DUE

_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "ja": {
        "soon": (
            "【期限間近】再発防止策 #{id}（期限 {due}）",
            "担当の再発防止策 #{id} の期限（{due}）が近づいています。実施状況を更新してください。",
        ),
        "overdue": (
            "【期限超過】再発防止策 #{id}（期限 {due}）",
            "担当の再発防止策 #{id} は期限（{due}）を過ぎています。"
            "実施状況を更新してください（公開ページにも期限超過と表示されます）。",
        ),
    },
    "en": {
        "soon": (
            "[due soon] Prevention measure #{id} (due {due})",
            "Your prevention measure #{id} is due on {due}. Please update its progress.",
        ),
        "overdue": (
            "[overdue] Prevention measure #{id} (due {due})",
            "Your prevention measure #{id} was due on {due}. Please update its progress (the "
            "public page says it is overdue).",
        ),
    },
}
_CLOSING = {
    "ja": "内容はコンソールで確認してください（このメールには措置の内容を記載していません）。",
    "en": "See the console for details (this message carries no content of the measure).",
}


def reminder_text(measure_id: int, due: date, stage: str, link: str, lang: str | None) -> Text:
    """The measure's number, its due date and a link only."""
    words = _TEXT[as_lang(lang)]
    subject, first = words[stage]
    values = {"id": measure_id, "due": due.isoformat()}
    body = "\n".join([first.format(**values), "", link, "", _CLOSING[as_lang(lang)]])
    return Text(subject.format(**values), body)


@dataclass(frozen=True)
class Reminded:
    soon: int = 0
    overdue: int = 0


def _owners(session: Session, measure: PreventionMeasure) -> list[User]:
    """Who answers for the measure: the person who recorded it (active)."""
    if measure.created_by_id is None:
        return []
    user = session.get(User, measure.created_by_id)
    return [user] if user is not None and user.active else []


def send_measure_reminders(
    session: Session,
    channel: notify.Channel,
    today: date,
    *,
    before_days: int = BEFORE_DAYS,
    now: datetime | None = None,
) -> Reminded:
    """Remind the owners of open measures due within ``before_days`` or overdue, once each."""
    moment = now or utcnow()
    rows = session.scalars(
        select(PreventionMeasure)
        .where(
            PreventionMeasure.status != MeasureStatus.DONE.value,
            PreventionMeasure.due.is_not(None),
            PreventionMeasure.due <= today + timedelta(days=before_days),
        )
        .order_by(PreventionMeasure.due, PreventionMeasure.id)
    )
    counts = {"soon": 0, "overdue": 0}
    for measure in rows:
        assert measure.due is not None
        stage = "overdue" if measure.due < today else "soon"
        key = f"measure:{measure.id}:{measure.due.isoformat()}:{stage}"
        path = f"/console/measures/{measure.id}"
        for user in _owners(session, measure):
            if notify.already_sent(session, key, user.id):
                continue
            lang = user.lang or channel.settings.default_lang
            text = reminder_text(measure.id, measure.due, stage, channel.settings.url(path), lang)
            notify.deliver(
                session, channel, user, KIND, text, link=path, case_id=measure.case_id, now=moment
            )
            notify.record_sent(session, key, user.id, moment)
            counts[stage] += 1
    return Reminded(counts["soon"], counts["overdue"])
