"""The approval workflow of a document: an author asks a named lead, the lead approves the newest
version (which freezes it) or sends it back with a reason; who may approve, who wrote it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.need_to_know import can_see
from csirt.db import utcnow
from csirt.documents import frozen, signals, trail
from csirt.documents.errors import (
    AlreadyApprovedError,
    DocumentValidationError,
    FactsChangedError,
    KindNotAllowedError,
    SelfApprovalError,
)
from csirt.documents.guard import PublicTextRefusedError
from csirt.documents.models import Document, DocumentVersion
from csirt.documents.service import (
    Environment,
    _after_override,
    _freeze,
    document_facts,
    guard_findings,
    load_template,
    version,
)


def current_facts_digest(session: Session, document: Document, env: Environment) -> str:
    """The digest of the case's facts as they are now (the document date left out): what an
    approver saw; `approve` refuses if the facts changed after they loaded the page."""
    facts = document_facts(session, document, env)
    return frozen.facts_digest(facts, ignore_date=True)


def approve(
    session: Session,
    user: User,
    document: Document,
    env: Environment,
    *,
    facts_sha256: str | None = None,
    override: Sequence[str] = (),
) -> None:
    """Approve the newest version: a lead who did not write it, and the guard must pass.

    Approval freezes the version: the case's facts of this moment (tables, timeline, data sets,
    document date) and the organisation template are stored with it, and every final export
    of the version is built from them. `facts_sha256`, when given, is the digest of the facts
    the approver reviewed (`current_facts_digest`); FactsChangedError if they changed since.
    """
    if not user.can(Permission.DOCUMENT_APPROVE):
        raise KindNotAllowedError("approve")
    if document.approved_version == document.current_version:
        raise AlreadyApprovedError(document.current_version)
    current = version(session, document)
    if current.author_id == user.id:
        raise SelfApprovalError(document.current_version)
    facts = document_facts(session, document, env)
    if document.kind == "press_release" and not (
        facts.organisation.contact.phone or facts.organisation.contact.email
    ):
        raise DocumentValidationError(
            {"contact": "set the organisation's contact (phone or e-mail) before approval"}
        )
    if facts_sha256 is not None and facts_sha256 != frozen.facts_digest(facts, ignore_date=True):
        raise FactsChangedError(document.current_version)
    findings = guard_findings(session, document, current.sections, facts)
    findings = _after_override(session, user, document, findings, override)
    if findings:
        raise PublicTextRefusedError(findings)
    data = _freeze(current, document, facts, load_template(env.instance_path))
    document.approved_version = document.current_version
    document.approved_by_id = user.id
    document.approved_at = utcnow()
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_APPROVE,
        {
            "kind": document.kind,
            "version": document.current_version,
            "facts_sha256": current.frozen_facts_sha256,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    session.flush()
    signals.approved.send(document, session=session, actor=user)


APPROVER_ERROR = "must be a lead who may see the case and did not write the newest version"


def _may_approve(session: Session, document: Document, user: User) -> bool:
    return (
        user.active
        and user.can(Permission.DOCUMENT_APPROVE)
        and user.id != version(session, document).author_id
        and can_see(session, user, document.case_id)
    )


def possible_approvers(session: Session, document: Document) -> list[User]:
    """Active people who may approve the newest version (for the request form)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u for u in users if _may_approve(session, document, u)]


def request_approval(session: Session, user: User, document: Document, approver_name: str) -> User:
    """Ask a named lead to approve the newest version (audited; the lead is told).

    The approver must be active, hold DOCUMENT_APPROVE, see the case and not be the newest
    version's author; one error covers every refusal, so that nobody learns who exists.
    """
    if document.approved_version == document.current_version:
        raise AlreadyApprovedError(document.current_version)
    name = approver_name.strip()
    approver = session.scalar(select(User).where(User.username == name)) if name else None
    if approver is None or not _may_approve(session, document, approver):
        raise DocumentValidationError({"approver": APPROVER_ERROR})
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_APPROVAL_REQUEST,
        {"kind": document.kind, "version": document.current_version, "approver": approver.id},
    )
    session.flush()
    signals.approval_requested.send(document, session=session, approver=approver, actor=user)
    return approver


MAX_REFUSAL_CHARS = 2_000


def refuse_approval(session: Session, user: User, document: Document, reason: str) -> None:
    """A lead sends the newest version back to its authors with a reason (audited; the authors
    are told, the reason in the app only: the mail stays content-free)."""
    if not user.can(Permission.DOCUMENT_APPROVE):
        raise KindNotAllowedError("approve")
    if document.approved_version == document.current_version:
        raise AlreadyApprovedError(document.current_version)
    text = reason.strip()
    if not text or len(text) > MAX_REFUSAL_CHARS:
        raise DocumentValidationError(
            {"reason": f"required, at most {MAX_REFUSAL_CHARS} characters"}
        )
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_APPROVAL_REFUSE,
        {"kind": document.kind, "version": document.current_version},
    )
    session.flush()
    signals.approval_refused.send(document, session=session, actor=user, reason=text)


def authors(session: Session, document: Document) -> list[User]:
    """The document's creator and the authors of its versions."""
    ids = {document.created_by_id} | set(
        session.scalars(
            select(DocumentVersion.author_id).where(DocumentVersion.document_id == document.id)
        )
    )
    wanted = sorted(i for i in ids if i is not None)
    return list(session.scalars(select(User).where(User.id.in_(wanted)).order_by(User.id)))
