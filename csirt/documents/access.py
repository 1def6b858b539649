"""Who may reach a case's documents: case workers see everything, PR and committee members the
public facts and their kinds of the cases they are assigned to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case, CaseMember
from csirt.cases.need_to_know import can_see
from csirt.documents.builders import KINDS
from csirt.documents.errors import DocumentNotFoundError
from csirt.documents.models import Document

COMMITTEE_KINDS = frozenset({"committee_report", "prevention_progress"})
_AuthorOf = aliased(Document)


@dataclass(frozen=True)
class CaseAccess:
    """A case reached through its documents: `full` for case workers, else public facts only."""

    case: Case
    full: bool
    kinds: frozenset[str]


def kinds_for_public_facts(user: User) -> frozenset[str]:
    """Kinds a PUBLIC_FACTS_VIEW holder who is not on the case may work on."""
    kinds: set[str] = set()
    if user.has_role(Role.PR) or user.has_role(Role.LEAD):
        kinds |= set(KINDS)
    if user.has_role(Role.COMMITTEE):
        kinds |= COMMITTEE_KINDS
    return frozenset(kinds)


def get_case_for_documents(session: Session, user: User, case_id: int) -> CaseAccess:
    """The case, if this user may see its documents: members and CASE_VIEW_ALL see everything;
    PUBLIC_FACTS_VIEW holders (PR, committee) only the public facts and their kinds."""
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFoundError(case_id)
    if user.can(Permission.CASE_VIEW) and can_see(session, user, case_id):
        return CaseAccess(case, True, frozenset(KINDS))
    if user.can(Permission.PUBLIC_FACTS_VIEW):
        kinds = kinds_for_public_facts(user)
        # Need-to-know (issue 14): PR and committee reach only the cases they are assigned to.
        if kinds and (user.can(Permission.CASE_VIEW_ALL) or _assigned(session, user, case_id)):
            return CaseAccess(case, False, kinds)
    raise CaseNotFoundError(case_id)


def _assigned_to(user: User) -> ColumnElement[bool]:
    """Cases a PR or committee member works on: assigned to the case (any role), or the
    author of one of its documents."""
    return or_(
        exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user.id),
        exists().where(Document.case_id == Case.id, Document.created_by_id == user.id),
    )


def _assigned(session: Session, user: User, case_id: int) -> bool:
    query = select(Case.id).where(Case.id == case_id, _assigned_to(user))
    return session.scalar(query) is not None


def get_document_for(session: Session, user: User, document_id: int) -> tuple[Document, CaseAccess]:
    """The document and the user's access to its case, or DocumentNotFoundError."""
    document = session.get(Document, document_id)
    if document is None:
        raise DocumentNotFoundError(document_id)
    try:
        access = get_case_for_documents(session, user, document.case_id)
    except CaseNotFoundError:
        raise DocumentNotFoundError(document_id) from None
    if document.kind not in access.kinds:
        raise DocumentNotFoundError(document_id)
    return document, access


def reachable_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause on Case for the cases whose documents page the user may open."""
    if user.can(Permission.CASE_VIEW_ALL):
        return true()
    if user.can(Permission.PUBLIC_FACTS_VIEW) and kinds_for_public_facts(user):
        return _assigned_to(user)
    if not user.can(Permission.CASE_VIEW):
        return false()
    return exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user.id)


def reachable_cases(session: Session, user: User, limit: int = 200) -> list[Case]:
    """Cases whose documents page the user may open, newest first."""
    query = select(Case).where(reachable_clause(user)).order_by(Case.id.desc()).limit(limit)
    return list(session.scalars(query))


def documents_for(session: Session, user: User, limit: int = 200) -> list[Document]:
    """Documents the user may open, most recently changed first: one query, the access rule
    of `get_case_for_documents` in its WHERE clause."""
    rules: list[ColumnElement[bool]] = []
    member = exists().where(CaseMember.case_id == Document.case_id, CaseMember.user_id == user.id)
    if user.can(Permission.CASE_VIEW):
        rules.append(true() if user.can(Permission.CASE_VIEW_ALL) else member)
    kinds = kinds_for_public_facts(user) if user.can(Permission.PUBLIC_FACTS_VIEW) else frozenset()
    if kinds:
        assigned = or_(
            member,
            exists().where(
                _AuthorOf.case_id == Document.case_id, _AuthorOf.created_by_id == user.id
            ),
        )
        reach = true() if user.can(Permission.CASE_VIEW_ALL) else assigned
        rules.append(and_(reach, Document.kind.in_(sorted(kinds))))
    if not rules:
        return []
    return list(
        session.scalars(
            select(Document)
            .where(or_(*rules))
            .order_by(Document.updated_at.desc(), Document.id.desc())
            .limit(limit)
        )
    )


def case_documents(session: Session, case_id: int, kinds: frozenset[str]) -> list[Document]:
    """The case's documents of the given kinds, oldest first."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.case_id == case_id, Document.kind.in_(sorted(kinds)))
            .order_by(Document.id)
        )
    )
