"""Tell people about work on a case: a task assigned to them, a mention in a comment or note.

The receivers are connected to ``csirt.cases.signals`` in ``csirt/wiring.py``. Messages are
content-free for sensitive cases (``csirt.notify.messages``): the reference and a link, never
the task's title or the words of the comment. Mail leaves only when the request commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.models import Case, Task
from csirt.cases.need_to_know import can_see
from csirt.documents import approval
from csirt.documents.models import Document
from csirt.notify import service
from csirt.notify.messages import Kind
from csirt.notify.models import Notification

# ``@name`` not preceded by a word character (so ``a@b.jp`` is no mention).
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.\-]{1,64})")
MAX_MENTIONS = 20


def _channel() -> service.Channel | None:
    if not has_app_context() or service.MAILER_KEY not in current_app.extensions:
        return None  # outside an app nothing can be delivered
    return service.channel_for(current_app)


def mentioned_names(text: str) -> list[str]:
    """The distinct ``@username`` names in a text, in order (at most MAX_MENTIONS)."""
    names: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".-")
        if name and name not in names:
            names.append(name)
    return names[:MAX_MENTIONS]


def _tell(
    session: Session, case: Case, users: Iterable[User], kind: str, path: str, actor: Any
) -> list[Notification]:
    """Notify each user who may see the case (never the actor); the in-app rows made."""
    channel = _channel()
    if channel is None:
        return []
    actor_id = getattr(actor, "id", None)
    rows = []
    for user in users:
        if user.id == actor_id or not user.active or not can_see(session, user, case.id):
            continue
        row = service.notify_case(session, channel, user, kind, case, path=path)
        if row is not None:
            rows.append(row)
    return rows


def on_task_assigned(
    sender: Case,
    *,
    session: Session,
    task: Task,
    user_ids: list[int],
    actor: Any = None,
    **_: Any,
) -> None:
    """Receiver of ``task_assigned``: tell each new assignee (not one who assigned themself)."""
    users = session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id))
    path = f"/console/cases/{sender.id}/tasks#task-{task.id}"
    _tell(session, sender, list(users), Kind.TASK_ASSIGNED, path, actor)


def _document_path(document: Document) -> str:
    return f"/console/documents/{document.id}"


def on_approval_requested(
    sender: Document, *, session: Session, approver: User, actor: Any = None, **_: Any
) -> None:
    """Receiver of ``approval_requested``: tell the lead named to approve the document."""
    _tell(session, sender.case, [approver], Kind.APPROVAL_REQUEST, _document_path(sender), actor)


def on_approved(sender: Document, *, session: Session, actor: Any = None, **_: Any) -> None:
    """Receiver of ``approved``: tell the document's creator and the authors of its versions."""
    users = approval.authors(session, sender)
    _tell(session, sender.case, users, Kind.APPROVED, _document_path(sender), actor)


def on_approval_refused(
    sender: Document, *, session: Session, reason: str, actor: Any = None, **_: Any
) -> None:
    """Receiver of ``approval_refused``: tell the document's authors; the lead's reason is shown
    in the app only (the in-app notification keeps it; the mail stays content-free)."""
    users = approval.authors(session, sender)
    rows = _tell(session, sender.case, users, Kind.APPROVAL_REFUSED, _document_path(sender), actor)
    for row in rows:
        row.body = reason


def on_mentioned(
    sender: Case,
    *,
    session: Session,
    text: str,
    path: str,
    actor: Any = None,
    previous: str = "",
    **_: Any,
) -> None:
    """Receiver of ``mentioned``: tell each ``@username`` who may see the case, never the author.

    Unknown names and people who may not see the case are skipped silently: the author learns
    nothing about who exists. An edit tells only names it adds (``previous`` is the old text).
    """
    before = set(mentioned_names(previous))
    names = [name for name in mentioned_names(text) if name not in before]
    if not names:
        return
    users = session.scalars(select(User).where(User.username.in_(names)).order_by(User.id))
    _tell(session, sender, list(users), Kind.MENTION, path, actor)
