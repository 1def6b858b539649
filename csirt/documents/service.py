"""The document workflow: create a draft from the case's facts, edit it (every save is a version),
review comments, approval by a lead who is not the last editor, diff between versions, and the
audited export through the public-text guard. Also measures, the organisation template and who
may reach a case's documents.
"""

from __future__ import annotations

import difflib
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import docx
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.cases.closing import MissingItem
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case, CaseMember
from csirt.cases.need_to_know import can_see
from csirt.db import utcnow
from csirt.documents import frozen, snapshot
from csirt.documents.builders import KINDS, SECTIONS, build_document, default_sections, to_bytes
from csirt.documents.facts import LANGS, CaseFacts
from csirt.documents.guard import (
    GuardFinding,
    PublicTextRefusedError,
    apply_override,
    check_public_text,
)
from csirt.documents.models import (
    Document,
    DocumentComment,
    DocumentContext,
    DocumentVersion,
    MeasureStatus,
    PreventionMeasure,
)
from csirt.triage.vocabulary import Vocabulary

MAX_SECTION_CHARS = 20_000
NEW_FACTS_NOTE = "new version from current facts"
MAX_COMMENT_CHARS = 4_000
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
TEMPLATE_FILENAME = "organisation-template.docx"
COMMITTEE_KINDS = frozenset({"committee_report", "prevention_progress"})
KIND_NAMES: dict[str, tuple[str, str]] = {
    "press_release": ("報道提供資料", "press release"),
    "committee_report": ("検証委員会報告書", "committee report"),
    "ppc_report": ("個人情報保護委員会への報告", "report to the PPC"),
    "individual_notice": ("本人への通知", "notice to individuals"),
    "prevention_progress": ("再発防止策の実施状況", "prevention progress report"),
}


class DocumentError(Exception):
    """Base of document errors shown to the user."""


class DocumentNotFoundError(DocumentError):
    """No such document, or not one this user may reach (indistinguishable on purpose)."""


class DocumentValidationError(DocumentError):
    """Input that names bad fields: {field: message}."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class KindNotAllowedError(DocumentError):
    """This user may not work on documents of this kind for this case."""


class SelfApprovalError(DocumentError):
    """The last editor of a version may not approve it: a second person must."""


class AlreadyApprovedError(DocumentError):
    """The newest version is already approved."""


class StaleVersionError(DocumentError):
    """Someone saved a newer version since the editor opened the document."""


class FactsChangedError(DocumentError):
    """The case's facts changed since the approver loaded the draft: review it again."""


class NotApprovedError(DocumentError):
    """The newest version is a draft: it already follows today's facts."""


class FrozenUnreadableError(DocumentError):
    """The approved version's frozen facts cannot be read back: it cannot be rebuilt as
    approved (make a new version from current facts and approve it)."""


class TemplateInvalidError(DocumentError):
    """The uploaded organisation template is not a usable .docx."""


# --- who may reach a case's documents --------------------------------------------------------


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


def reachable_cases(session: Session, user: User, limit: int = 200) -> list[Case]:
    """Cases whose documents page the user may open, newest first."""
    query = select(Case).order_by(Case.id.desc()).limit(limit)
    if user.can(Permission.CASE_VIEW_ALL):
        return list(session.scalars(query))
    if user.can(Permission.PUBLIC_FACTS_VIEW) and kinds_for_public_facts(user):
        return list(session.scalars(query.where(_assigned_to(user))))
    if not user.can(Permission.CASE_VIEW):
        return []
    member = exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == user.id)
    return list(session.scalars(query.where(member)))


def documents_for(session: Session, user: User, limit: int = 200) -> list[Document]:
    """Documents the user may open, most recently changed first."""
    cases = {c.id: c for c in reachable_cases(session, user, limit=10_000)}
    if not cases:
        return []
    rows = session.scalars(
        select(Document)
        .where(Document.case_id.in_(list(cases)))
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(limit * 2)
    ).all()
    result = []
    for document in rows:
        access = get_case_for_documents(session, user, document.case_id)
        if document.kind in access.kinds:
            result.append(document)
    return result[:limit]


def case_documents(session: Session, case_id: int, kinds: frozenset[str]) -> list[Document]:
    """The case's documents of the given kinds, oldest first."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.case_id == case_id, Document.kind.in_(sorted(kinds)))
            .order_by(Document.id)
        )
    )


# --- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    """Deployment settings the documents need (from Config), passed in by the caller."""

    org_name: str
    timezone: str
    instance_path: Path
    # The catalog's vocabulary: data items are labelled as the forms and triage label them.
    vocabulary: Vocabulary


def facts_for(
    session: Session, case: Case, lang: str, env: Environment, today: date | None = None
) -> CaseFacts:
    """The case's public facts in one language."""
    return snapshot.build_case_facts(
        session,
        case,
        lang=lang,
        org_name=env.org_name,
        timezone=env.timezone,
        today=today,
        vocabulary=env.vocabulary,
    )


def _actor(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.username)


# --- workflow ---------------------------------------------------------------------------------


def create_document(
    session: Session, user: User, access: CaseAccess, kind: str, lang: str, env: Environment
) -> Document:
    """A new draft whose sections are pre-filled from the case's facts (version 1)."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if lang not in LANGS:
        errors["lang"] = f"must be one of {', '.join(LANGS)}"
    if errors:
        raise DocumentValidationError(errors)
    if kind not in access.kinds:
        raise KindNotAllowedError(kind)
    facts = facts_for(session, access.case, lang, env)
    document = Document(
        case_id=access.case.id,
        kind=kind,
        lang=lang,
        current_version=1,
        created_by_id=user.id,
    )
    session.add(document)
    session.flush()
    session.add(
        DocumentVersion(
            document_id=document.id,
            number=1,
            sections=default_sections(kind, facts, lang),
            author_id=user.id,
            note="",
        )
    )
    audit.record(
        session,
        AuditAction.DOCUMENT_CREATE,
        actor=_actor(user),
        object_type="document",
        object_id=document.id,
        case_id=document.case_id,
        details={"kind": kind, "lang": lang},
    )
    session.flush()
    return document


def version(session: Session, document: Document, number: int | None = None) -> DocumentVersion:
    """One version of the document (the newest by default)."""
    wanted = document.current_version if number is None else number
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == wanted
        )
    )
    if row is None:
        raise DocumentValidationError({"version": f"no version {wanted}"})
    return row


def validate_sections(kind: str, sections: Mapping[str, Any]) -> dict[str, str]:
    """The sections as text, or DocumentValidationError naming each bad key."""
    allowed = SECTIONS[kind]
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key, value in sections.items():
        field = f"sections.{key}"
        if key not in allowed:
            errors[field] = f"unknown section for {kind}"
        elif not isinstance(value, str):
            errors[field] = "must be a string"
        elif len(value) > MAX_SECTION_CHARS:
            errors[field] = f"must be at most {MAX_SECTION_CHARS} characters"
        else:
            clean[key] = value.replace("\r\n", "\n")
    if errors:
        raise DocumentValidationError(errors)
    return clean


def save_sections(
    session: Session,
    user: User,
    document: Document,
    sections: Mapping[str, Any],
    *,
    base_version: int | None = None,
    note: str = "",
) -> DocumentVersion | None:
    """Save edited sections as a new version (None when nothing changed).

    `base_version` is the version the editor started from: a newer one means a lost update.
    """
    clean = validate_sections(document.kind, sections)
    if base_version is not None and base_version != document.current_version:
        raise StaleVersionError(document.current_version)
    current = version(session, document)
    merged = {**current.sections, **clean}
    if merged == current.sections:
        return None
    number = document.current_version + 1
    row = DocumentVersion(
        document_id=document.id,
        number=number,
        sections=merged,
        author_id=user.id,
        note=note[:200],
    )
    session.add(row)
    document.current_version = number
    document.updated_at = utcnow()
    changed = sorted(k for k in merged if merged.get(k) != current.sections.get(k))
    audit.record(
        session,
        AuditAction.DOCUMENT_EDIT,
        actor=_actor(user),
        object_type="document",
        object_id=document.id,
        case_id=document.case_id,
        details={"version": number, "sections": changed},
    )
    session.flush()
    return row


def add_comment(
    session: Session, user: User, document: Document, body: str, section: str = ""
) -> DocumentComment:
    """A review comment on the newest version (optionally about one section)."""
    errors = {}
    text = body.strip()
    if not text:
        errors["body"] = "must not be empty"
    elif len(text) > MAX_COMMENT_CHARS:
        errors["body"] = f"must be at most {MAX_COMMENT_CHARS} characters"
    if section and section not in SECTIONS[document.kind]:
        errors["section"] = f"unknown section for {document.kind}"
    if errors:
        raise DocumentValidationError(errors)
    comment = DocumentComment(
        document_id=document.id,
        version=document.current_version,
        section=section,
        body=text,
        author_id=user.id,
    )
    session.add(comment)
    audit.record(
        session,
        AuditAction.DOCUMENT_COMMENT,
        actor=_actor(user),
        object_type="document",
        object_id=document.id,
        case_id=document.case_id,
        details={"version": document.current_version, "section": section},
    )
    session.flush()
    return comment


def public_texts(document_sections: Mapping[str, str], facts: CaseFacts) -> dict[str, str]:
    """Everything a document shows that the guard must check: sections and fact texts."""
    texts = dict(document_sections)
    for key, value in snapshot.fact_texts(facts).items():
        texts[f"facts.{key}"] = value
    return texts


def guard_findings(
    session: Session, document: Document, sections: Mapping[str, str], facts: CaseFacts
) -> list[GuardFinding]:
    """What the public-text guard finds in these sections and the case's public facts."""
    forbidden = snapshot.forbidden_terms(session, document.case, facts)
    return check_public_text(public_texts(sections, facts), forbidden)


def _after_override(
    session: Session,
    user: User,
    document: Document,
    findings: list[GuardFinding],
    override: Sequence[str],
) -> list[GuardFinding]:
    """The findings left after a lead's explicit override of false positives (audited).

    Only a lead (who may approve) can override, only names and contact patterns (never the
    reporter's identity, a receipt or My Number); the audit keeps digests, not the text.
    """
    if not override or not findings or not user.can(Permission.DOCUMENT_APPROVE):
        return findings
    refused, passed = apply_override(findings, override)
    if passed:
        audit.record(
            session,
            AuditAction.DOCUMENT_GUARD_OVERRIDE,
            actor=_actor(user),
            object_type="document",
            object_id=document.id,
            case_id=document.case_id,
            details={
                "version": document.current_version,
                "passed": sorted(f"{f.section}:{f.kind.value}:{f.key}" for f in passed),
            },
        )
    return refused


def current_facts_digest(session: Session, document: Document, env: Environment) -> str:
    """The digest of the case's facts as they are now (the document date left out): what an
    approver saw; `approve` refuses if the facts changed after they loaded the page."""
    facts = facts_for(session, document.case, document.lang, env)
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
    facts = facts_for(session, document.case, document.lang, env)
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
    audit.record(
        session,
        AuditAction.DOCUMENT_APPROVE,
        actor=_actor(user),
        object_type="document",
        object_id=document.id,
        case_id=document.case_id,
        details={
            "kind": document.kind,
            "version": document.current_version,
            "facts_sha256": current.frozen_facts_sha256,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    session.flush()


def _freeze(
    row: DocumentVersion, document: Document, facts: CaseFacts, template: bytes | None
) -> bytes:
    """Store with the version what its final export is built from; the final .docx's bytes."""
    snapshot_json = frozen.to_json(facts)
    row.frozen_facts = snapshot_json
    row.frozen_facts_sha256 = frozen.digest(snapshot_json)
    row.frozen_template = template
    data = _build(document, row, frozen.from_json(snapshot_json), template, final=True)
    row.frozen_docx_sha256 = hashlib.sha256(data).hexdigest()
    return data


def _build(
    document: Document,
    row: DocumentVersion,
    facts: CaseFacts,
    template: bytes | None,
    *,
    final: bool,
) -> bytes:
    built = build_document(
        document.kind,
        facts,
        lang=document.lang,
        draft=not final,
        template=template,
        sections=row.sections,
    )
    return to_bytes(built)


def frozen_facts(row: DocumentVersion) -> CaseFacts | None:
    """The facts an approved version was approved with (None for a version never approved)."""
    if row.frozen_facts is None:
        return None
    return frozen.from_json(row.frozen_facts)


@dataclass(frozen=True)
class Freshness:
    """How the approved version's frozen facts compare with the case's facts now."""

    approved_version: int
    facts_changed: bool
    document_date: date | None  # None when the frozen facts cannot be read back


def approval_freshness(session: Session, document: Document, env: Environment) -> Freshness | None:
    """Whether the case's facts changed since the approved version was approved (None when
    no version is approved or the approved one has no frozen facts)."""
    if document.approved_version is None:
        return None
    row = version(session, document, document.approved_version)
    try:
        then = frozen_facts(row)
    except frozen.FrozenFactsError:
        return Freshness(row.number, True, None)
    if then is None:
        return None
    now = facts_for(session, document.case, document.lang, env, today=then.document_date)
    changed = frozen.facts_digest(now, ignore_date=True) != frozen.facts_digest(
        then, ignore_date=True
    )
    return Freshness(row.number, changed, then.document_date)


def new_version_from_current_facts(
    session: Session, user: User, document: Document
) -> DocumentVersion:
    """A new version with the newest version's text, to be built from today's facts: it is a
    draft until someone approves it (and freezes the facts again). NotApprovedError when the
    newest version is a draft already."""
    if document.approved_version != document.current_version:
        raise NotApprovedError(document.current_version)
    current = version(session, document)
    number = document.current_version + 1
    row = DocumentVersion(
        document_id=document.id,
        number=number,
        sections=dict(current.sections),
        author_id=user.id,
        note=NEW_FACTS_NOTE,
    )
    session.add(row)
    document.current_version = number
    document.updated_at = utcnow()
    audit.record(
        session,
        AuditAction.DOCUMENT_EDIT,
        actor=_actor(user),
        object_type="document",
        object_id=document.id,
        case_id=document.case_id,
        details={"version": number, "sections": [], "from_current_facts": True},
    )
    session.flush()
    return row


# --- diff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of unchanged or changed text (deleted on the old side, inserted on the new)."""

    text: str
    changed: bool


@dataclass(frozen=True)
class DiffRow:
    """One line pair: tag is equal, replace, delete or insert."""

    tag: str
    old: tuple[Segment, ...]
    new: tuple[Segment, ...]


@dataclass(frozen=True)
class SectionDiff:
    """The changed lines of one section."""

    key: str
    rows: tuple[DiffRow, ...]


def _inline(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Character-level marks (Japanese has no spaces between words)."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i2 > i1:
            left.append(Segment(old[i1:i2], tag != "equal"))
        if j2 > j1:
            right.append(Segment(new[j1:j2], tag != "equal"))
    return tuple(left), tuple(right)


def diff_versions(
    old: Mapping[str, str], new: Mapping[str, str], keys: Sequence[str]
) -> list[SectionDiff]:
    """Per section, the changed lines between two versions (unchanged sections are left out)."""
    result = []
    for key in keys:
        before = old.get(key, "").splitlines()
        after = new.get(key, "").splitlines()
        if before == after:
            continue
        rows: list[DiffRow] = []
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                rows += [
                    DiffRow("equal", (Segment(x, False),), (Segment(x, False),))
                    for x in before[i1:i2]
                ]
            elif tag == "delete":
                rows += [DiffRow("delete", (Segment(x, True),), ()) for x in before[i1:i2]]
            elif tag == "insert":
                rows += [DiffRow("insert", (), (Segment(x, True),)) for x in after[j1:j2]]
            else:
                olds, news = before[i1:i2], after[j1:j2]
                for n in range(max(len(olds), len(news))):
                    a = olds[n] if n < len(olds) else None
                    b = news[n] if n < len(news) else None
                    if a is not None and b is not None:
                        left, right = _inline(a, b)
                        rows.append(DiffRow("replace", left, right))
                    elif a is not None:
                        rows.append(DiffRow("delete", (Segment(a, True),), ()))
                    else:
                        rows.append(DiffRow("insert", (), (Segment(b or "", True),)))
        result.append(SectionDiff(key, tuple(rows)))
    return result


def diff_document(session: Session, document: Document, old: int, new: int) -> list[SectionDiff]:
    """The diff between two versions of a document."""
    before = version(session, document, old)
    after = version(session, document, new)
    return diff_versions(before.sections, after.sections, SECTIONS[document.kind])


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """A built .docx ready to send."""

    filename: str
    data: bytes
    final: bool
    version: int
    sha256: str = ""
    document_date: date | None = None


def safe_filename(case: Case, document: Document, number: int, final: bool) -> str:
    """ASCII only, no path: CSIRT-2025-0001_press_release_v3_final.docx."""
    reference = "".join(ch for ch in case.reference if ch.isalnum() or ch == "-")
    state = "final" if final else "draft"
    return f"{reference}_{document.kind}_{document.lang}_v{number}_{state}.docx"


def export_document(
    session: Session,
    user: User,
    document: Document,
    env: Environment,
    *,
    number: int | None = None,
    override: Sequence[str] = (),
) -> Export:
    """Build the .docx of a version (the newest by default): final only if that version is the
    approved one, otherwise watermarked as a draft. The guard runs either way; audited.
    `override` names findings a lead lets pass as false positives (see _after_override)."""
    row = version(session, document, number)
    final = document.approved_version == row.number
    template = load_template(env.instance_path)
    late_freeze = False
    if final and row.frozen_facts is None:
        # Approved before approvals froze their facts (migration 0009): the first final export
        # freezes what it is built from, and every later one repeats it.
        _freeze(row, document, facts_for(session, document.case, document.lang, env), template)
        late_freeze = True
    try:
        thawed = frozen_facts(row) if final else None
    except frozen.FrozenFactsError as error:
        raise FrozenUnreadableError(row.number) from error
    if thawed is not None:
        facts, template = thawed, row.frozen_template
    else:
        facts = facts_for(session, document.case, document.lang, env)
    findings = guard_findings(session, document, row.sections, facts)
    findings = _after_override(session, user, document, findings, override)
    if findings:
        audit.record(
            session,
            AuditAction.DOCUMENT_EXPORT_REFUSED,
            actor=_actor(user),
            object_type="document",
            object_id=document.id,
            case_id=document.case_id,
            details={
                "kind": document.kind,
                "version": row.number,
                "found": sorted({f"{x.section}:{x.kind.value}" for x in findings}),
            },
        )
        raise PublicTextRefusedError(findings)
    data = _build(document, row, facts, template, final=final)
    sha256 = hashlib.sha256(data).hexdigest()
    details: dict[str, Any] = {
        "kind": document.kind,
        "version": row.number,
        "final": final,
        "lang": document.lang,
        "sha256": sha256,
    }
    if final:
        details["facts_sha256"] = row.frozen_facts_sha256
        if late_freeze:
            details["frozen_now"] = True
        if sha256 != row.frozen_docx_sha256:
            # Same frozen facts, text and template, other bytes: the builders changed since
            # approval (an upgrade). Recorded, not hidden; the content is still the approved one.
            details["differs_from_approved_sha256"] = row.frozen_docx_sha256
    audit.record(
        session,
        AuditAction.DOCUMENT_EXPORT,
        actor=_actor(user),
        object_type="document",
        object_id=document.id,
        case_id=document.case_id,
        details=details,
    )
    return Export(
        safe_filename(document.case, document, row.number, final),
        data,
        final,
        row.number,
        sha256,
        facts.document_date,
    )


def describe_findings(findings: Sequence[GuardFinding]) -> dict[str, str]:
    """{section: "phone, email"} for error messages (never the matched text itself)."""
    found: dict[str, list[str]] = {}
    for finding in findings:
        kinds = found.setdefault(finding.section, [])
        if finding.kind.value not in kinds:
            kinds.append(finding.kind.value)
    return {section: ", ".join(kinds) for section, kinds in found.items()}


# --- organisation template --------------------------------------------------------------------


def template_path(instance_path: Path) -> Path:
    """Where the organisation template is kept (instance folder)."""
    return instance_path / "documents" / TEMPLATE_FILENAME


def load_template(instance_path: Path) -> bytes | None:
    """The organisation template's bytes, if one was uploaded."""
    path = template_path(instance_path)
    return path.read_bytes() if path.is_file() else None


def save_template(session: Session, user: User, data: bytes, instance_path: Path) -> None:
    """Validate (size, opens with python-docx) and store the organisation template; audited."""
    if not data:
        raise TemplateInvalidError("the file is empty")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateInvalidError(
            f"the file is larger than {MAX_TEMPLATE_BYTES // 1024 // 1024} MB"
        )
    try:
        docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for bad input
        raise TemplateInvalidError("not a .docx file python-docx can open") from exc
    path = template_path(instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    audit.record(
        session,
        AuditAction.DOCUMENT_TEMPLATE_UPLOAD,
        actor=_actor(user),
        object_type="settings",
        object_id="documents.template",
        details={"size": len(data)},
    )


def delete_template(session: Session, user: User, instance_path: Path) -> bool:
    """Remove the organisation template (builders fall back to the house style)."""
    path = template_path(instance_path)
    if not path.is_file():
        return False
    path.unlink()
    audit.record(
        session,
        AuditAction.DOCUMENT_TEMPLATE_DELETE,
        actor=_actor(user),
        object_type="settings",
        object_id="documents.template",
    )
    return True


# --- document context -------------------------------------------------------------------------


def save_context(
    session: Session, user: User, case: Case, values: Mapping[str, Any]
) -> DocumentContext:
    """Update the case's document context with the given fields (audited)."""
    context = snapshot.get_context(session, case.id)
    if context not in session:
        session.add(context)
    for key, value in values.items():
        if not hasattr(DocumentContext, key) or key in {"case_id", "updated_at"}:
            raise DocumentValidationError({key: "unknown field"})
        setattr(context, key, value)
    context.updated_at = utcnow()
    audit.record(
        session,
        AuditAction.DOCUMENT_CONTEXT_EDIT,
        actor=_actor(user),
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        details={"fields": sorted(values)},
    )
    session.flush()
    return context


# --- measures ---------------------------------------------------------------------------------


def measures_for(session: Session, user: User) -> list[PreventionMeasure]:
    """Organisation-wide measures and those of the cases the user may reach."""
    case_ids = [c.id for c in reachable_cases(session, user, limit=10_000)]
    condition: ColumnElement[bool] = PreventionMeasure.case_id.is_(None)
    if case_ids:
        condition = or_(condition, PreventionMeasure.case_id.in_(case_ids))
    return list(
        session.scalars(
            select(PreventionMeasure)
            .where(condition)
            .order_by(PreventionMeasure.case_id.is_(None).desc(), PreventionMeasure.id)
        )
    )


def get_measure_for(session: Session, user: User, measure_id: int) -> PreventionMeasure:
    """A measure the user may see, or DocumentNotFoundError."""
    measure = session.get(PreventionMeasure, measure_id)
    if measure is None:
        raise DocumentNotFoundError(measure_id)
    if measure.case_id is not None:
        try:
            get_case_for_documents(session, user, measure.case_id)
        except CaseNotFoundError:
            raise DocumentNotFoundError(measure_id) from None
    return measure


@dataclass(frozen=True)
class MeasureInput:
    """Validated fields of a measure."""

    title: str
    owner: str
    due: date | None
    status: str
    evidence: str


def validate_measure(values: Mapping[str, Any]) -> MeasureInput:
    """Check a measure's fields; DocumentValidationError names each bad one."""
    errors = {}
    title = str(values.get("title") or "").strip()
    if not title:
        errors["title"] = "must not be empty"
    elif len(title) > 300:
        errors["title"] = "must be at most 300 characters"
    owner = str(values.get("owner") or "").strip()
    if len(owner) > 200:
        errors["owner"] = "must be at most 200 characters"
    status = str(values.get("status") or MeasureStatus.PLANNED.value)
    if status not in {s.value for s in MeasureStatus}:
        errors["status"] = f"must be one of {', '.join(s.value for s in MeasureStatus)}"
    due = values.get("due")
    if isinstance(due, str):
        try:
            due = date.fromisoformat(due) if due else None
        except ValueError:
            errors["due"] = "must be a date (YYYY-MM-DD)"
            due = None
    if due is not None and not isinstance(due, date):
        errors["due"] = "must be a date (YYYY-MM-DD)"
        due = None
    if errors:
        raise DocumentValidationError(errors)
    return MeasureInput(title, owner, due, status, str(values.get("evidence") or "").strip())


def save_measure(
    session: Session,
    user: User,
    values: MeasureInput,
    *,
    case: Case | None = None,
    measure: PreventionMeasure | None = None,
) -> PreventionMeasure:
    """Create a measure (of a case, or organisation-wide) or update one; audited."""
    if measure is None:
        measure = PreventionMeasure(case_id=case.id if case else None, created_by_id=user.id)
        session.add(measure)
    measure.title = values.title
    measure.owner = values.owner
    measure.due = values.due
    measure.status = values.status
    measure.evidence = values.evidence
    measure.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        AuditAction.MEASURE_SAVE,
        actor=_actor(user),
        object_type="measure",
        object_id=measure.id,
        case_id=measure.case_id,
        details={"status": measure.status},
    )
    return measure


def adopt_recommendations(session: Session, user: User, case: Case) -> list[PreventionMeasure]:
    """Turn the committee's recommendations of the case into planned measures (once each)."""
    context = snapshot.get_context(session, case.id)
    taken = set(
        session.scalars(
            select(PreventionMeasure.recommendation_number).where(
                PreventionMeasure.case_id == case.id,
                PreventionMeasure.recommendation_number.is_not(None),
            )
        )
    )
    created = []
    for i, rec in enumerate(context.recommendations or [], start=1):
        number = int(rec.get("number", i))
        if number in taken:
            continue
        title = str(rec.get("title") or rec.get("text") or "").strip()[:300]
        if not title:
            continue
        measure = PreventionMeasure(
            case_id=case.id,
            title=title,
            owner=str(rec.get("owner", ""))[:200],
            status=MeasureStatus.PLANNED.value,
            evidence="",
            recommendation_number=number,
            created_by_id=user.id,
        )
        session.add(measure)
        created.append(measure)
    session.flush()
    if created:
        audit.record(
            session,
            AuditAction.MEASURE_ADOPT_RECOMMENDATIONS,
            actor=_actor(user),
            object_type="case",
            object_id=case.id,
            case_id=case.id,
            details={"numbers": [m.recommendation_number for m in created]},
        )
    return created


# --- closing ----------------------------------------------------------------------------------


def unapproved_documents(session: Session, case: Case) -> list[Document]:
    """The case's documents whose newest version is not approved."""
    rows = session.scalars(
        select(Document).where(Document.case_id == case.id).order_by(Document.id)
    ).all()
    return [d for d in rows if d.approved_version != d.current_version]


def has_approved(session: Session, case: Case, kind: str) -> bool:
    """True when the case has a document of `kind` whose newest version is approved."""
    rows = session.scalars(
        select(Document).where(Document.case_id == case.id, Document.kind == kind)
    ).all()
    return any(d.approved_version == d.current_version for d in rows)


def unapproved_documents_check(session: Session, case: Case) -> list[MissingItem]:
    """Closing check: every document of the case is approved in its newest version."""
    missing = []
    for document in unapproved_documents(session, case):
        ja, en = KIND_NAMES.get(document.kind, (document.kind, document.kind))
        missing.append(
            MissingItem(
                f"document:{document.id}",
                f"文書が承認されていません: {ja}（第{document.current_version}版）",
                f"Document not approved: {en} (version {document.current_version})",
            )
        )
    return missing


def document_checklist_resolver(session: Session, case: Case, ref: str) -> bool | None:
    """Playbook checklist items of kind "document": met when a document of kind `ref` is
    approved; None (cannot tell) for an unknown kind."""
    if ref not in KINDS:
        return None
    return has_approved(session, case, ref)
