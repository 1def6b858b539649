"""Outgoing webhooks: configured by an admin, fed by case events, signed, retried with back-off.

A reaction (``csirt/wiring.py``) turns each event into one delivery row per subscribed webhook,
in the transaction of its cause (a rolled-back cause sends nothing). ``csirt webhooks send``
(cron, every minute) posts the due deliveries: the body is JSON, signed with the webhook's
secret (``X-Csirt-Signature: sha256=<hex HMAC-SHA256 of the body>``, with ``X-Csirt-Timestamp``
and ``X-Csirt-Delivery``); a failure is tried again after 30 s, 1 min, 2 min, ... up to an hour,
:data:`MAX_ATTEMPTS` times in all. The same run first enqueues obligations falling due within a
day (once per obligation and due date: the unique event key).

A payload carries the case's id, reference, title and priority only when the case's TLP is at
most the webhook's ``max_tlp``; never anything from the intake (reporter, report, identity).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import nacl.exceptions
import nacl.secret
from flask import Flask, current_app, has_app_context
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases.models import Case, Phase
from csirt.db import Page, get_db, get_or_raise, id_page, utcnow
from csirt.documents.models import Document
from csirt.triage.models import Obligation
from csirt.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

log = logging.getLogger(__name__)


class WebhookError(Exception):
    """Base of the webhook errors."""


class WebhookNotFoundError(WebhookError):
    """No such webhook."""


class WebhookValidationError(WebhookError):
    """Bad input: ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


CASE_CREATED = "case.created"
PRIORITY_CHANGED = "case.priority_changed"
OBLIGATION_DUE_SOON = "obligation.due_soon"
DOCUMENT_APPROVED = "document.approved"
EVENTS = (CASE_CREATED, PRIORITY_CHANGED, OBLIGATION_DUE_SOON, DOCUMENT_APPROVED)
TLP_ORDER = ("clear", "green", "amber", "amber+strict", "red")
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=2)  # a claimed delivery is left alone this long while it is posted
QUEUED_KEY = "csirt.webhooks.queued"
DUE_SOON_HOURS = 24
MIN_SECRET = 16
TIMEOUT_S = 10
BATCH = 50


@dataclass(frozen=True)
class WebhookInput:
    name: str
    url: str
    events: Sequence[str]
    max_tlp: str
    secret: str | None = None  # None on an edit: keep the current one
    active: bool = True


# --- the signing secret, sealed at rest ------------------------------------------------------


def _box(secret_key: str) -> nacl.secret.SecretBox:
    key = hashlib.blake2b(
        secret_key.encode(), key=b"csirt webhook secret", digest_size=nacl.secret.SecretBox.KEY_SIZE
    ).digest()
    return nacl.secret.SecretBox(key)


def seal_secret(secret_key: str, secret: str) -> bytes:
    return bytes(_box(secret_key).encrypt(secret.encode()))


def open_secret(secret_key: str, sealed: bytes) -> bytes:
    """The signing secret (WebhookError if CSIRT_SECRET_KEY changed since it was sealed)."""
    try:
        return bytes(_box(secret_key).decrypt(sealed))
    except nacl.exceptions.CryptoError:
        raise WebhookError("the secret cannot be opened with this CSIRT_SECRET_KEY") from None


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Csirt-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


# --- configuration (admin) --------------------------------------------------------------------


def _check(data: WebhookInput, *, new: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > 100:
        errors["name"] = "must be at most 100 characters"
    parts = urlsplit(data.url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(data.url) > 500:
        errors["url"] = "must be an http:// or https:// URL (at most 500 characters)"
    if not data.events:
        errors["events"] = "choose at least one event"
    elif set(data.events) - set(EVENTS):
        errors["events"] = "must be among " + ", ".join(EVENTS)
    if data.max_tlp not in TLP_ORDER:
        errors["max_tlp"] = "must be one of " + ", ".join(TLP_ORDER)
    if data.secret is not None or new:
        secret = data.secret or ""
        if len(secret) < MIN_SECRET or len(secret) > 200:
            errors["secret"] = f"must be {MIN_SECRET} to 200 characters"
    return errors


def _record(session: Session, action: AuditAction, hook: Webhook, actor: User | None) -> None:
    what = {"url": hook.url, "events": list(hook.events), "max_tlp": hook.max_tlp}
    where: dict[str, Any] = {"object_type": "webhook", "object_id": hook.id}
    audit.record(session, action, actor=audit.actor_of(actor), details=what, **where)


def create_webhook(
    session: Session, data: WebhookInput, actor: User, *, secret_key: str
) -> Webhook:
    """A new webhook (audited; the secret is stored sealed)."""
    errors = _check(data, new=True)
    if errors:
        raise WebhookValidationError(errors)
    hook = Webhook(
        name=data.name.strip(),
        url=data.url.strip(),
        secret_sealed=seal_secret(secret_key, data.secret or ""),
        events=[e for e in EVENTS if e in data.events],
        max_tlp=data.max_tlp,
        active=data.active,
        created_by_id=actor.id,
    )
    session.add(hook)
    session.flush()
    _record(session, AuditAction.WEBHOOK_CREATE, hook, actor)
    return hook


def update_webhook(
    session: Session, hook: Webhook, data: WebhookInput, actor: User, *, secret_key: str
) -> Webhook:
    errors = _check(data, new=False)
    if errors:
        raise WebhookValidationError(errors)
    hook.name = data.name.strip()
    hook.url = data.url.strip()
    hook.events = [e for e in EVENTS if e in data.events]
    hook.max_tlp = data.max_tlp
    hook.active = data.active
    if data.secret:
        hook.secret_sealed = seal_secret(secret_key, data.secret)
    session.flush()
    _record(session, AuditAction.WEBHOOK_UPDATE, hook, actor)
    return hook


def delete_webhook(session: Session, hook: Webhook, actor: User) -> None:
    _record(session, AuditAction.WEBHOOK_DELETE, hook, actor)
    session.delete(hook)
    session.flush()


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    return get_or_raise(session, Webhook, webhook_id, WebhookNotFoundError)


def deliveries(
    session: Session, hook: Webhook, *, limit: int = 50, cursor: int | None = None
) -> Page[WebhookDelivery]:
    """The webhook's delivery log, newest first (keyset on id)."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    return id_page(session, query, WebhookDelivery.id, limit=limit, cursor=cursor)


# --- events -> deliveries ---------------------------------------------------------------------


def tlp_allows(case_tlp: str, max_tlp: str) -> bool:
    """Whether a case of ``case_tlp`` may be described to a webhook of ``max_tlp``."""
    rank = {level: i for i, level in enumerate(TLP_ORDER)}
    return rank.get(case_tlp, len(TLP_ORDER)) <= rank.get(max_tlp, -1)


def payload(
    event: str, case: Case, hook: Webhook, at: datetime, details: dict[str, Any]
) -> dict[str, Any]:
    """What a webhook is told: the event and, when the TLP allows, the case and ``details``."""
    allowed = tlp_allows(case.tlp, hook.max_tlp)
    body: dict[str, Any] = {"event": event, "occurred_at": at.isoformat(), "withheld": not allowed}
    if allowed:
        body["case"] = {
            "id": case.id,
            "reference": case.reference,
            "title": case.title,
            "priority": case.priority,
            "tlp": case.tlp,
        }
        body.update(details)
    return body


def enqueue(
    session: Session, event: str, case: Case, key: str, details: dict[str, Any] | None = None
) -> list[WebhookDelivery]:
    """One delivery per active webhook subscribed to ``event`` (none twice for ``key``)."""
    hooks = list(session.scalars(select(Webhook).where(Webhook.active.is_(True))))
    hooks = [h for h in hooks if event in h.events]
    if not hooks:
        return []
    done = set(
        session.scalars(
            select(WebhookDelivery.webhook_id).where(
                WebhookDelivery.event_key == key[:160],
                WebhookDelivery.webhook_id.in_([h.id for h in hooks]),
            )
        )
    )
    now = utcnow()
    rows = []
    for hook in hooks:
        if hook.id in done:
            continue
        body = payload(event, case, hook, now, details or {})
        row = WebhookDelivery(
            webhook_id=hook.id,
            event=event,
            event_key=key[:160],
            payload=json.dumps(body, ensure_ascii=False, sort_keys=True),
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            last_error="",
        )
        session.add(row)
        rows.append(row)
    session.flush()
    session.info.setdefault(QUEUED_KEY, []).extend(row.id for row in rows)
    return rows


def on_case_created(sender: Case, *, session: Session, **_: Any) -> None:
    """Receiver of ``csirt.cases.signals.case_created``."""
    enqueue(session, CASE_CREATED, sender, f"{CASE_CREATED}:{sender.id}")


def on_priority_changed(
    sender: Case, *, session: Session, old: str = "", new: str = "", **_: Any
) -> None:
    """Receiver of ``csirt.cases.signals.priority_changed``."""
    key = f"{PRIORITY_CHANGED}:{sender.id}:{old}>{new}:{utcnow().isoformat()}"
    enqueue(session, PRIORITY_CHANGED, sender, key, {"old_priority": old, "new_priority": new})


def on_document_approved(sender: Document, *, session: Session, **_: Any) -> None:
    """Receiver of ``csirt.documents.signals.approved``."""
    key = f"{DOCUMENT_APPROVED}:{sender.id}:{sender.approved_version}"
    details = {"document": {"id": sender.id, "kind": sender.kind}}
    enqueue(session, DOCUMENT_APPROVED, sender.case, key, details)


def enqueue_due_obligations(
    session: Session, *, now: datetime | None = None, hours: int = DUE_SOON_HOURS
) -> int:
    """Deliveries for pending obligations of open cases due within ``hours`` (once each)."""
    moment = now or utcnow()
    rows = session.execute(
        select(Obligation, Case)
        .join(Case, Case.id == Obligation.case_id)
        .where(
            Obligation.status == "pending",
            Obligation.deadline != "window",
            Obligation.due_at > moment,
            Obligation.due_at <= moment + timedelta(hours=hours),
            Case.phase != Phase.CLOSED.value,
        )
        .order_by(Obligation.due_at)
    ).tuples()
    count = 0
    for obligation, case in rows:
        key = f"{OBLIGATION_DUE_SOON}:{obligation.id}:{obligation.due_at.isoformat()}"
        details = {
            "obligation": {
                "regime": obligation.regime,
                "kind": obligation.kind,
                "due_at": obligation.due_at.isoformat(),
            }
        }
        count += len(enqueue(session, OBLIGATION_DUE_SOON, case, key, details))
    return count


# --- sending ----------------------------------------------------------------------------------

Post = Callable[[str, bytes, dict[str, str]], int]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, not a delivery


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body``; the HTTP status (an error status is returned, not raised)."""
    opener = urllib.request.build_opener(_NoRedirect)
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("not an http(s) URL")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """How long after the ``attempts``-th failure the next attempt comes (``first`` after the
    first failure, then doubling: ``CSIRT_WEBHOOKS_FIRST_RETRY_S``)."""
    delay: timedelta = first * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, LONGEST_RETRY)


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Outgoing:
    """One POST, prepared in a short transaction and sent outside any."""

    url: str
    body: bytes
    headers: dict[str, str]


Steps = Callable[[], AbstractContextManager[Session]]
"""Opens a short transaction that commits when the block ends (``Database.session``)."""


def claim_due(
    session: Session, *, now: datetime, limit: int = BATCH, only: Sequence[int] = ()
) -> list[int]:
    """Take the due deliveries for this sender: their next attempt moves a lease ahead, so no
    other sender (a node's job, another worker) takes them while they are being posted."""
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if only:
        query = query.where(WebhookDelivery.id.in_(list(only)))
    rows = session.scalars(query).all()
    for row in rows:
        row.next_attempt_at = now + LEASE
    session.flush()
    return [row.id for row in rows]


def prepare(
    session: Session, delivery_id: int, *, secret_key: str, now: datetime
) -> Outgoing | str:
    """The signed POST of a delivery, or why it cannot be sent."""
    delivery = session.get_one(WebhookDelivery, delivery_id)
    hook = delivery.webhook
    if not hook.active:
        return "webhook disabled"
    try:
        secret = open_secret(secret_key, hook.secret_sealed)
    except WebhookError:
        return "secret unreadable"
    body = delivery.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "csirt-webhooks/1",
        "X-Csirt-Event": delivery.event,
        "X-Csirt-Delivery": str(delivery.id),
        "X-Csirt-Timestamp": str(int(now.timestamp())),
        "X-Csirt-Signature": sign(secret, body),
    }
    return Outgoing(hook.url, body, headers)


def record_attempt(
    session: Session,
    delivery_id: int,
    *,
    status: int | None,
    error: str,
    now: datetime,
    first_retry: timedelta = FIRST_RETRY,
) -> str:
    """Record one attempt: ``sent``, ``retrying`` (after the back-off) or ``failed``."""
    delivery = session.get_one(WebhookDelivery, delivery_id)
    delivery.attempts += 1
    delivery.last_status_code = status
    if status is not None and 200 <= status < 300:
        delivery.status = DeliveryStatus.SENT.value
        delivery.sent_at = now
        delivery.last_error = ""
        return "sent"
    delivery.last_error = (error or f"HTTP {status}")[:200]
    if delivery.attempts >= MAX_ATTEMPTS or not delivery.webhook.active:
        delivery.status = DeliveryStatus.FAILED.value
        audit.record(
            session,
            AuditAction.WEBHOOK_GIVE_UP,
            actor=audit.SYSTEM,
            object_type="webhook_delivery",
            object_id=delivery.id,
            details={"webhook": delivery.webhook_id, "attempts": delivery.attempts},
        )
        return "failed"
    delivery.next_attempt_at = now + backoff(delivery.attempts, first_retry)
    return "retrying"


def send_due(
    steps: Steps,
    *,
    secret_key: str,
    now: datetime | None = None,
    post: Post = http_post,
    limit: int = BATCH,
    only: Sequence[int] = (),
    first_retry: timedelta = FIRST_RETRY,
) -> SendResult:
    """Post the due deliveries (or ``only`` these): claimed, prepared and recorded in short
    transactions of their own; the HTTP request itself runs outside any, so a slow receiver
    never holds a database lock."""
    moment = now or utcnow()
    with steps() as session:
        ids = claim_due(session, now=moment, limit=limit, only=only)
    result = SendResult()
    for delivery_id in ids:
        with steps() as session:
            outgoing = prepare(session, delivery_id, secret_key=secret_key, now=moment)
        status: int | None = None
        if isinstance(outgoing, str):
            error = outgoing
        else:
            try:
                status, error = post(outgoing.url, outgoing.body, outgoing.headers), ""
            except (OSError, ValueError) as exc:
                error = type(exc).__name__
        with steps() as session:
            result.count(
                record_attempt(
                    session,
                    delivery_id,
                    status=status,
                    error=error,
                    now=moment,
                    first_retry=first_retry,
                )
            )
    return result


# --- right after the commit that queued them (where cheap) -------------------------------------

_jobs: queue.SimpleQueue[tuple[Flask, list[int]]] = queue.SimpleQueue()
_worker_lock = threading.Lock()
_worker: list[threading.Thread] = []


def _work() -> None:
    while True:
        app, ids = _jobs.get()
        try:
            with app.app_context():
                config = app.config["CSIRT"]
                send_due(
                    get_db(app).session,
                    secret_key=config.secret_key,
                    only=ids,
                    first_retry=timedelta(seconds=config.webhooks_first_retry_s),
                )
        except Exception as exc:  # the job retries; never the payload in a log
            log.warning("webhook delivery after commit: %s", type(exc).__name__)


def send_after_commit(session: Session) -> None:
    """Session ``after_commit`` hook (csirt/wiring.py): post what this commit queued at once, in
    this process's sender thread (the request does not wait; ``csirt webhooks send`` retries).
    A session bound to one connection (the tests' rolled-back transaction) has nobody else to
    see its rows, and sends nothing here."""
    ids = session.info.pop(QUEUED_KEY, [])
    if not ids or not has_app_context() or isinstance(session.get_bind(), Connection):
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _worker_lock:
        if not _worker or not _worker[0].is_alive():
            _worker[:] = [threading.Thread(target=_work, name="csirt-webhooks", daemon=True)]
            _worker[0].start()
    _jobs.put((app, list(ids)))


def drop_queued(session: Session) -> None:
    """Session ``after_rollback`` hook: a rolled-back cause queued nothing."""
    session.info.pop(QUEUED_KEY, None)
