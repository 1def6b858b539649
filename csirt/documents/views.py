"""Console pages for documents: the case's documents, editing, review, approval, diff, export and
the case's public context. The measures and organisation settings pages are in `settings_pages`,
on the same blueprint (defined in `console`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases.forms import ReasonForm
from csirt.db import get_session
from csirt.documents import approval, console, forms, service, snapshot
from csirt.documents import settings_pages as _settings_pages  # noqa: F401 (its routes join bp)
from csirt.documents.builders import SECTIONS
from csirt.documents.console import FORM, action, case_of, document_of, page
from csirt.documents.guard import GuardFinding, PublicTextRefusedError
from csirt.documents.models import Document
from csirt.documents.service import CaseAccess
from csirt.forms import ActionForm, saved

DOCUMENT = "/console/documents/<int:document_id>"
CASE = "/console/cases/<int:case_id>/documents"
bp = console.blueprint  # settings_pages' routes are on it too: one blueprint, same endpoints
env = console.env


def _already_approved(document: Document) -> ResponseReturnValue:
    """The newest version was approved meanwhile: nothing to do, back to the document."""
    flash(_("This version is already approved."), "info")
    return redirect(url_for("documents.detail", document_id=document.id))


def _document_page(template: str, document: Document, access: CaseAccess, **context: Any) -> str:
    """A page of one document, with what every such page shows: its case (the header and the
    way back) and the kind's name."""
    return render_template(
        template,
        case=access.case,
        access=access,
        document=document,
        kind_label=forms.kind_label,
        **context,
    )


def _refused_by_guard(
    session: Session, document: Document, access: CaseAccess, findings: Sequence[GuardFinding]
) -> ResponseReturnValue:
    """The document with one message per finding of the export guard (the section, what kind
    of content, the text found); a lead may let the overridable ones pass from there."""
    messages = [
        _(
            "Section “%(section)s” contains %(what)s: “%(text)s”.",
            section=forms.section_label(finding.section),
            what=forms.FINDING_LABELS.get(finding.kind.value, finding.kind.value),
            text=finding.matched,
        )
        for finding in findings
    ]
    return _render_detail(session, document, access, errors=messages, findings=findings, status=400)


def event_when(event: Any) -> str:
    """A public event's time as people read it: the day only for day-precision events."""
    if event.precision == "day":
        zone = current_app.config["CSIRT"].tz
        return str(format_date(event.occurred_at.astimezone(zone).date(), "medium"))
    return str(format_datetime(event.occurred_at, "medium"))


def _public_facts(session: Session, access: CaseAccess) -> dict[str, Any]:
    return {
        "events": snapshot.public_events(session, access.case.id),
        "datasets": snapshot.public_datasets(session, access.case.id),
        "measures": snapshot.case_measures(session, access.case.id),
    }


# --- lists ------------------------------------------------------------------------------------


@bp.get("/console/documents/")
@requires(Permission.DOCUMENT_VIEW)
def index() -> ResponseReturnValue:
    session = get_session()
    return render_template(
        "documents/index.html",
        documents=service.documents_for(session, current_user),
        cases=service.reachable_cases(session, current_user, limit=50),
        kind_label=forms.kind_label,
        status_labels=forms.STATUS_LABELS,
        lang_labels=forms.LANG_LABELS,
    )


@page(CASE, Permission.DOCUMENT_VIEW, case_of)
def case_documents(session: Session, access: CaseAccess) -> ResponseReturnValue:
    return _render_case_page(session, access)


def _render_case_page(
    session: Session, access: CaseAccess, form: Any = None, status: int = 200
) -> ResponseReturnValue:
    if form is None:
        form = forms.CreateDocumentForm()
    form.set_choices(access.kinds)
    return (
        render_template(
            "documents/case.html",
            case=access.case,
            access=access,
            documents=service.case_documents(session, access.case.id, access.kinds),
            withdrawn=[
                v
                for v in service.withdrawn_documents(session, access.case)
                if v.data.get("kind") in access.kinds
            ],
            form=form,
            action=ActionForm(),
            facts=_public_facts(session, access),
            event_when=event_when,
            kind_label=forms.kind_label,
            status_labels=forms.STATUS_LABELS,
            lang_labels=forms.LANG_LABELS,
            measure_labels=forms.MEASURE_STATUS_LABELS,
            has_recommendations=bool(snapshot.get_context(session, access.case.id).recommendations),
        ),
        status,
    )


@page(CASE, Permission.DOCUMENT_EDIT, case_of, methods=("POST",))
def create(session: Session, access: CaseAccess) -> ResponseReturnValue:
    form = forms.CreateDocumentForm()
    form.set_choices(access.kinds)
    if not form.validate_on_submit():
        return _render_case_page(session, access, form, 400)
    try:
        document = service.create_document(
            session, current_user, access, form.kind.data, form.lang.data, env(), form.as_of.data
        )
    except service.DocumentValidationError as error:
        if "lang" in error.errors:
            form.lang.errors = [
                _(
                    "The case's public facts are written in Japanese only: create the "
                    "document in Japanese, or write the facts in English first."
                )
            ]
        elif "as_of" in error.errors:
            form.as_of.errors = [
                _("A committee report is dated on or after the end of the committee's period.")
            ]
        else:
            raise
        return _render_case_page(session, access, form, 400)
    return saved(
        _("Draft created from the case facts."), "documents.detail", document_id=document.id
    )


# --- one document -----------------------------------------------------------------------------


def _render_detail(
    session: Session,
    document: Document,
    access: CaseAccess,
    *,
    errors: list[str] | None = None,
    findings: Sequence[GuardFinding] = (),
    comment_form: Any = None,
    status: int = 200,
) -> ResponseReturnValue:
    current = service.version(session, document)
    if comment_form is None:
        comment_form = forms.CommentForm()
    keys = SECTIONS[document.kind]
    comment_form.section.choices = [SelectChoice("", _("Whole document"))] + [
        SelectChoice(k, forms.section_label(k)) for k in keys
    ]
    last_editor_is_me = current.author_id == current_user.id
    return (
        _document_page(
            "documents/detail.html",
            document,
            access,
            freshness=service.approval_freshness(session, document, env()),
            facts_sha256=approval.current_facts_digest(session, document, env()),
            long_date=lambda day: format_date(day, "long"),
            current=current,
            keys=keys,
            section_label=forms.section_label,
            status_labels=forms.STATUS_LABELS,
            lang_labels=forms.LANG_LABELS,
            comment_form=comment_form,
            action=ActionForm(),
            errors=errors or [],
            guard_findings=findings,
            last_editor_is_me=last_editor_is_me,
            approvers=(
                approval.possible_approvers(session, document)
                if current_user.can(Permission.DOCUMENT_EDIT)
                and document.approved_version != document.current_version
                else []
            ),
        ),
        status,
    )


@page(DOCUMENT, Permission.DOCUMENT_VIEW, document_of)
def detail(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    return _render_detail(session, document, access)


@page(f"{DOCUMENT}/edit", Permission.DOCUMENT_EDIT, document_of, methods=FORM)
def edit(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    current = service.version(session, document)
    keys = SECTIONS[document.kind]
    form = forms.sections_form(
        keys, current.sections, request.form if request.method == "POST" else None
    )
    errors: list[str] = []
    status = 200
    if request.method == "GET":
        form.base_version.data = document.current_version
    elif form.validate_on_submit():
        sections = {key: getattr(form, f"s_{key}").data or "" for key in keys}
        try:
            version = service.save_sections(
                session,
                current_user,
                document,
                sections,
                base_version=form.base_version.data,
                note=form.note.data or "",
            )
        except service.StaleVersionError:
            errors.append(
                _("Someone saved a newer version meanwhile. Reload the page and edit that one.")
            )
            status = 409
        else:
            session.commit()
            if version is None:
                flash(_("Nothing changed: no new version was saved."), "info")
            else:
                flash(_("Saved as version %(n)d.", n=version.number), "success")
            return redirect(url_for("documents.detail", document_id=document.id))
    else:
        status = 400
    return (
        _document_page(
            "documents/edit.html",
            document,
            access,
            form=form,
            keys=keys,
            errors=errors,
        ),
        status,
    )


@page(f"{DOCUMENT}/comments", Permission.DOCUMENT_VIEW, document_of, methods=("POST",))
def comment(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    form = forms.CommentForm()
    form.section.choices = [SelectChoice("", "")] + [
        SelectChoice(k, k) for k in SECTIONS[document.kind]
    ]
    if not form.validate_on_submit():
        return _render_detail(session, document, access, comment_form=form, status=400)
    try:
        service.add_comment(
            session, current_user, document, form.body.data, form.section.data or ""
        )
    except service.DocumentValidationError as error:
        for name, message in error.errors.items():
            field = getattr(form, name, form.body)
            field.errors = [*field.errors, message]
        return _render_detail(session, document, access, comment_form=form, status=400)
    return saved(_("Comment added."), "documents.detail", "#comments", document_id=document.id)


@action(f"{DOCUMENT}/approve", Permission.DOCUMENT_APPROVE, document_of)
def approve(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    try:
        approval.approve(
            session,
            current_user,
            document,
            env(),
            facts_sha256=request.form.get("facts_sha256") or None,
            override=request.form.getlist("guard_override"),
        )
    except service.FactsChangedError:
        message = _(
            "The case's facts changed while you reviewed this version. Check the draft again "
            "before approving it."
        )
        return _render_detail(session, document, access, errors=[message], status=409)
    except service.SelfApprovalError:
        message = _("You wrote the newest version: another lead must approve it.")
        return _render_detail(session, document, access, errors=[message], status=400)
    except service.AlreadyApprovedError:
        return _already_approved(document)
    except PublicTextRefusedError as refused:
        return _refused_by_guard(session, document, access, refused.findings)
    return saved(
        _("Version %(n)d approved.", n=document.current_version),
        "documents.detail",
        document_id=document.id,
    )


@contextmanager
def _approval_step(
    session: Session, document: Document, access: CaseAccess, refused: str
) -> Iterator[None]:
    """A step of the approval workflow (request, send back): if the service refuses its input,
    nothing is kept and the document shows ``refused``; if the newest version was approved
    meanwhile, back to the document. Either way the view stops there (abort with the page)."""
    try:
        yield
    except service.DocumentValidationError:
        session.rollback()
        page = _render_detail(session, document, access, errors=[refused], status=400)
        abort(current_app.make_response(page))
    except service.AlreadyApprovedError:
        abort(current_app.make_response(_already_approved(document)))


@action(f"{DOCUMENT}/request-approval", Permission.DOCUMENT_EDIT, document_of)
def request_approval(
    session: Session, document: Document, access: CaseAccess
) -> ResponseReturnValue:
    refused = _("Choose a lead who may approve it and did not write the newest version.")
    with _approval_step(session, document, access, refused):
        approver = approval.request_approval(
            session, current_user, document, request.form.get("approver", "")
        )
    session.commit()
    name = approver.display_name or approver.username
    flash(_("Approval requested from %(name)s.", name=name), "success")
    return redirect(url_for("documents.detail", document_id=document.id))


@action(f"{DOCUMENT}/refuse", Permission.DOCUMENT_APPROVE, document_of)
def refuse_approval(
    session: Session, document: Document, access: CaseAccess
) -> ResponseReturnValue:
    """A lead sends the newest version back with a reason (its authors are told)."""
    refused = _("Say why you send it back (at most 2,000 characters).")
    with _approval_step(session, document, access, refused):
        approval.refuse_approval(session, current_user, document, request.form.get("reason", ""))
    return saved(
        _("Sent back to its authors with your reason."), "documents.detail", document_id=document.id
    )


@page(f"{DOCUMENT}/withdraw", Permission.DOCUMENT_EDIT, document_of, methods=FORM)
def withdraw(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    """Withdrawing an unused draft asks first: a confirmation page with the reason."""
    form = ReasonForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
            status = 400
        else:
            case_id = document.case_id
            try:
                service.withdraw(session, current_user, document, form.reason.data)
            except service.NotWithdrawableError:
                flash(_("An approved document cannot be withdrawn."), "error")
                return redirect(url_for("documents.detail", document_id=document.id))
            return saved(_("The draft was withdrawn."), "documents.case_documents", case_id=case_id)
    html = _document_page(
        "documents/withdraw.html",
        document,
        access,
        form=form,
    )
    return html, status


@action(f"{DOCUMENT}/new-version", Permission.DOCUMENT_EDIT, document_of)
def new_version(session: Session, document: Document, _access: CaseAccess) -> ResponseReturnValue:
    try:
        row = service.new_version_from_current_facts(session, current_user, document)
    except service.NotApprovedError:
        flash(_("The newest version is a draft: it already uses the case's current facts."), "info")
        return redirect(url_for("documents.detail", document_id=document.id))
    session.commit()
    flash(
        _(
            "Version %(n)d uses the case's current facts. It needs a new approval before its "
            "final export.",
            n=row.number,
        ),
        "success",
    )
    return redirect(url_for("documents.detail", document_id=document.id))


@action(f"{DOCUMENT}/export", Permission.DOCUMENT_EXPORT, document_of, reauth=True)
def export(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    number = request.form.get("version", type=int)
    try:
        result = service.export_document(
            session,
            current_user,
            document,
            env(),
            number=number,
            override=request.form.getlist("guard_override"),
        )
    except PublicTextRefusedError as refused:
        session.commit()  # keep the audit record of the refusal
        return _refused_by_guard(session, document, access, refused.findings)
    except service.DocumentValidationError:
        abort(404)
    except service.FrozenUnreadableError:
        message = _(
            "The approved version cannot be rebuilt from its stored facts. Create a new version "
            "from current facts and have it approved."
        )
        return _render_detail(session, document, access, errors=[message], status=409)
    session.commit()
    return send_file(
        _bytes(result.data),
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        as_attachment=True,
        download_name=result.filename,
    )


def _bytes(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


@page(f"{DOCUMENT}/diff", Permission.DOCUMENT_VIEW, document_of)
def diff(session: Session, document: Document, access: CaseAccess) -> ResponseReturnValue:
    new = request.args.get("to", type=int) or document.current_version
    old = request.args.get("from", type=int) or max(1, new - 1)
    if not (1 <= old <= document.current_version and 1 <= new <= document.current_version):
        abort(404)
    return _document_page(
        "documents/diff.html",
        document,
        access,
        old=old,
        new=new,
        sections=service.diff_document(session, document, old, new),
        section_label=forms.section_label,
    )


# --- the case's public context ------------------------------------------------------------------


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# Free texts of the facts for documents, as they are (the PPC form's, the press release's).
# The texts added with the PPC form and the notices: saved trimmed (the first ones as typed).
TRIMMED_TEXTS = frozenset(
    (
        "occurrence",
        "discovery",
        "medium",
        "direct_cause",
        "reporter",
        "data_holder",
        "contact_person",
        "future_actions",
        "caution",
        "discipline",
    )
)


def _context_texts(form: Any) -> dict[str, str]:
    """The free texts of the facts form, for the case's document context."""
    values = {name: getattr(form, name).data or "" for name in snapshot.CONTEXT_TEXTS}
    return {k: v.strip() if k in TRIMMED_TEXTS else v for k, v in values.items()}


def _meetings_valid(form: Any) -> bool:
    """Each meeting line starts with its day (YYYY-MM-DD); a form error otherwise."""
    for row in _pipe_rows(form.committee_meetings.data, ("day", "summary")):
        if snapshot.parse_date(row["day"]) is None:
            form.committee_meetings.errors = [
                _("Each meeting needs its date first, e.g. 2015-07-01 | what was done.")
            ]
            return False
    return True


def _period_valid(form: Any) -> bool:
    """The committee's period does not end before it starts; a form error otherwise."""
    start, end = form.committee_period_start.data, form.committee_period_end.data
    if start is not None and end is not None and end < start:
        form.committee_period_end.errors = [_("The period cannot end before it starts.")]
        return False
    return True


def _pipe_rows(text: str | None, names: tuple[str, ...]) -> list[dict[str, str]]:
    rows = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split("|")]
        rows.append({name: (parts[i] if i < len(parts) else "") for i, name in enumerate(names)})
    return rows


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=current_app.config["CSIRT"].tz)


def _local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(current_app.config["CSIRT"].tz).replace(tzinfo=None)


@page(f"{CASE}/facts", Permission.DOCUMENT_EDIT, case_of, methods=FORM)
def case_facts(session: Session, access: CaseAccess) -> ResponseReturnValue:
    context = snapshot.get_context(session, access.case.id)
    form = forms.ContextForm()
    if request.method == "GET":
        _fill_context_form(form, context)
    elif form.validate_on_submit() and _meetings_valid(form) and _period_valid(form):
        committee = None
        if form.committee_name.data:
            committee = {
                "name": form.committee_name.data,
                "mandate": form.committee_mandate.data or "",
                "independence": form.committee_independence.data or "",
                "scope": form.committee_scope.data or "",
                "method": form.committee_method.data or "",
                "period_start": form.committee_period_start.data.isoformat()
                if form.committee_period_start.data
                else "",
                "period_end": form.committee_period_end.data.isoformat()
                if form.committee_period_end.data
                else "",
                "members": _pipe_rows(form.committee_members.data, ("name", "affiliation", "role")),
                "meetings": _pipe_rows(form.committee_meetings.data, ("day", "summary")),
            }
        recommendations = [
            {"number": i, **row}
            for i, row in enumerate(
                _pipe_rows(form.recommendations.data, ("title", "text", "owner", "finding")),
                start=1,
            )
        ]
        service.save_context(
            session,
            current_user,
            access.case,
            {
                **_context_texts(form),
                "causes": _lines(form.causes.data),
                "findings": _lines(form.findings.data),
                "staff_age": form.staff_age.data,
                "ppc_stage": form.ppc_stage.data,
                "first_report_at": _aware(form.first_report_at.data),
                "first_contact_at": _aware(form.first_contact_at.data),
                "committee": committee,
                "recommendations": recommendations,
                "contact": {
                    key: value
                    for key in ("department", "phone", "email")
                    if (value := (getattr(form, f"contact_{key}").data or "").strip())
                },
            },
        )
        return saved(
            _("Facts for documents saved. New drafts use them."),
            "documents.case_documents",
            case_id=access.case.id,
        )
    status = 400 if request.method == "POST" else 200
    return (
        render_template("documents/facts.html", case=access.case, access=access, form=form),
        status,
    )


def _fill_context_form(form: Any, context: Any) -> None:
    form.causes.data = "\n".join(context.causes or [])
    form.findings.data = "\n".join(context.findings or [])
    for name in (*snapshot.CONTEXT_TEXTS, "staff_age", "ppc_stage"):
        getattr(form, name).data = getattr(context, name)
    for key, value in (context.contact or {}).items():
        if key in ("department", "phone", "email"):
            getattr(form, f"contact_{key}").data = value
    form.first_report_at.data = _local(context.first_report_at)
    form.first_contact_at.data = _local(context.first_contact_at)
    committee = context.committee or {}
    for name in ("name", "mandate", "independence", "scope", "method"):
        getattr(form, f"committee_{name}").data = committee.get(name, "")
    form.committee_period_start.data = snapshot.parse_date(committee.get("period_start"))
    form.committee_period_end.data = snapshot.parse_date(committee.get("period_end"))
    form.committee_members.data = "\n".join(
        " | ".join((m.get("name", ""), m.get("affiliation", ""), m.get("role", "")))
        for m in committee.get("members", [])
    )
    form.committee_meetings.data = "\n".join(
        f"{m.get('day', '')} | {m.get('summary', '')}" for m in committee.get("meetings", [])
    )
    form.recommendations.data = "\n".join(
        " | ".join(
            (r.get("title", ""), r.get("text", ""), r.get("owner", ""), r.get("finding", ""))
        ).rstrip(" |")
        for r in context.recommendations or []
    )
