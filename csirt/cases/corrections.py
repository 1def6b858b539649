"""The routes of corrections with history, made once for every kind of case record.

``csirt.cases.history`` keeps the versions; this module gives a kind its routes:

- ``api_routes``: ``PATCH`` and ``DELETE`` on ``/api/v1/cases/<id>/<path>/<record_id>``,
  ``POST …/restore`` (leads) and ``GET …/history``, documented through the pydantic models
  (the ``PATCH`` body is the kind's create model with every field optional, plus ``reason``);
- ``console_routes``: the edit page with the history (optional), the confirmation page before
  a deletion (works without JavaScript) and the lead's restore.

A kind writes only what is its own: the ``edit`` service call that validates the changed fields
and applies them through ``history.edit``, its output model and its words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeVar

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms.validators import Length, Optional

from csirt.api.openapi import json_response, operation
from csirt.api.problems import problem
from csirt.api.routes import reading_request
from csirt.api.schema import ApiModel, ApiOut, IsoTime
from csirt.auth.access import requires
from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.cases import history
from csirt.cases.errors import CaseValidationError
from csirt.cases.forms import ReasonForm, RestoreForm
from csirt.cases.models import Case, RecordVersion
from csirt.db import get_session

F = TypeVar("F", bound=Callable[..., Any])

Edit = Callable[[Session, Case, User, Any, Mapping[str, Any], str], Any]
"""A kind's correction: (session, case, actor, row, changed fields, reason) -> the row;
raises the kind's validation error (with ``errors``) for bad input."""


# --- API ------------------------------------------------------------------------------------


class VersionOut(ApiOut):
    """An earlier version of a record: what it was, who changed it, when and why."""

    change: Literal["edit", "delete", "restore"] = Field(
        description="edit: the record before an edit; delete: the record as deleted; "
        "restore: the record as restored"
    )
    changed_at: IsoTime
    changed_by: str | None = Field(description="username (null: the system)")
    reason: str
    data: dict[str, Any] = Field(description="the record's fields as they were")

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        who = row.changed_by.username if row.changed_by is not None else None
        return super().dump(row, changed_by=who, **values)


class VersionList(BaseModel):
    items: list[VersionOut]


class ReasonIn(ApiModel):
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the history)")


class RestoreIn(ApiModel):
    reason: str = Field("", max_length=500, description="why (kept in the history)")


@cache
def patch_model(model: type[ApiModel]) -> type[ApiModel]:
    """``model`` with every field optional (absent or null: unchanged) and a ``reason``."""
    fields: dict[str, Any] = {
        name: (info.annotation | None, FieldInfo.merge_field_infos(info, default=None))  # type: ignore[operator]
        for name, info in model.model_fields.items()
    }
    fields["reason"] = (
        str,
        Field("", max_length=history.MAX_REASON, description="why it changed (in the history)"),
    )
    name = model.__name__.removesuffix("In") + "Patch"
    return create_model(name, __base__=ApiModel, **fields)


@dataclass(frozen=True)
class ApiKind:
    """What the API routes of one kind need."""

    kind: history.Kind[Any]
    path: str  # the collection under /cases/<id>/, e.g. "tasks"
    name: str  # endpoint stem, e.g. "task" -> patch_task, delete_task, restore_task, task_history
    noun: str  # in summaries, e.g. "task"
    out: type[ApiOut]
    create: type[ApiModel]  # its PATCH body is this model made partial
    edit: Edit
    tags: tuple[str, ...]


SUMMARIES = {
    "patch": "Correct a {noun} (only the fields sent change; the previous version is kept)",
    "delete": "Delete a {noun} with a reason (soft: kept in its history, a lead may restore it)",
    "restore": "Restore a deleted {noun} (leads only)",
    "history": "A {noun}'s earlier versions, newest first (who, when, why; deletions included)",
}
"""The OpenAPI summaries of a kind's operations."""


def api_routes(bp: Blueprint, spec: ApiKind, load_case: Callable[[int], Case]) -> None:
    """Register the kind's PATCH, DELETE, restore and history operations on ``bp``."""
    rule = f"/cases/<int:case_id>/{spec.path}/<int:record_id>"
    patch = patch_model(spec.create)
    noun = spec.noun
    out = {"200": json_response(spec.out)}
    gone = {"204": {"description": "Deleted"}}
    listed = {"200": json_response(VersionList)}

    def route(method: str, suffix: str, name: str, summary: str, **kw: Any) -> Callable[[F], F]:
        def decorate(view: F) -> F:
            need = Permission.CASE_VIEW if method == "GET" else Permission.CASE_EDIT
            words = {"name": spec.name, "noun": noun}
            view = reading_request(view, kw.get("body"))  # the body= it declares, read for it
            requires(need)(operation(summary.format(**words), tags=list(spec.tags), **kw)(view))
            bp.add_url_rule(rule + suffix, name.format(**words), view, methods=[method])
            return view

        return decorate

    def loaded(case_id: int, record_id: int) -> tuple[Session, Case, Any]:
        case = load_case(case_id)
        session = get_session()
        return session, case, history.get(session, spec.kind, case, record_id)

    @route("PATCH", "", "patch_{name}", SUMMARIES["patch"], body=patch, responses=out)
    def patch_row(case_id: int, record_id: int, body: ApiModel) -> ResponseReturnValue:
        session, case, row = loaded(case_id, record_id)
        values = body.model_dump(exclude_unset=True)
        changes = {k: v for k, v in values.items() if k != "reason" and v is not None}
        spec.edit(session, case, current_user, row, changes, body.reason)  # type: ignore[attr-defined]
        session.commit()
        return jsonify(spec.out.dump(row))

    @route("DELETE", "", "delete_{name}", SUMMARIES["delete"], body=ReasonIn, responses=gone)
    def delete_row(case_id: int, record_id: int, body: ReasonIn) -> ResponseReturnValue:
        session, case, row = loaded(case_id, record_id)
        history.delete(session, spec.kind, case, current_user, row, body.reason)
        session.commit()
        return "", 204

    @route(
        "POST", "/restore", "restore_{name}", SUMMARIES["restore"], body=RestoreIn, responses=out
    )
    def restore_row(case_id: int, record_id: int, body: RestoreIn) -> ResponseReturnValue:
        case = load_case(case_id)
        if not current_user.has_role(Role.LEAD):
            return problem(403, "Forbidden", f"only a lead may restore a deleted {noun}")
        session = get_session()
        row = history.restore(session, spec.kind, case, current_user, record_id, body.reason)
        session.commit()
        return jsonify(spec.out.dump(row))

    @route("GET", "/history", "{name}_history", SUMMARIES["history"], responses=listed)
    def row_history(case_id: int, record_id: int) -> ResponseReturnValue:
        case = load_case(case_id)
        found = history.record_history(get_session(), spec.kind, case, record_id)
        return jsonify(items=[VersionOut.dump(v) for v in found])


# --- console ----------------------------------------------------------------------------------


_WITH_REASON: dict[Any, Any] = {}


def with_reason(form: Any) -> Any:
    """The form class ``form`` with the optional "why it changed" field kept in the history."""
    if form not in _WITH_REASON:
        reason = StringField(_l("Why it changed"), validators=[Optional(), Length(max=500)])
        _WITH_REASON[form] = type(f"{form.__name__}WithReason", (form,), {"reason": reason})
    return _WITH_REASON[form]


def _field_errors(form: FlaskForm, errors: Mapping[str, str]) -> None:
    for key, message in errors.items():
        field = form._fields.get(key)
        if field is not None:
            field.errors = [*field.errors, message]


@dataclass(frozen=True)
class EditPage:
    """The console's edit page of a kind (the form's fields, then the reason and the history)."""

    form_class: type[FlaskForm]
    fill: Callable[[Any], dict[str, Any]]  # the row's values for the form
    edit: Edit  # given the form's data (submit buttons left out)
    prepare: Callable[[FlaskForm], None] = lambda form: None  # e.g. fill a select's choices
    show_errors: Callable[[FlaskForm, Mapping[str, str]], None] = _field_errors
    may_edit: Callable[[Any, User], bool] = lambda row, user: True


@dataclass(frozen=True)
class ConsoleKind:
    """What the console routes of one kind need; the words are lazy strings."""

    kind: history.Kind[Any]
    rule: str  # the collection's rule on ``bp``, e.g. "/<int:case_id>/tasks" or "/notes"
    name: str  # endpoint stem: <name>_edit, <name>_delete, <name>_restore
    back: str  # the endpoint of the collection's page (takes case_id)
    active: str  # the case tab to highlight
    label: Callable[[Mapping[str, Any]], str]  # a record's (or a kept version's) data in a line
    words: Mapping[str, Any]  # edit_title, delete_link, delete_title, delete_text,
    # delete_button, deleted (flash), restored (flash), saved (flash), deleted_heading
    edit_page: EditPage | None = None


def _not_found() -> Any:
    abort(404)


def console_routes(bp: Blueprint, spec: ConsoleKind, load_case: Callable[[int], Case]) -> None:
    """Register the kind's edit page (if any), confirmation page and restore on ``bp``."""
    rule = f"{spec.rule}/<int:record_id>"
    words = spec.words

    def load(case_id: int, record_id: int) -> tuple[Case, Any]:
        case = load_case(case_id)
        try:
            return case, history.get(get_session(), spec.kind, case, record_id)
        except spec.kind.missing:  # type: ignore[misc]
            return _not_found()  # type: ignore[no-any-return]

    def back(case: Case) -> ResponseReturnValue:
        return redirect(url_for(f"{bp.name}.{spec.back}", case_id=case.id))

    def page(template: str, case: Case, row: Any, form: FlaskForm, status: int) -> tuple[str, int]:
        context = {
            "case": case,
            "active": spec.active,
            "row": row,
            "form": form,
            "words": words,
            "summary": spec.label(history.snapshot(row)),
            "label": spec.label,
            "endpoints": {e: f"{bp.name}.{spec.name}_{e}" for e in ("edit", "delete")},
            "back": f"{bp.name}.{spec.back}",
            "versions": history.record_history(get_session(), spec.kind, case, row.id),
        }
        return render_template(template, **context), status

    @requires(Permission.CASE_EDIT)
    def delete_row(case_id: int, record_id: int) -> ResponseReturnValue:
        """Deleting asks first: a confirmation page with the reason (works without JavaScript)."""
        case, row = load(case_id, record_id)
        form = ReasonForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                if "csrf_token" in form.errors:
                    abort(400)
                return page("cases/record_delete.html", case, row, form, 400)
            history.delete(get_session(), spec.kind, case, current_user, row, form.reason.data)
            get_session().commit()
            flash(str(words["deleted"]), "success")
            return back(case)
        return page("cases/record_delete.html", case, row, form, 200)

    @requires(Permission.CASE_EDIT)
    def restore_row(case_id: int, record_id: int) -> ResponseReturnValue:
        case = load_case(case_id)
        if not current_user.has_role(Role.LEAD):
            abort(403)
        form = RestoreForm()
        if not form.validate_on_submit():
            abort(400)
        session = get_session()
        try:
            history.restore(session, spec.kind, case, current_user, record_id, form.reason.data)
        except spec.kind.missing:  # type: ignore[misc]
            _not_found()
        session.commit()
        flash(str(words["restored"]), "success")
        return back(case)

    @requires(Permission.CASE_VIEW)
    def history_page(case_id: int, record_id: int) -> ResponseReturnValue:
        """A record's earlier versions (a deleted one's too), for everyone who may see the case."""
        case = load_case(case_id)
        session = get_session()
        try:
            versions = history.record_history(session, spec.kind, case, record_id)
        except spec.kind.missing:  # type: ignore[misc]
            return _not_found()  # type: ignore[no-any-return]
        row = session.get(spec.kind.model, record_id)
        data = history.snapshot(row) if row is not None else versions[0].data
        return render_template(
            "cases/record_history.html",
            case=case,
            active=spec.active,
            summary=spec.label(data),
            versions=versions,
            label=spec.label,
            back=f"{bp.name}.{spec.back}",
        )

    bp.add_url_rule(rule + "/delete", f"{spec.name}_delete", delete_row, methods=["GET", "POST"])
    bp.add_url_rule(rule + "/history", f"{spec.name}_history", history_page, methods=["GET"])
    bp.add_url_rule(rule + "/restore", f"{spec.name}_restore", restore_row, methods=["POST"])
    edit_page = spec.edit_page
    if edit_page is None:
        return

    @requires(Permission.CASE_EDIT)
    def edit_row(case_id: int, record_id: int) -> ResponseReturnValue:
        case, row = load(case_id, record_id)
        if not edit_page.may_edit(row, current_user):
            abort(403)
        form_class = with_reason(edit_page.form_class)
        if request.method == "GET":
            form = form_class(data=edit_page.fill(row))
            edit_page.prepare(form)
            return page("cases/record_edit.html", case, row, form, 200)
        form = form_class()
        edit_page.prepare(form)
        if form.validate_on_submit():
            data = {
                n: f.data
                for n, f in form._fields.items()
                if n not in ("csrf_token", "reason") and f.type != "SubmitField"
            }
            session = get_session()
            try:
                edit_page.edit(session, case, current_user, row, data, form.reason.data or "")
            except (CaseValidationError, ValueError) as error:
                session.rollback()
                edit_page.show_errors(form, getattr(error, "errors", {}))
            else:
                get_session().commit()
                flash(str(words["saved"]), "success")
                return back(case)
        return page("cases/record_edit.html", case, row, form, 400)

    bp.add_url_rule(rule + "/edit", f"{spec.name}_edit", edit_row, methods=["GET", "POST"])


def deleted_context(
    session: Session, spec: ConsoleKind, bp_name: str, case: Case
) -> dict[str, Any]:
    """What a collection's page needs for its "deleted" table (the ``deleted_table`` macro)."""
    deleted = history.deleted_of(session, spec.kind, case)
    return {
        "deleted": deleted,
        "restore_form": RestoreForm() if deleted else None,  # read only beside deleted rows
        "restore_endpoint": f"{bp_name}.{spec.name}_restore",
        "history_endpoint": f"{bp_name}.{spec.name}_history",
        "deleted_label": spec.label,
        "is_lead": current_user.has_role(Role.LEAD),
    }


def version_data(version: RecordVersion) -> Mapping[str, Any]:
    """A kept version's fields (for a kind's ``label``)."""
    return version.data
