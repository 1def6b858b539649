"""The document workflow: create a draft from the case's facts as of a date, edit it (every save
is a version), review comments, and the audited export through the public-text guard.

The other aggregates live in their own modules (imported here for the views and the API):
`errors`, `access` (who may reach a case's documents), `diff`, `measures`, `template`; the
approval workflow (request, approve, refuse) is `approval`, which callers import directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases import history
from csirt.cases import trail as case_trail
from csirt.cases.closing import MissingItem
from csirt.cases.errors import CaseValidationError
from csirt.cases.models import Case, RecordVersion
from csirt.db import utcnow
from csirt.documents import builders, frozen, snapshot, trail
from csirt.documents.access import (
    COMMITTEE_KINDS,
    CaseAccess,
    case_documents,
    documents_for,
    get_case_for_documents,
    get_document_for,
    kinds_for_public_facts,
    reachable_cases,
)
from csirt.documents.builders import KINDS, SECTIONS, build_document, default_sections, to_bytes
from csirt.documents.diff import (
    DiffRow,
    SectionDiff,
    Segment,
    diff_document,
    diff_versions,
    version,
)
from csirt.documents.errors import (
    AlreadyApprovedError,
    DocumentError,
    DocumentNotFoundError,
    DocumentValidationError,
    FactsChangedError,
    FrozenUnreadableError,
    KindNotAllowedError,
    NotApprovedError,
    NotWithdrawableError,
    SelfApprovalError,
    StaleVersionError,
    TemplateInvalidError,
)
from csirt.documents.facts import LANGS, CaseFacts, japanese_fields
from csirt.documents.guard import (
    GuardFinding,
    PublicTextRefusedError,
    apply_override,
    check_public_text,
)
from csirt.documents.measures import (
    MeasureInput,
    adopt_recommendations,
    get_measure_for,
    measure_cases,
    measures_for,
    save_measure,
    validate_measure,
)
from csirt.documents.models import Document, DocumentComment, DocumentContext, DocumentVersion
from csirt.documents.template import (
    MAX_TEMPLATE_BYTES,
    delete_template,
    load_template,
    save_template,
    template_path,
)
from csirt.lang import LocalText
from csirt.triage.vocabulary import Vocabulary

__all__ = [
    "COMMITTEE_KINDS",
    "MAX_TEMPLATE_BYTES",
    "AlreadyApprovedError",
    "CaseAccess",
    "DiffRow",
    "DocumentError",
    "DocumentNotFoundError",
    "DocumentValidationError",
    "FactsChangedError",
    "FrozenUnreadableError",
    "KindNotAllowedError",
    "MeasureInput",
    "NotApprovedError",
    "NotWithdrawableError",
    "SectionDiff",
    "Segment",
    "SelfApprovalError",
    "StaleVersionError",
    "TemplateInvalidError",
    "adopt_recommendations",
    "case_documents",
    "delete_template",
    "diff_document",
    "diff_versions",
    "documents_for",
    "get_case_for_documents",
    "get_document_for",
    "get_measure_for",
    "kinds_for_public_facts",
    "load_template",
    "measure_cases",
    "measures_for",
    "reachable_cases",
    "save_measure",
    "save_template",
    "template_path",
    "validate_measure",
    "version",
]

MAX_SECTION_CHARS = 20_000
NEW_FACTS_NOTE = "new version from current facts"
MAX_COMMENT_CHARS = 4_000


# --- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    """Deployment settings the documents need (from Config), passed in by the caller."""

    org_name: str
    timezone: str
    instance_path: Path
    # The catalog's vocabulary: data items are labelled as the forms and triage label them
    # (None: the shipped playbooks').
    vocabulary: Vocabulary | None = None


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


def document_facts(session: Session, document: Document, env: Environment) -> CaseFacts:
    """The case's public facts as the document speaks of them: its language and as-of date."""
    return facts_for(session, document.case, document.lang, env, today=document.as_of)


def today_in(env: Environment) -> date:
    """The current day in the deployment's zone (a document's default as-of date)."""
    return utcnow().astimezone(ZoneInfo(env.timezone)).date()


# --- workflow ---------------------------------------------------------------------------------


def create_document(
    session: Session,
    user: User,
    access: CaseAccess,
    kind: str,
    lang: str,
    env: Environment,
    as_of: date | None = None,
) -> Document:
    """A new draft whose sections are pre-filled from the case's facts as of `as_of` (default:
    today): nothing after that day appears in it (version 1)."""
    errors = {}
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    if lang not in LANGS:
        errors["lang"] = f"must be one of {', '.join(LANGS)}"
    if errors:
        raise DocumentValidationError(errors)
    if kind not in access.kinds:
        raise KindNotAllowedError(kind)
    day = as_of or today_in(env)
    facts = facts_for(session, access.case, lang, env, today=day)
    japanese = japanese_fields(facts) if lang == "en" else []
    if japanese:
        raise DocumentValidationError(
            {
                "lang": "the case's public facts are in Japanese only ("
                + ", ".join(japanese)
                + "): create the document in Japanese, or write those facts in English first"
            }
        )
    committee = facts_for(session, access.case, lang, env).committee
    if kind == "committee_report" and committee is not None and day < committee.period_end:
        raise DocumentValidationError(
            {
                "as_of": "a committee report is dated on or after the end of the committee's "
                f"period ({committee.period_end.isoformat()})"
            }
        )
    document = Document(
        case_id=access.case.id,
        kind=kind,
        lang=lang,
        current_version=1,
        created_by_id=user.id,
        as_of=day,
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
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_CREATE,
        {"kind": kind, "lang": lang, "as_of": day.isoformat()},
    )
    session.flush()
    return document


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
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_EDIT,
        {"version": number, "sections": changed},
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
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_COMMENT,
        {"version": document.current_version, "section": section},
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
        trail.record(
            session,
            user,
            document,
            AuditAction.DOCUMENT_GUARD_OVERRIDE,
            {
                "version": document.current_version,
                "passed": sorted(f"{f.section}:{f.kind.value}:{f.key}" for f in passed),
            },
        )
    return refused


# --- withdrawal of an unused draft (csirt.cases.history) ---------------------------------------


def _audit_document(
    session: Session, action: AuditAction, case: Case, actor: User | None, row: Document
) -> None:
    assert actor is not None  # documents are withdrawn by people
    trail.record(session, actor, row, action, {"kind": row.kind, "version": row.current_version})


DOCUMENT = history.Kind(
    name="document",
    model=Document,
    missing=DocumentNotFoundError,
    actions=history.Actions(AuditAction.DOCUMENT_EDIT, AuditAction.DOCUMENT_WITHDRAW),
    audit=_audit_document,
    children=("versions", "comments"),
)
"""A withdrawn draft moves to the history with its versions and comments (no restore)."""


def withdraw(session: Session, user: User, document: Document, reason: str) -> None:
    """Withdraw an unused draft with a reason: it leaves the case's documents (and no longer
    holds the case open), kept in its history; audited. NotWithdrawableError once approved."""
    if document.approved_version is not None or document.approved_at is not None:
        raise NotWithdrawableError(document.id)
    try:
        history.delete(session, DOCUMENT, document.case, user, document, reason)
    except CaseValidationError as error:
        raise DocumentValidationError(error.errors) from None


def withdrawn_documents(session: Session, case: Case) -> list[RecordVersion]:
    """The case's withdrawn drafts (as withdrawn), newest first."""
    return history.deleted_of(session, DOCUMENT, case)


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
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_EDIT,
        {"version": number, "sections": [], "from_current_facts": True},
    )
    session.flush()
    return row


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
        _freeze(row, document, document_facts(session, document, env), template)
        late_freeze = True
    try:
        thawed = frozen_facts(row) if final else None
    except frozen.FrozenFactsError as error:
        raise FrozenUnreadableError(row.number) from error
    if thawed is not None:
        facts, template = thawed, row.frozen_template
    else:
        facts = document_facts(session, document, env)
    findings = guard_findings(session, document, row.sections, facts)
    findings = _after_override(session, user, document, findings, override)
    if findings:
        trail.record(
            session,
            user,
            document,
            AuditAction.DOCUMENT_EXPORT_REFUSED,
            {
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
    trail.record(
        session,
        user,
        document,
        AuditAction.DOCUMENT_EXPORT,
        details,
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


# --- organisation settings and document context ----------------------------------------------


def save_organisation_settings(
    session: Session, user: User, settings: snapshot.OrganisationSettings
) -> None:
    """Store the organisation details that documents use (audited)."""
    snapshot.save_organisation_settings(session, settings)
    trail.record(session, user, snapshot.ORGANISATION_SETTING, AuditAction.SETTINGS_CHANGE)


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
    case_trail.record(session, AuditAction.DOCUMENT_CONTEXT_EDIT, case, user, fields=sorted(values))
    session.flush()
    return context


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
        ja, en = builders.kind_name(document.kind)
        missing.append(
            MissingItem(
                f"document:{document.id}",
                LocalText(
                    f"文書が承認されていません: {ja}（第{document.current_version}版）",
                    f"Document not approved: {en} (version {document.current_version})",
                ),
            )
        )
    return missing


def document_checklist_resolver(session: Session, case: Case, ref: str) -> bool | None:
    """Playbook checklist items of kind "document": met when a document of kind `ref` is
    approved; None (cannot tell) for an unknown kind."""
    if ref not in KINDS:
        return None
    return has_approved(session, case, ref)
