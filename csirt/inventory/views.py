"""Inventory pages: the list with search, a file's page (edit with history, overlaps), the
register CSV in and out, and the "which files?" choice on a case's data-set tab."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import persons
from csirt.cases.access import case_or_404
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.forms import ActionForm
from csirt.i18n import current_lang
from csirt.inventory import forms, service
from csirt.inventory.web import csv_response
from csirt.triage.exposure import Exposure
from csirt.web import missing_is_404

bp = Blueprint("inventory", __name__)
PAGE = 50


def _tz() -> Any:
    return current_app.config["CSIRT"].tz


def _search() -> service.Search:
    args = request.args
    return service.Search(
        q=args.get("q", "").strip()[:200],
        system=args.get("system", "").strip()[:200],
        holder=args.get("holder", "").strip()[:200],
    )


def _file_form(**kwargs: Any) -> forms.FileForm:
    form = forms.FileForm(**kwargs)
    vocabulary, lang = current_catalog().vocabulary, current_lang()
    form.items.choices = [
        SelectChoice(key, item.label(lang) + (f" ({_('special care')})" if item.sensitive else ""))
        for key, item in vocabulary.items()
    ]
    return form


def _payload(form: forms.FileForm) -> dict[str, Any]:
    skip = {"csrf_token", "reason"}
    return {name: field.data for name, field in form._fields.items() if name not in skip}


def _read(form: forms.FileForm) -> service.FileInput | None:
    """The form read by the shared reader, or None with the errors on the form."""
    if not form.validate_on_submit():
        return None
    try:
        return service.read_file(_payload(form), current_catalog().vocabulary, _tz())
    except service.InventoryValidationError as error:
        for key, message in error.errors.items():
            field = form._fields.get(key.split(".")[0])
            if field is not None:
                field.errors = [*field.errors, message]
        return None


def _common() -> dict[str, Any]:
    vocabulary = current_catalog().vocabulary
    return {
        "vocabulary": vocabulary,
        "lang": current_lang(),
        "sensitive": vocabulary.sensitive_keys(),
    }


@bp.get("/console/inventory")
@requires(Permission.INVENTORY_VIEW)
def index() -> ResponseReturnValue:
    session = get_session()
    what = _search()
    after = request.args.get("after", "")
    cursor = int(after) if after.isascii() and after.isdigit() and len(after) < 10 else None
    rows, next_id = service.search(session, what, limit=PAGE, cursor=cursor)
    exposure = service.exposure_of(session, what.system) if what.system else None
    return render_template(
        "inventory/index.html",
        rows=rows,
        next_id=next_id,
        search=what,
        exposure=exposure,
        systems=service.systems(session),
        total=service.count(session),
        **_common(),
    )


@bp.route("/console/inventory/new", methods=["GET", "POST"])
@requires(Permission.INVENTORY_EDIT)
def new() -> ResponseReturnValue:
    form = _file_form()
    del form.reason
    data = _read(form) if request.method == "POST" else None
    if data is not None:
        session = get_session()
        row = service.create_file(session, current_user, data)
        session.commit()
        flash(_("File registered."), "success")
        return redirect(url_for("inventory.detail", file_id=row.id))
    status = 400 if request.method == "POST" else 200
    return render_template("inventory/edit.html", form=form, row=None), status


def _file_or_404(file_id: int) -> Any:
    with missing_is_404(service.InventoryNotFoundError):
        return service.get_file(get_session(), file_id)


def _detail(row: Any, form: forms.FileForm, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    overlaps = service.overlaps_of(session, [row.id])
    others = {o.file_a_id for o in overlaps} | {o.file_b_id for o in overlaps}
    overlap_form = forms.OverlapForm(prefix="overlap")
    overlap_form.other_id.choices = [
        SelectChoice(str(f.id), f"{f.name} ({f.holder})")
        for f in service.search(session, service.Search(), limit=500)[0]
        if f.id != row.id
    ]
    return (
        render_template(
            "inventory/detail.html",
            row=row,
            form=form,
            overlaps=overlaps,
            names={f.id: f.name for f in service.files_by_id(session, others)},
            overlap_form=overlap_form,
            versions=service.history(session, row),
            **_common(),
        ),
        status,
    )


@bp.get("/console/inventory/<int:file_id>")
@requires(Permission.INVENTORY_VIEW)
def detail(file_id: int) -> ResponseReturnValue:
    row = _file_or_404(file_id)
    data = service.snapshot(row)
    data["systems"] = "\n".join(row.systems)
    return _detail(row, _file_form(data=data))


@bp.post("/console/inventory/<int:file_id>")
@requires(Permission.INVENTORY_EDIT)
def edit(file_id: int) -> ResponseReturnValue:
    row = _file_or_404(file_id)
    form = _file_form()
    data = _read(form)
    if data is None:
        return _detail(row, form, 400)
    session = get_session()
    service.update_file(session, current_user, row, data, form.reason.data or "")
    session.commit()
    flash(_("File saved; the previous version is kept."), "success")
    return redirect(url_for("inventory.detail", file_id=row.id))


@bp.post("/console/inventory/<int:file_id>/overlaps")
@requires(Permission.INVENTORY_EDIT)
def overlap(file_id: int) -> ResponseReturnValue:
    row = _file_or_404(file_id)
    back = redirect(url_for("inventory.detail", file_id=row.id))
    form = forms.OverlapForm(prefix="overlap")
    other = form.other_id.data or ""
    if not form.validate_on_submit() or not (other.isascii() and other.isdigit()):
        flash(_("Choose the other file and the number of persons in both."), "error")
        return back
    session = get_session()
    try:
        service.declare_overlap(
            session, current_user, row.id, int(other), form.persons.data, form.note.data or ""
        )
    except service.InventoryValidationError as error:
        session.rollback()
        flash(
            _("The overlap was not saved: %(why)s", why="; ".join(error.errors.values())), "error"
        )
        return back
    session.commit()
    flash(_("Overlap declared."), "success")
    return back


@bp.route("/console/inventory/import", methods=["GET", "POST"])
@requires(Permission.INVENTORY_EDIT)
def import_csv() -> ResponseReturnValue:
    form = forms.ImportForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = form.file.data if form.validate_on_submit() else None
        if upload is None or not getattr(upload, "read", None):
            errors = {"file": _("Choose a CSV file.")}
        else:
            session = get_session()
            try:
                result = service.import_csv(
                    session, current_user, upload.read(), current_catalog().vocabulary, _tz()
                )
            except service.InventoryValidationError as error:
                session.rollback()
                errors = error.errors
            else:
                session.commit()
                flash(
                    _(
                        "%(created)d files added, %(updated)d updated.",
                        created=result.created,
                        updated=result.updated,
                    ),
                    "success",
                )
                return redirect(url_for("inventory.index"))
    status = 400 if errors else 200
    return render_template("inventory/import.html", form=form, errors=errors), status


@bp.get("/console/inventory/export.csv")
@writes
@requires(Permission.INVENTORY_VIEW)
def export_csv() -> ResponseReturnValue:
    session = get_session()
    text = service.export_csv(session, current_user, current_catalog().vocabulary)
    session.commit()
    return csv_response(text)


@bp.post("/console/cases/<int:case_id>/inventory/pick")
@requires(Permission.CASE_EDIT)
def pick(case_id: int) -> ResponseReturnValue:
    """The chosen files become data sets of the case (triage runs through the records service)."""
    if not current_user.can(Permission.INVENTORY_VIEW):
        abort(403)
    case = case_or_404(case_id)
    form = forms.PickForm()
    form.exposure.choices = [SelectChoice(e.value, e.value) for e in Exposure]
    ids = [int(v) for v in request.form.getlist("file_id") if v.isascii() and v.isdigit()][:100]
    if not form.validate_on_submit() or not ids:
        flash(_("Choose at least one file."), "error")
        return redirect(url_for("records.datasets", case_id=case.id))
    session = get_session()
    added = service.pick_files(
        session, case, current_user, ids, form.exposure.data, current_catalog().vocabulary, _tz()
    )
    session.commit()
    flash(_("%(n)d data sets added from the inventory.", n=len(added)), "success")
    return redirect(url_for("records.datasets", case_id=case.id, _anchor="totals"))


@bp.post("/console/cases/<int:case_id>/inventory/state-total")
@requires(Permission.CASE_EDIT)
def state_total(case_id: int) -> ResponseReturnValue:
    """Take the deduplicated total as the number of persons the organisation states (the one
    the documents use)."""
    if not current_user.can(Permission.INVENTORY_VIEW):
        abort(403)
    case = case_or_404(case_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    session = get_session()
    total = service.case_total(session, case)
    persons.set_persons_total(
        session,
        current_user,
        case,
        {"persons_total": total.persons, "persons_total_note": service.DEDUP_NOTE},
    )
    session.commit()
    flash(_("The deduplicated total is now the stated number of persons."), "success")
    return redirect(url_for("records.datasets", case_id=case.id, _anchor="dedup"))
