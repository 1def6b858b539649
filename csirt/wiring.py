"""Where the parts of csirt react to each other: every cross-package reaction, in one place.

A package that owns a fact sends a signal when the fact changes (``csirt.cases.signals``); the
packages that must react are connected here, with plain imports, and nowhere else: never from a
view module, never through an import string, never as an import-time listener on SQLAlchemy's
global ``Session``. ``create_app`` calls :func:`connect` for every interface (the ``csirt``
command builds its app through ``create_app``, so the CLI is wired the same way).

Signals and session events are process-wide, so connecting is idempotent; the table below is what
``tests/test_wiring.py`` checks for each interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blinker import Signal
from flask import Flask
from sqlalchemy import event

from csirt.alerts import signals as alert_signals
from csirt.auth import service as auth
from csirt.cases import closing, dashboard, search
from csirt.cases import signals as case_signals
from csirt.cases import tasks as case_tasks
from csirt.db import AppSession
from csirt.documents import service as documents
from csirt.documents import signals as document_signals
from csirt.intake import signals as intake_signals
from csirt.notify import alert_events, case_events, intake_events
from csirt.notify import service as notify
from csirt.teams import paging as teams_paging
from csirt.triage import closing as triage_closing
from csirt.triage import service as triage
from csirt.webhooks import service as webhooks


@dataclass(frozen=True)
class Reaction:
    """``receiver`` runs whenever ``signal`` is sent."""

    signal: Signal
    receiver: Callable[..., Any]
    why: str


@dataclass(frozen=True)
class SessionHook:
    """``receiver`` runs on the session event ``name`` of every csirt session."""

    name: str
    receiver: Callable[..., Any]
    why: str


REACTIONS: tuple[Reaction, ...] = (
    Reaction(
        case_signals.facts_changed,
        triage.on_facts_changed,
        "a data set, the exposure, a flag or aware_at changed: re-run triage",
    ),
    Reaction(
        case_signals.priority_raised,
        teams_paging.on_priority_raised,
        "a case became P1/P2: page the on-call lead",
    ),
    Reaction(
        intake_signals.report_received,
        intake_events.on_report_received,
        "a new report arrived: tell the intake officers (content-free)",
    ),
    Reaction(
        intake_signals.reporter_replied,
        intake_events.on_reporter_replied,
        "a reporter wrote again: tell its officers and its case's lead (content-free)",
    ),
    Reaction(
        case_signals.task_assigned,
        case_events.on_task_assigned,
        "a task got new assignees: tell each of them (not one who assigned themself)",
    ),
    Reaction(
        case_signals.mentioned,
        case_events.on_mentioned,
        "@username in a comment or note: tell that person if they may see the case",
    ),
    Reaction(
        document_signals.approval_requested,
        case_events.on_approval_requested,
        "an author named a lead to approve a document: tell that lead",
    ),
    Reaction(
        document_signals.approved,
        case_events.on_approved,
        "a document was approved: tell its authors",
    ),
    Reaction(
        document_signals.approval_refused,
        case_events.on_approval_refused,
        "a lead sent a document back: tell its authors (the reason in the app only)",
    ),
    Reaction(
        case_signals.member_added,
        case_tasks.on_member_added,
        "a person joined a case: once a lead and one more member are on it, the playbook task "
        "to form the team is done (with a comment saying why)",
    ),
    Reaction(
        intake_signals.officer_replied,
        case_tasks.on_officer_replied,
        "an officer answered a linked report's reporter: the case's task to answer them is done",
    ),
    Reaction(
        alert_signals.raised,
        alert_events.on_alert_raised,
        "a machine alert arrived: tell the leads (its number and severity only)",
    ),
    Reaction(
        case_signals.case_created,
        webhooks.on_case_created,
        "a case was opened: queue a signed delivery for each subscribed webhook",
    ),
    Reaction(
        case_signals.priority_changed,
        webhooks.on_priority_changed,
        "a case's priority changed: queue a delivery for each subscribed webhook",
    ),
    Reaction(
        document_signals.approved,
        webhooks.on_document_approved,
        "a document was approved: queue a delivery for each subscribed webhook",
    ),
)

SESSION_HOOKS: tuple[SessionHook, ...] = (
    SessionHook("after_flush", search.after_flush, "keep the search index of changed cases"),
    SessionHook("after_commit", notify.send_outbox, "mail leaves only when its cause commits"),
    SessionHook("after_rollback", notify.drop_outbox, "a rolled-back cause sends no mail"),
    SessionHook(
        "after_commit",
        webhooks.send_after_commit,
        "webhook deliveries leave once their cause commits (a sender thread; the job retries)",
    ),
    SessionHook("after_rollback", webhooks.drop_queued, "a rolled-back cause queues nothing"),
    SessionHook(
        "after_commit",
        dashboard.after_transaction,
        "a case was added or changed phase or priority: the dashboard counts again",
    ),
    SessionHook(
        "after_rollback",
        dashboard.after_transaction,
        "what a rolled-back transaction showed its own session is not kept either",
    ),
)

CLOSING_CHECKS: tuple[closing.ClosingCheck, ...] = (
    triage_closing.obligations_met,
    documents.unapproved_documents_check,
)

CHECKLIST_RESOLVERS: dict[str, closing.ChecklistResolver] = {
    "obligation": triage_closing.obligation_resolver,
    "document": documents.document_checklist_resolver,
}

# Values every console page shows about its reader, read as columns of the statement that loads
# the signed-in user (auth.service.load_user) instead of a statement each; the owner of the value
# forgets it when it changes it (notify: a delivery or a mark as read).
USER_COLUMNS: dict[str, auth.UserColumn] = {
    notify.UNREAD_KEY: notify.unread_column,
}


def connect(app: Flask) -> None:
    """Connect every reaction (idempotent) and keep the config for receivers run by the CLI."""
    for reaction in REACTIONS:
        reaction.signal.connect(reaction.receiver, weak=False)
    for hook in SESSION_HOOKS:
        if not event.contains(AppSession, hook.name, hook.receiver):
            event.listen(AppSession, hook.name, hook.receiver)
    for check in CLOSING_CHECKS:
        closing.register_closing_check(check)
    for kind, resolver in CHECKLIST_RESOLVERS.items():
        closing.register_checklist_resolver(kind, resolver)
    for key, column in USER_COLUMNS.items():
        auth.read_with_user(key, column)
    notify.install(app)  # every interface can notify (the intake tells officers of a new tip)
    triage.remember_config(app.config["CSIRT"])
    app.extensions["csirt.wiring"] = REACTIONS
