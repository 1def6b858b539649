"""The observables tab of a case: the list with sightings (values shown defanged), adding one,
bulk paste with a preview before saving, corrections with history, ATT&CK techniques, and
STIX / MISP export and import. Works without JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import corrections
from csirt.cases.access import case_or_404
from csirt.cases.errors import CaseValidationError
from csirt.cases.timeline import list_events, parse_when
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.labels import auto_event_title, event_time
from csirt.observables import formats, forms, service, sightings, techniques
from csirt.observables.errors import ObservableValidationError
from csirt.observables.normalise import defang
from csirt.observables.service import ObservableIn

bp = Blueprint("observables", __name__, url_prefix="/console/cases/<int:case_id>")

PAGE = 100
ACTIVE = "observables.case_observables"

# The service's rules (``codes``) in the console's words.
CODE_MESSAGES = {
    "required": _l("Enter a value."),
    "too-long": _l("Too long."),
    "control": _l("Control characters are not allowed."),
    "type": _l("Choose a type."),
    "ip": _l("Not an IPv4 or IPv6 address."),
    "domain": _l("Not a domain name (e.g. example.com)."),
    "url": _l("Not a URL (e.g. https://example.com/path)."),
    "email": _l("Not an e-mail address (e.g. name@example.com)."),
    "hash": _l("A hash is hexadecimal (MD5, SHA-1, SHA-256 or SHA-512)."),
    "hash-algorithm": _l("Choose MD5, SHA-1, SHA-256 or SHA-512."),
    "hash-length": _l("The number of hex digits does not fit the hash algorithm."),
    "registry": _l("A registry path starts with a hive (e.g. HKLM\\Software)."),
    "tlp": _l("Choose a TLP."),
    "pap": _l("Choose a PAP."),
    "tags": _l("At most 20 tags."),
    "tag-length": _l("A tag has at most 64 characters."),
    "seen-order": _l("Last seen must not be before first seen."),
    "date": _l("A date (YYYY-MM-DD) or a date and time (ISO 8601)."),
    "duplicate": _l("This value is already an observable of the case."),
    "unknown": _l("Not ATT&CK Enterprise technique ids."),
    "max": _l("Too many at once."),
    "format": _l("This file is not a STIX 2 bundle or a MISP event."),
}


def _messages(error: ObservableValidationError) -> dict[str, str]:
    """Each field's error in the console's words."""
    return {
        name: str(CODE_MESSAGES.get(error.codes.get(name, ""), message))
        for name, message in error.errors.items()
    }


def _tz() -> Any:
    return current_app.config["CSIRT"].tz


def _when(data: Mapping[str, Any], name: str) -> datetime | None:
    text = str(data.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_when(text, _tz())[0]
    except ValueError:
        raise ObservableValidationError({name: "a date"}, {name: "date"}) from None


def _levels(data: Mapping[str, Any]) -> dict[str, Any]:
    tags = tuple(t.strip() for t in str(data.get("tags") or "").split(",") if t.strip())
    return {
        "tlp": data.get("tlp") or "amber",
        "pap": data.get("pap") or "amber",
        "ioc": bool(data.get("ioc")),
        "tags": tags,
        "source": str(data.get("source") or "").strip(),
    }


def _item(data: Mapping[str, Any]) -> ObservableIn:
    """An observable from the form's data (dates read in the configured time zone)."""
    return ObservableIn(
        type=str(data.get("type") or ""),
        value=str(data.get("value") or ""),
        hash_algorithm=data.get("hash_algorithm") or None,
        description=str(data.get("description") or ""),
        first_seen=_when(data, "first_seen"),
        last_seen=_when(data, "last_seen"),
        **_levels(data),
    )


def _correct(session: Any, case: Any, actor: Any, row: Any, data: Any, reason: str) -> Any:
    try:
        item = _item(data)
        return service.edit_observable(session, case, actor, row, item, reason)
    except ObservableValidationError as error:
        raise CaseValidationError(_messages(error)) from None


def _fill(row: Any) -> dict[str, Any]:
    zone = _tz()
    values = service.as_input(row).__dict__ | {"tags": ", ".join(row.tags or [])}
    for name in ("first_seen", "last_seen"):
        value = values[name]
        values[name] = value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""
    return values


def _label(data: Mapping[str, Any]) -> str:
    kind = str(data.get("type", ""))
    return f"{forms.TYPE_LABELS.get(kind, kind)}: {defang(kind, str(data.get('value', '')))}"


OBSERVABLES = corrections.ConsoleKind(
    kind=service.OBSERVABLE,
    rule="/observables",
    name="observable",
    back="case_observables",
    active=ACTIVE,
    label=_label,
    words={
        "edit_title": _l("Correct observable"),
        "delete_link": _l("Delete this observable…"),
        "delete_title": _l("Delete this observable?"),
        "delete_text": _l(
            "The observable leaves the case. It is kept in its history with your reason, and a "
            "lead can restore it."
        ),
        "delete_button": _l("Delete the observable"),
        "deleted": _l("Observable deleted. A lead can restore it."),
        "restored": _l("Observable restored."),
        "saved": _l("Observable saved."),
    },
    edit_page=corrections.EditPage(form_class=forms.ObservableForm, fill=_fill, edit=_correct),
)
corrections.console_routes(bp, OBSERVABLES, case_or_404)


# --- the tab --------------------------------------------------------------------------------


def _page(case: Any, status: int = 200, **given: FlaskForm) -> ResponseReturnValue:
    session = get_session()
    catalog = current_catalog()
    after = request.args.get("after", "")
    after_id = int(after) if after.isascii() and after.isdigit() and len(after) < 10 else None
    page = service.list_observables(session, case, limit=PAGE, after_id=after_id)
    seen = sightings.sightings_for(
        session, current_user, [row.value_key for row in page.items], exclude_case_id=case.id
    )
    events = list_events(session, case, limit=200).items
    tagged = techniques.case_techniques(session, case, catalog.attack)
    own = " ".join(t.id for t in tagged if t.on_case)
    event_form = given.get("event_form") or forms.EventTechniquesForm(prefix="event")
    titles = {e.id: auto_event_title(e.title) if e.automatic else e.title for e in events}
    event_form.event_id.choices = [(e.id, f"{event_time(e)} {titles[e.id]}") for e in events]
    context = {
        "case": case,
        "active": ACTIVE,
        "page": page,
        "seen": seen,
        "defang": defang,
        "type_labels": forms.TYPE_LABELS,
        "total": service.count_observables(session, case),
        "tagged": tagged,
        "suggested": techniques.suggested(session, case, catalog),
        "attack_version": catalog.attack.version,
        "event_titles": titles,
        "hash_names": forms.HASH_NAMES,
        "source_labels": forms.SOURCE_LABELS,
        "add_form": given.get("add_form") or forms.ObservableForm(),
        "paste_form": given.get("paste_form") or forms.PasteForm(prefix="paste"),
        "techniques_form": given.get("techniques_form")
        or forms.TechniquesForm(data={"techniques": own}),
        "event_form": event_form,
        "import_form": given.get("import_form") or forms.ImportForm(),
        **corrections.deleted_context(session, OBSERVABLES, bp.name, case),
    }
    return render_template("observables/index.html", **context), status


def _back(case: Any) -> ResponseReturnValue:
    return redirect(url_for("observables.case_observables", case_id=case.id))


def _show(form: FlaskForm, error: ObservableValidationError) -> None:
    for name, message in _messages(error).items():
        field = form._fields.get(name.rsplit(".", 1)[-1])
        if field is None:
            flash(message, "error")
        else:
            field.errors = [*field.errors, message]


@bp.get("/observables")
@requires(Permission.CASE_VIEW)
def case_observables(case_id: int) -> ResponseReturnValue:
    return _page(case_or_404(case_id))


def _submit(
    case_id: int, form: FlaskForm, name: str, action: Callable[[Any, Any], str]
) -> ResponseReturnValue:
    """A form of the tab: validated, then ``action(case, form)`` (which returns the message);
    a refusal shows the tab again with the form's errors (422), writing nothing."""
    case = case_or_404(case_id)
    if not form.validate_on_submit():
        return _page(case, 422, **{name: form})
    session = get_session()
    try:
        message = action(case, form)
    except ObservableValidationError as error:
        session.rollback()
        _show(form, error)
        return _page(case, 422, **{name: form})
    session.commit()
    flash(message, "success")
    return _back(case)


@bp.post("/observables")
@requires(Permission.CASE_EDIT)
def add_observable(case_id: int) -> ResponseReturnValue:
    def add(case: Any, form: Any) -> str:
        item = _item(form.data)
        service.add_many(get_session(), case, current_user, [item], source="console")
        return str(_("Observable saved."))

    return _submit(case_id, forms.ObservableForm(), "add_form", add)


# --- bulk paste: preview, then save ---------------------------------------------------------


def _preview(
    case: Any,
    form: FlaskForm,
    lines: list[service.PasteLine],
    status: int,
    errors: Mapping[int, str] | None = None,
    excluded: set[int] | None = None,
) -> ResponseReturnValue:
    context = {
        "case": case,
        "active": ACTIVE,
        "form": form,
        "lines": lines,
        "errors": errors or {},
        "excluded": excluded
        if excluded is not None
        else {i for i, line in enumerate(lines) if line.error},
        "type_labels": forms.TYPE_LABELS,
        "messages": {
            i: str(CODE_MESSAGES.get(ln.code or "", ln.error)) for i, ln in enumerate(lines)
        },
        "defang": defang,
    }
    return render_template("observables/preview.html", **context), status


@bp.post("/observables/paste")
@requires(Permission.CASE_EDIT)
def paste_preview(case_id: int) -> ResponseReturnValue:
    case = case_or_404(case_id)
    form = forms.PasteForm(prefix="paste")
    if not form.validate_on_submit():
        return _page(case, 422, paste_form=form)
    try:
        lines = service.parse_paste(form.text.data, form.type.data or None)
    except ObservableValidationError as error:
        _show(form, error)
        return _page(case, 422, paste_form=form)
    if not lines:
        form.text.errors = [_("Enter a value.")]
        return _page(case, 422, paste_form=form)
    return _preview(case, form, lines, 200)


@bp.post("/observables/paste/save")
@requires(Permission.CASE_EDIT)
def paste_save(case_id: int) -> ResponseReturnValue:
    """Save the previewed lines that stay ticked, with the types chosen on the preview."""
    case = case_or_404(case_id)
    form = forms.PasteForm(prefix="paste")
    form.text.validators = []
    if not form.validate_on_submit():
        abort(400)
    raws = request.form.getlist("line")[: service.MAX_PASTE_LINES]
    kinds = request.form.getlist("line_type")
    ticked = {int(v) for v in request.form.getlist("include") if v.isascii() and v.isdigit()}
    lines = [
        service.parse_line(raw, kinds[i] if i < len(kinds) else None, i + 1)
        for i, raw in enumerate(raws)
    ]
    chosen = [i for i in range(len(lines)) if i in ticked]
    levels = _levels(form.data)
    items = [ObservableIn(lines[i].type, lines[i].raw, **levels) for i in chosen]
    session = get_session()
    try:
        if not items:
            raise ObservableValidationError({"text": "none"}, {"text": "required"})
        result = service.add_many(session, case, current_user, items, source="paste")
    except ObservableValidationError as error:
        session.rollback()
        errors: dict[int, str] = {}
        for name, message in _messages(error).items():
            parts = name.split(".")
            index = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
            errors[chosen[index] if chosen else 0] = message
        return _preview(case, form, lines, 422, errors, set(range(len(lines))) - ticked)
    session.commit()
    flash(
        _(
            "%(created)d observables added, %(merged)d merged into existing ones.",
            created=len(result.created),
            merged=len(result.merged),
        ),
        "success",
    )
    return _back(case)


# --- ATT&CK ---------------------------------------------------------------------------------


def _techniques(event: bool) -> Callable[[Any, Any], str]:
    def save(case: Any, form: Any) -> str:
        matrix = current_catalog().attack
        event_id = form.event_id.data if event else None
        text = form.techniques.data or ""
        techniques.set_techniques(
            get_session(), case, current_user, matrix, text, event_id=event_id
        )
        return str(_("Techniques saved."))

    return save


@bp.post("/observables/techniques")
@requires(Permission.CASE_EDIT)
def set_techniques(case_id: int) -> ResponseReturnValue:
    return _submit(case_id, forms.TechniquesForm(), "techniques_form", _techniques(False))


@bp.post("/observables/event-techniques")
@requires(Permission.CASE_EDIT)
def set_event_techniques(case_id: int) -> ResponseReturnValue:
    form = forms.EventTechniquesForm(prefix="event")
    events = list_events(get_session(), case_or_404(case_id), limit=None).items
    form.event_id.choices = [(e.id, "") for e in events]
    return _submit(case_id, form, "event_form", _techniques(True))


# --- export and import ----------------------------------------------------------------------


@bp.get("/observables/export/<fmt>")
@writes
@requires(Permission.CASE_VIEW)
def export(case_id: int, fmt: str) -> ResponseReturnValue:
    """A download; red items only when the box was ticked."""
    case = case_or_404(case_id)
    if fmt not in formats.FORMATS:
        abort(404)
    session = get_session()
    red = request.args.get("include_red") == "1"
    matrix = current_catalog().attack
    response = formats.download(session, case, current_user, matrix, fmt, include_red=red)
    session.commit()
    return response


@bp.post("/observables/import")
@requires(Permission.CASE_EDIT)
def import_file(case_id: int) -> ResponseReturnValue:
    def read(case: Any, form: Any) -> str:
        matrix = current_catalog().attack
        raw = form.file.data.read()
        fmt = form.format.data
        result = formats.import_file(get_session(), case, current_user, matrix, fmt, raw)
        return str(
            _(
                "Imported: %(created)d added, %(merged)d merged, %(skipped)d skipped.",
                created=result.created,
                merged=result.merged,
                skipped=result.skipped,
            )
        )

    return _submit(case_id, forms.ImportForm(), "import_form", read)
