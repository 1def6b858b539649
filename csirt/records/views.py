"""Case record pages: data sets, evidence, notes, liaison, public inquiries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import corrections
from csirt.cases.access import case_or_404, case_page
from csirt.cases.history import record_history
from csirt.cases.models import AffectedDataset, Case, Evidence, Inquiry
from csirt.catalog.current import current_catalog
from csirt.db import Base, get_session, writes
from csirt.forms import ActionForm, require_action
from csirt.i18n import current_lang
from csirt.inventory import service as inventory
from csirt.inventory.forms import PickForm
from csirt.records import forms, service, validation
from csirt.records.markdown import render_markdown
from csirt.records.web import evidence_response, evidence_store, tz
from csirt.triage.exposure import Exposure

bp = Blueprint("records", __name__, url_prefix="/console/cases/<int:case_id>")

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F", bound=FlaskForm)
M = TypeVar("M", bound=Base)
INQUIRY_PAGE = 100

# Messages of the shared readers that a form can still reach after its own validators.
MESSAGES = {
    "is required": _l("This field is required."),
    "must be an http(s) URL": _l("Enter an http or https URL."),
    "must be an ISO 8601 date-time": _l("Enter a date and time."),
    "must be a date (YYYY-MM-DD)": _l("Enter a date."),
    "must not be before exposed_from": _l("The end must not be before the start."),
    "must not be before requested_at": _l("The answer must not be before the request."),
    "must not be before the request": _l("The answer must not be before the request."),
    "unknown data item": _l("Unknown data item."),
    "the file is empty": _l("The file is empty."),
    "a capture must be HTML, PNG, JPEG or PDF": _l("A capture must be HTML, PNG, JPEG or PDF."),
    "no such evidence in this case": _l("No such evidence in this case."),
}


load_case = case_or_404


def not_found() -> NoReturn:
    abort(404)


def _payload(form: FlaskForm) -> dict[str, Any]:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def read_form(form: FlaskForm, reader: Callable[[Mapping[str, Any]], T]) -> T | None:
    """The form's values read by the shared reader, or None with the errors on the form."""
    if not form.validate_on_submit():
        return None
    try:
        return reader(_payload(form))
    except validation.RecordValidationError as error:
        show_errors(form, error.errors)
        return None


def show_errors(form: FlaskForm, errors: Mapping[str, str]) -> None:
    for key, message in errors.items():
        text = str(MESSAGES.get(message, message))
        field = form._fields.get(key.split(".")[0])
        if field is None:
            flash(text, "error")
        else:
            field.errors = [*field.errors, text]


def _record(model: type[M], case: Case, record_id: int) -> M:
    """A record of ``model`` in the case, or 404."""
    try:
        return service.get_record(get_session(), model, case, record_id)
    except service.RecordNotFoundError:
        not_found()


def _back(endpoint: str, case: Case, **values: Any) -> ResponseReturnValue:
    return redirect(url_for(endpoint, case_id=case.id, **values))


def _tab(name: str, case: Case, status: int, **context: Any) -> ResponseReturnValue:
    """The case's ``name`` tab (``records/<name>.html``) with its context."""
    page = render_template(f"records/{name}.html", case=case, active=f"records.{name}", **context)
    return page, status


def _corrected_tab(
    spec: corrections.ConsoleKind,
    case: Case,
    status: int,
    rows: list[R],
    author: Callable[[R], int | None],
    **context: Any,
) -> ResponseReturnValue:
    """The tab of a kind corrected with history: its rows with their authors' names, and the
    deleted ones (the ``deleted_table`` macro)."""
    session = get_session()
    return _tab(
        spec.back,
        case,
        status,
        rows=rows,
        names=service.user_names(session, {author(row) for row in rows}),
        **context,
        **corrections.deleted_context(session, spec, bp.name, case),
    )


def _corrections(
    tab: str,
    name: str,
    kind: Any,
    label: Callable[[Mapping[str, Any]], str],
    words: Mapping[str, Any],
    edit_page: corrections.EditPage | None = None,
) -> corrections.ConsoleKind:
    """Register the console corrections (edit, delete, restore, history) of the records shown
    on the tab ``tab``, whose endpoints start with ``name``."""
    spec = corrections.ConsoleKind(
        kind=kind,
        rule=f"/{tab}",
        name=name,
        back=tab,
        active=f"records.{tab}",
        label=label,
        words=words,
        edit_page=edit_page,
    )
    corrections.console_routes(bp, spec, load_case)
    return spec


def _edit_page(
    form_class: type[FlaskForm],
    fill: Callable[[Any], dict[str, Any]],
    correct: Callable[..., Any],
    **options: Any,
) -> corrections.EditPage:
    """An edit page whose changed fields ``correct(session, case, actor, row, data, reason,
    zone)`` of the service reads again, its errors shown on the form."""
    return corrections.EditPage(
        form_class=form_class,
        fill=fill,
        edit=lambda session, case, actor, row, data, reason: correct(
            session, case, actor, row, data, reason, tz()
        ),
        show_errors=show_errors,
        **options,
    )


def _create(
    case: Case,
    form: F,
    reader: Callable[[Mapping[str, Any]], T],
    add: Callable[[Session, Case, Any, T], R],
    render: Callable[[Case, F, int], ResponseReturnValue],
    message: str,
    endpoint: str,
    anchor: Callable[[R], str] | None = None,
    **values: Any,
) -> ResponseReturnValue:
    """Add a record from a posted form: the page again with the errors (400), or the record
    added by ``add(session, case, user, data)``, committed, and back to ``endpoint``."""
    data = read_form(form, reader)
    if data is None:
        return render(case, form, 400)
    session = get_session()
    row = add(session, case, current_user, data)
    session.commit()
    flash(message, "success")
    if anchor is not None:
        values["_anchor"] = anchor(row)
    return _back(endpoint, case, **values)


def _tab_routes(
    name: str,
    added: str,
    render: Callable[..., ResponseReturnValue],
    make_form: Callable[[], F],
    reader: Callable[[Mapping[str, Any]], T],
    add: Callable[[Session, Case, Any, T], R],
    message: Any,
    anchor: Callable[[R], str] | None = None,
) -> None:
    """The tab of one kind of a case's records (:func:`_tab_page`) whose POST adds one from
    its form (:func:`_create`), saying ``message`` (lazy text) and going back to the tab."""

    def create(case: Case) -> ResponseReturnValue:
        return _create(
            case, make_form(), reader, add, render, str(message), f"records.{name}", anchor
        )

    _tab_page(name, added, render, create)


def _tab_page(
    name: str,
    added: str,
    render: Callable[..., ResponseReturnValue],
    create: Callable[[Case], ResponseReturnValue],
) -> None:
    """The tab of one kind of a case's records: GET ``/<name>`` shows it (endpoint ``name``),
    POST adds one (endpoint ``added``) by ``create(case)``."""

    case_page(bp, f"/{name}", name, render)

    @requires(Permission.CASE_EDIT)
    def post(case_id: int) -> ResponseReturnValue:
        return create(load_case(case_id))

    bp.add_url_rule(f"/{name}", added, post, methods=["POST"])


def _exposure_labels() -> dict[str, str]:
    vocabulary, lang = current_catalog().vocabulary, current_lang()
    return {e.value: vocabulary.exposure_label(e, lang) for e in Exposure}


# --- affected data sets -------------------------------------------------------------------


def _dataset_form(**kwargs: Any) -> forms.DatasetForm:
    form = forms.DatasetForm(**kwargs)
    vocabulary = current_catalog().vocabulary
    lang = current_lang()
    form.items.choices = [
        SelectChoice(key, item.label(lang) + (f" ({_('special care')})" if item.sensitive else ""))
        for key, item in vocabulary.items()
    ]
    form.exposure.choices = [SelectChoice(k, v) for k, v in _exposure_labels().items()]
    return form


def _render_datasets(
    case: Case, form: forms.DatasetForm | None = None, status: int = 200
) -> ResponseReturnValue:
    session = get_session()
    rows = service.list_datasets(session, case)
    vocabulary = current_catalog().vocabulary
    totals = service.dataset_totals(rows, vocabulary.sensitive_keys())
    return _tab(
        "datasets",
        case,
        status,
        rows=rows,
        totals=totals,
        vocabulary=vocabulary,
        lang=current_lang(),
        sensitive=vocabulary.sensitive_keys(),
        exposure_labels=_exposure_labels(),
        form=form or _dataset_form(),
        inventory=_inventory_panel(session, case),
        pick_form=_pick_form(),
        delete_form=ActionForm(),
        **corrections.deleted_context(session, DATASETS, bp.name, case),
    )


def _inventory_panel(session: Session, case: Case) -> inventory.CasePanel:
    """The data sets taken from the inventory, the deduplicated total, "which files?"."""
    args = request.args
    what = inventory.Search(
        q=args.get("inv_q", "").strip()[:200],
        system=args.get("inv_system", "").strip()[:200],
        holder=args.get("inv_holder", "").strip()[:200],
    )
    may = current_user.can(Permission.INVENTORY_VIEW)
    return inventory.case_panel(session, case, what, may_search=may)


def _pick_form() -> PickForm:
    form = PickForm()
    form.exposure.choices = [SelectChoice(k, v) for k, v in _exposure_labels().items()]
    return form


def _read_dataset(payload: Mapping[str, Any]) -> validation.DatasetInput:
    return validation.read_dataset(payload, current_catalog().vocabulary, tz())


_tab_routes(
    "datasets",
    "add_dataset",
    _render_datasets,
    _dataset_form,
    _read_dataset,
    service.add_dataset,
    _l("Data set added."),
)


def _local_input(value: Any) -> str:
    return value.astimezone(tz()).strftime("%Y-%m-%dT%H:%M") if value else ""


@bp.route("/datasets/<int:dataset_id>/edit", methods=["GET", "POST"])
@requires(Permission.CASE_EDIT)
def edit_dataset(case_id: int, dataset_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    session = get_session()
    row = _record(AffectedDataset, case, dataset_id)
    if request.method == "GET":
        form = _dataset_form(obj=row)
        form.exposed_from.data = _local_input(row.exposed_from)
        form.exposed_until.data = _local_input(row.exposed_until)
        status = 200
    else:
        form = _dataset_form()
        data = read_form(form, _read_dataset)
        if data is not None:
            service.update_dataset(session, case, current_user, dataset_id, data)
            session.commit()
            flash(_("Data set saved."), "success")
            return _back("records.datasets", case)
        status = 400
    page = render_template(
        "records/dataset_edit.html",
        case=case,
        active="records.datasets",
        form=form,
        row=row,
        versions=record_history(session, service.DATASET, case, row.id),
        label=DATASETS.label,
    )
    return page, status


DATASETS = _corrections(
    "datasets",
    "dataset",
    service.DATASET,
    lambda data: (
        f"{data.get('name', '')} — " + _("%(n)s persons", n=f"{data.get('persons') or 0:,}")
    ),
    {
        "delete_title": _l("Delete this data set?"),
        "delete_text": _l(
            "The triage is evaluated again without it. It is kept in its history with your "
            "reason, and a lead can restore it."
        ),
        "delete_button": _l("Delete the data set"),
        "deleted": _l("Data set deleted. A lead can restore it."),
        "restored": _l("Data set restored."),
    },
)


# --- evidence -----------------------------------------------------------------------------


def _takedown_form(case: Case, session: Session, **kwargs: Any) -> forms.TakedownForm:
    # Prefixed: the page also holds the evidence form, whose field ids must not repeat.
    form = forms.TakedownForm(prefix="td", **kwargs)
    form.evidence_id.choices = [SelectChoice("", _("(none)"))] + [
        SelectChoice(str(e.id), f"#{e.id} {e.title}") for e in service.list_evidence(session, case)
    ]
    return form


def _render_evidence(
    case: Case,
    *,
    form: forms.EvidenceForm | None = None,
    takedown_form: forms.TakedownForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = get_session()
    rows = service.list_evidence(session, case)
    takedowns = service.list_takedowns(session, case)
    return _tab(
        "evidence",
        case,
        status,
        rows=rows,
        names=service.user_names(session, {r.added_by_id for r in rows}),
        takedowns=takedowns,
        kind_labels=forms.KIND_LABELS,
        takedown_kind_labels=forms.TAKEDOWN_KIND_LABELS,
        status_labels=forms.TAKEDOWN_STATUS_LABELS,
        form=form or forms.EvidenceForm(),
        takedown_form=takedown_form or _takedown_form(case, session),
        answer_form=forms.TakedownAnswerForm,
    )


def _add_evidence(case: Case) -> ResponseReturnValue:
    form = forms.EvidenceForm()
    upload = request.files.get("file")
    has_file = upload is not None and bool(upload.filename)
    data = read_form(
        form, lambda payload: validation.read_evidence(payload, tz(), has_file=has_file)
    )
    if data is None or upload is None:
        return _render_evidence(case, form=form, status=400)
    session = get_session()
    store = evidence_store()
    try:
        row, blob = service.add_evidence(
            session, store, case, current_user, data, upload.stream, upload.filename
        )
    except validation.RecordValidationError as error:
        show_errors(form, error.errors)
        return _render_evidence(case, form=form, status=400)
    try:
        session.commit()
    except BaseException:
        service.discard_blob(session, store, blob)
        raise
    flash(_("Evidence added. SHA-256: %(sha)s", sha=row.sha256), "success")
    return _back("records.evidence_detail", case, evidence_id=row.id)


_tab_page("evidence", "add_evidence", _render_evidence, _add_evidence)


def _render_evidence_detail(
    case: Case, row: Evidence, form: forms.CustodyForm | None = None, status: int = 200
) -> ResponseReturnValue:
    session = get_session()
    custody = service.custody_of(session, row)
    names = service.user_names(session, {row.added_by_id})
    return (
        render_template(
            "records/evidence_detail.html",
            case=case,
            active="records.evidence",
            row=row,
            added_by=names.get(row.added_by_id or 0, ""),
            custody=custody,
            kind_labels=forms.KIND_LABELS,
            custody_labels=forms.CUSTODY_LABELS,
            form=form or forms.CustodyForm(),
        ),
        status,
    )


@bp.get("/evidence/<int:evidence_id>")
@requires(Permission.CASE_VIEW)
def evidence_detail(case_id: int, evidence_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    return _render_evidence_detail(case, _record(Evidence, case, evidence_id))


@bp.post("/evidence/<int:evidence_id>/custody")
@requires(Permission.CASE_EDIT)
def add_custody(case_id: int, evidence_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    row = _record(Evidence, case, evidence_id)
    return _create(
        case,
        forms.CustodyForm(),
        lambda payload: validation.read_custody(payload, tz()),
        lambda session, case, user, data: service.add_custody(session, case, user, row.id, data),
        lambda case, form, status: _render_evidence_detail(case, row, form, status),
        _("Custody entry added."),
        "records.evidence_detail",
        evidence_id=row.id,
    )


@bp.get("/evidence/<int:evidence_id>/download")
@writes
@requires(Permission.CASE_VIEW)
def download_evidence(case_id: int, evidence_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    session = get_session()
    try:
        row = service.open_for_download(session, case, current_user, evidence_id)
    except service.RecordNotFoundError:
        not_found()
    response = evidence_response(row)
    session.commit()  # the custody entry and audit event are kept only if the file is there
    return response


@bp.post("/takedowns")
@requires(Permission.CASE_EDIT)
def add_takedown(case_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    session = get_session()
    form = _takedown_form(case, session)
    data = read_form(form, lambda payload: validation.read_takedown(payload, tz()))
    if data is not None:
        try:
            service.add_takedown(session, case, current_user, data)
        except validation.RecordValidationError as error:
            show_errors(form, error.errors)
            data = None
    if data is None:
        return _render_evidence(case, takedown_form=form, status=400)
    session.commit()
    flash(_("Request recorded."), "success")
    return _back("records.evidence", case, _anchor="takedowns")


@bp.post("/takedowns/<int:takedown_id>")
@requires(Permission.CASE_EDIT)
def answer_takedown(case_id: int, takedown_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    session = get_session()
    form = forms.TakedownAnswerForm(prefix=f"t{takedown_id}")
    data = read_form(form, lambda payload: validation.read_takedown_answer(payload, tz()))
    if data is not None:
        try:
            service.answer_takedown(session, case, current_user, takedown_id, data)
        except service.RecordNotFoundError:
            not_found()
        except validation.RecordValidationError as error:
            show_errors(form, error.errors)
            data = None
    if data is None:
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
        return _render_evidence(case, status=400)
    session.commit()
    flash(_("Request updated."), "success")
    return _back("records.evidence", case, _anchor="takedowns")


# --- notes --------------------------------------------------------------------------------


def _render_notes(
    case: Case, form: forms.NoteForm | None = None, status: int = 200
) -> ResponseReturnValue:
    rows = service.list_notes(get_session(), case)
    return _corrected_tab(
        NOTES,
        case,
        status,
        rows,
        lambda row: row.author_id,
        rendered={r.id: render_markdown(r.body) for r in rows},
        form=form or forms.NoteForm(),
    )


_tab_routes(
    "notes",
    "add_note",
    _render_notes,
    forms.NoteForm,
    lambda payload: validation.read_note(payload, tz()),
    service.add_note,
    _l("Note added."),
    anchor=lambda note: f"note-{note.id}",
)


NOTES = _corrections(
    "notes",
    "note",
    service.NOTE,
    lambda data: _excerpt(str(data.get("body", ""))),
    {
        "edit_title": _l("Edit note"),
        "delete_link": _l("Delete this note…"),
        "delete_title": _l("Delete this note?"),
        "delete_text": _l(
            "The note leaves the case. It is kept in its history with your reason, and a lead "
            "can restore it."
        ),
        "delete_button": _l("Delete the note"),
        "deleted": _l("Note deleted. A lead can restore it."),
        "restored": _l("Note restored."),
        "saved": _l("Note saved."),
    },
    _edit_page(
        forms.NoteForm,
        lambda row: {"body": row.body},
        service.correct_note,
        may_edit=lambda row, user: row.author_id == user.id,
    ),
)


def _excerpt(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- liaison ------------------------------------------------------------------------------


def _render_liaison(
    case: Case, form: forms.LiaisonForm | None = None, status: int = 200
) -> ResponseReturnValue:
    return _corrected_tab(
        LIAISON,
        case,
        status,
        service.list_liaison(get_session(), case),
        lambda row: row.recorded_by_id,
        party_labels=forms.PARTY_LABELS,
        direction_labels=forms.DIRECTION_LABELS,
        form=form or forms.LiaisonForm(),
    )


_tab_routes(
    "liaison",
    "add_liaison",
    _render_liaison,
    forms.LiaisonForm,
    lambda payload: validation.read_liaison(payload, tz()),
    service.add_liaison,
    _l("Contact recorded."),
)


LIAISON = _corrections(
    "liaison",
    "liaison",
    service.LIAISON,
    lambda data: f"{data.get('party', '')} — {_excerpt(str(data.get('summary') or ''))}",
    {
        "edit_title": _l("Edit contact"),
        "delete_link": _l("Delete this contact…"),
        "delete_title": _l("Delete this contact?"),
        "delete_text": _l(
            "The contact leaves the liaison log. It is kept in its history with your reason, "
            "and a lead can restore it."
        ),
        "delete_button": _l("Delete the contact"),
        "deleted": _l("Contact deleted. A lead can restore it."),
        "restored": _l("Contact restored."),
        "saved": _l("Contact saved."),
    },
    _edit_page(
        forms.LiaisonForm,
        lambda row: {
            "party_kind": row.party_kind,
            "party": row.party,
            "contact_at": _local_input(row.contact_at),
            "direction": row.direction,
            "summary": row.summary,
        },
        service.correct_liaison,
    ),
)


# --- public inquiries ---------------------------------------------------------------------


def _render_inquiries(
    case: Case, form: forms.InquiryForm | None = None, status: int = 200
) -> ResponseReturnValue:
    session = get_session()
    counts = service.inquiry_counts(session, case)
    cursor = request.args.get("cursor", type=int)
    rows, next_cursor = service.page_of(session, Inquiry, case, limit=INQUIRY_PAGE, cursor=cursor)
    return _tab(
        "inquiries",
        case,
        status,
        counts=counts,
        total=sum(c.total for c in counts),
        answered=sum(c.answered for c in counts),
        chart=service.inquiry_chart(counts),
        rows=rows,
        next_cursor=next_cursor,
        channel_labels=forms.CHANNEL_LABELS,
        form=form or forms.InquiryForm(),
        answer_form=ActionForm(),
    )


_tab_routes(
    "inquiries",
    "add_inquiry",
    _render_inquiries,
    forms.InquiryForm,
    lambda payload: validation.read_inquiry(payload, tz()),
    service.add_inquiry,
    _l("Inquiry recorded."),
)


@bp.post("/inquiries/<int:inquiry_id>/answered")
@requires(Permission.CASE_EDIT)
def answer_inquiry(case_id: int, inquiry_id: int) -> ResponseReturnValue:
    case = load_case(case_id)
    require_action()
    session = get_session()
    try:
        service.mark_answered(session, case, current_user, inquiry_id)
    except service.RecordNotFoundError:
        not_found()
    session.commit()
    return _back("records.inquiries", case, _anchor=f"inquiry-{inquiry_id}")
