"""Console pages of a case's timeline: list, add, CSV export and import, corrections (edit with
history, delete after confirmation, restore): routes of the cases blueprint (`console.blueprint`,
registered by `views`)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import corrections, forms, timeline_csv
from csirt.cases.access import case_action, case_page
from csirt.cases.access import case_or_404 as _case
from csirt.cases.console import blueprint as routes
from csirt.cases.console import zone as _zone
from csirt.cases.errors import CaseValidationError, EventNotFoundError
from csirt.cases.history import record_history
from csirt.cases.models import Case, Visibility
from csirt.cases.timeline import (
    CATEGORIES,
    EVENT,
    TimelineFilters,
    add_event,
    add_events,
    case_evidence_ids,
    edit_event,
    events_state,
    get_event,
    list_event_rows,
    validate_event,
)
from csirt.cases.timeline_download import export_response
from csirt.db import get_session, is_read_request, writes
from csirt.forms import saved
from csirt.i18n import Moments, current_lang
from csirt.labels import SYSTEM_ACTORS, auto_event_title, auto_reason
from csirt.nav import FormSlot

EVENTS_PER_PAGE = 50  # what a person reads at once (TheHive and IRIS show 50); later ones by cursor
# The columns the page shows or reads (event_rows; occurred_at and id for the next cursor).
EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "precision",
    "title",
    "description",
    "evidence_ids",
    "category",
    "visibility",
    "source",
    "actor",
    "automatic",
)


# --- timeline ----------------------------------------------------------------------------------


_VISIBILITIES = frozenset(v.value for v in Visibility)


def _timeline_filters() -> TimelineFilters:
    category = request.args.get("category") or None
    visibility = request.args.get("visibility") or None
    if category not in CATEGORIES:
        category = None
    if visibility not in _VISIBILITIES:
        visibility = None
    text = (request.args.get("text") or "").strip()[:200] or None
    return TimelineFilters(category=category, visibility=visibility, text=text)


# The category and visibility labels and the system actors' names as text per language: lazy
# strings translate again on every use (the catalogs do not change while the app runs).
_LABELS: dict[str, tuple[dict[str, str], dict[str, str], dict[str, str]]] = {}


def _labels(lang: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    labels = _LABELS.get(lang)
    if labels is None:
        labels = _LABELS[lang] = (
            {key: str(label) for key, label in forms.CATEGORY_LABELS.items()},
            {key: str(label) for key, label in forms.VISIBILITY_LABELS.items()},
            {key: str(label) for key, label in SYSTEM_ACTORS.items()},
        )
    return labels


def _event_display(lang: str | None = None) -> dict[str, Any]:
    """What a page that shows timeline events needs: the zone, the labels, the time format."""
    categories, visibilities, actors = _labels(lang or current_lang())
    return {
        "zone": _zone(),
        "categories": categories,
        "visibilities": visibilities,
        "actors": actors,
        "when": timeline_csv.format_when,
    }


class EventRow(NamedTuple):
    """One row of the timeline as it is shown (texts in the reader's language)."""

    id: int
    css: str  # "auto vis-internal" for an automatic entry, " vis-public" for a person's
    when: str
    title: str
    description: str
    evidence: str  # "3, 7", else ""
    category: str
    visibility: str
    who: str  # "source / actor"
    edit_label: str  # the correct link's accessible name ("" for a reader who may not edit)


def event_rows(
    events: Sequence[Any],
    categories: dict[str, str],
    visibilities: dict[str, str],
    can_edit: bool,
    actors: dict[str, str] | None = None,
) -> list[EventRow]:
    """The shown values of events (or of any objects with the attributes EVENT_COLUMNS names)."""
    fields = map(attrgetter(*EVENT_COLUMNS), events)
    return field_rows(fields, categories, visibilities, can_edit, actors)


def field_rows(
    events: Iterable[Sequence[Any]],
    categories: dict[str, str],
    visibilities: dict[str, str],
    can_edit: bool,
    actors: dict[str, str] | None = None,
) -> list[EventRow]:
    """The page's events (each the values of EVENT_COLUMNS in that order, as the page's rows
    are) with every shown value computed in one pass: the template only writes them out
    (filters, label look-ups and gettext per row were most of the page's cost). When it
    happened is labels.event_time with the page's formatters; the two sentences with a value
    are translated once per page, then filled in per row (as gettext fills them in); who did
    it is labels.actor_name with the system actors' names of ``actors`` (the reader's
    language's, by default)."""
    names = _labels(current_lang())[2] if actors is None else actors
    moments = Moments()
    day, month, time = moments.day, moments.month, moments.time
    about = _("about %(time)s")
    correct = _("Correct or delete: %(title)s") if can_edit else ""
    rows = []
    for event in events:
        (  # one unpacking
            ident,
            moment,
            precision,
            title,
            description,
            evidence,
            category,
            visibility,
            source,
            actor,
            auto,
        ) = event
        if auto:
            title, description = auto_event_title(title), auto_reason(description)
        if precision == "day":
            when = day(moment)
        elif precision == "month":
            when = month(moment)
        elif precision == "approx":
            when = about % {"time": time(moment)}
        else:
            when = time(moment)
        who = names.get(source, source) or ""
        if actor:
            actor = names.get(actor, actor)
            who = f"{who} / {actor}" if source else actor
        rows.append(
            EventRow(
                ident,
                f"{'auto' if auto else ''} vis-{visibility}",
                when,
                title,
                description or "",
                ", ".join(map(str, evidence)) if evidence else "",
                categories.get(category, category),
                visibilities.get(visibility, visibility),
                who,
                correct % {"title": title} if can_edit else "",
            )
        )
    return rows


# A character autoescape changes (markupsafe.escape's five).
_TO_ESCAPE = re.compile(r"[&<>\"']")


def rows_html(rows: Sequence[EventRow], events_base: str, can_edit: bool) -> Markup:
    """The timeline table's rows as the template wrote them (cases/timeline.html), in one
    string: ~25 template outputs and ~12 escapes per row were a third of the page's calls.

    Every text of a row is escaped as autoescape does (markupsafe.escape), looked at once per
    row: most rows have nothing to escape. The two words are translations, which the template
    writes as they are (its ``_()`` is safe markup); ``events_base`` is the timeline's URL.
    """
    correct, evidence_label = _("Correct"), _("Evidence")
    base = escape(events_base)
    html = []
    for row in rows:
        if _TO_ESCAPE.search("".join(row[1:])):
            row = EventRow._make(str(escape(value)) for value in row)
        ident, css, when, title, description, evidence, category, visibility, who, label = row
        html.append(
            f'<tr class="{css}"><td class="when">{when}</td><th scope="row">{title}'
            + (f'<p class="desc">{description}</p>' if description else "")
            + (f'<p class="muted">{evidence_label}: {evidence}</p>' if evidence else "")
            + f"</th><td>{category}</td><td>{visibility}</td><td>{who}</td>"
            + (
                f'<td><a href="{base}/{ident}/edit" aria-label="{label}">{correct}</a></td>'
                if can_edit
                else ""
            )
            + "</tr>\n  "
        )
    return Markup("".join(html))  # noqa: S704 (every text escaped above)


class Fixed:
    """``{% call fixed(key...) %}``: a block of the timeline page that shows only its key's
    values and translated words (the table's head, the filter bar, the import hint: some 20
    ``_()`` a page), rendered once per app, language and key, then kept. Keys are bounded (a
    category, a flag); ``keep=False`` renders the block without keeping it (it shows what the
    reader typed)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.kept: dict[tuple[object, ...], Markup] = current_app.extensions.setdefault(
            "csirt_timeline_fixed", {}
        )

    def __call__(self, *key: object, caller: Callable[[], str], keep: bool = True) -> Markup:
        if not keep:
            return Markup(caller())  # noqa: S704 (autoescaped template output)
        html = self.kept.get((self.lang, *key))
        if html is None:
            html = self.kept[(self.lang, *key)] = Markup(caller())  # noqa: S704 (as above)
        return html


class KeptRows(NamedTuple):
    """A page of the timeline's rows as the page shows them (rows_html), and its next cursor."""

    html: Markup
    shown: bool  # the page has rows
    next_cursor: str | None


MAX_KEPT_PAGES = 128  # ~30 KB each: the pages read last, per app and process
_KEPT_LOCK = threading.Lock()


def kept_rows(
    case: Case,
    filters: TimelineFilters,
    cursor: str | None,
    lang: str,
    can_edit: bool,
    events_url: str,
) -> tuple[KeptRows, int]:
    """The page's rows and the case's number of events.

    The rows are rendered once per version of the case's events (``events_state``: the
    database's triggers change it with any event added, changed or removed), language, right to
    edit, filters, cursor and URL, then kept: a timeline read again and again unchanged (what a
    response team does) costs one small read, not 50 rows read, formatted and escaped. The version
    is read before the rows, so rows kept under it are never older than it. Only a read request
    keeps or takes kept rows: its transaction sees committed versions only, and a committed
    version is never reused (one that a rolled-back write saw was never committed). The case's
    creation time in the key tells apart a case of another database with the same id and version
    (a restored backup of another instance, a test's rolled-back case).
    """
    session = get_session()
    total, version = events_state(session, case)
    key = (case.id, case.created_at, version, lang, can_edit, filters, cursor, events_url)
    kept: dict[tuple[object, ...], KeptRows] = current_app.extensions.setdefault(
        "csirt_timeline_rows", {}
    )
    reading = is_read_request()
    found = kept.get(key) if reading else None
    if found is None:
        page = list_event_rows(
            session, case, EVENT_COLUMNS, filters, limit=EVENTS_PER_PAGE, cursor=cursor
        )
        display = _event_display(lang)
        rows = field_rows(
            page.items, display["categories"], display["visibilities"], can_edit, display["actors"]
        )
        found = KeptRows(rows_html(rows, events_url, can_edit), bool(rows), page.next_cursor)
        if reading:
            with _KEPT_LOCK:
                while len(kept) >= MAX_KEPT_PAGES:
                    del kept[next(iter(kept))]  # the oldest first
                kept[key] = found
    return found, total


def _timeline_page(
    case: Case,
    event_form: forms.EventForm | None = None,
    import_errors: dict[str, str] | None = None,
) -> str:
    filters = _timeline_filters()
    cursor = request.args.get("cursor") or None
    query = {
        k: v
        for k, v in {
            "category": filters.category,
            "visibility": filters.visibility,
            "text": filters.text,
        }.items()
        if v
    }
    lang = current_lang()
    can_edit = current_user.can(Permission.CASE_EDIT)
    events_url = url_for("cases.timeline", case_id=case.id)
    rows, total = kept_rows(case, filters, cursor, lang, can_edit, events_url)
    return render_template(
        "cases/timeline.html",
        case=case,
        active="cases.timeline",
        rows=rows,
        events_url=events_url,
        fixed=Fixed(lang),
        can_edit=can_edit,
        filters=filters,
        query=query,
        total=total,
        **corrections.deleted_context(get_session(), EVENT_CORRECTIONS, routes.name, case),
        # Empty forms' fields rendered once per language (nav.form_fragment)
        event_form=FormSlot(event_form, forms.EventForm),
        import_form=FormSlot(None, forms.ImportForm),
        import_errors=import_errors,
        **_event_display(lang),
    )


case_page(routes, "/<int:case_id>/timeline", "timeline", _timeline_page)


def _event_refused(case: Case, form: Any) -> ResponseReturnValue:
    """The timeline again with the event's form and its errors (400)."""
    return _timeline_page(case, event_form=form), 400


@case_action(routes, "/<int:case_id>/timeline", form=forms.EventForm, refused=_event_refused)
def event_add(case: Case, form: forms.EventForm) -> ResponseReturnValue:
    try:
        item = validate_event(
            {name: getattr(form, name).data for name in timeline_csv.COLUMNS[:-1]},
            _zone(),
        )
    except CaseValidationError as exc:
        for name, message in exc.errors.items():
            getattr(form, name).errors.append(message)
        return _event_refused(case, form)
    add_event(get_session(), case, current_user, item)
    return saved(_("Event added."), "cases.timeline", case_id=case.id)


@routes.get("/<int:case_id>/timeline.csv")
@writes
@requires(Permission.CASE_VIEW)
def timeline_export(case_id: int) -> ResponseReturnValue:
    return export_response(_case(case_id))


def _no_file(case: Case, _form: Any) -> ResponseReturnValue:
    return _timeline_page(case, import_errors={"file": _("Choose a CSV file.")}), 400


@case_action(routes, "/<int:case_id>/timeline/import", form=forms.ImportForm, refused=_no_file)
def timeline_import(case: Case, form: forms.ImportForm) -> ResponseReturnValue:
    session = get_session()
    try:
        items = timeline_csv.parse(
            form.file.data.read(),
            _zone(),
            evidence_ids_allowed=case_evidence_ids(session, case),
        )
    except timeline_csv.CsvImportError as exc:
        return _timeline_page(case, import_errors=exc.errors), 400
    count = add_events(session, case, current_user, items)
    return saved(_("%(n)d events imported.", n=count), "cases.timeline", case_id=case.id)


# --- timeline corrections: edit with history, delete after confirmation, restore (leads) ------

EVENT_FIELDS = timeline_csv.COLUMNS[:-1]


def _event_or_404(case: Case, event_id: int) -> Any:
    try:
        return get_event(get_session(), case, event_id)
    except EventNotFoundError:
        abort(404)


def _as_time(text: Any) -> datetime | None:
    """An instant kept in a version (ISO 8601), for the ``dt`` filter."""
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _event_edit_page(case: Case, row: Any, form: forms.EventEditForm) -> str:
    return render_template(
        "cases/event_edit.html",
        case=case,
        active="cases.timeline",
        event=row,
        form=form,
        versions=record_history(get_session(), EVENT, case, row.id),
        as_time=_as_time,
        **_event_display(),
    )


@routes.get("/<int:case_id>/timeline/<int:event_id>/edit")
@requires(Permission.CASE_EDIT)
def event_edit(case_id: int, event_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    row = _event_or_404(case, event_id)
    form = forms.EventEditForm(
        data={
            "occurred_at": timeline_csv.format_when(row, _zone()),
            "precision": row.precision,
            "title": row.title,
            "description": row.description,
            "category": row.category,
            "visibility": row.visibility,
            "source": row.source,
            "actor": row.actor,
        }
    )
    return _event_edit_page(case, row, form)


@case_action(routes, "/<int:case_id>/timeline/<int:event_id>/edit")
def event_save(case: Case, event_id: int) -> ResponseReturnValue:
    row = _event_or_404(case, event_id)
    form = forms.EventEditForm()
    session = get_session()
    if form.validate_on_submit():
        data: dict[str, Any] = {name: getattr(form, name).data for name in EVENT_FIELDS}
        data["evidence_ids"] = list(row.evidence_ids or [])
        try:
            item = validate_event(data, _zone())
        except CaseValidationError as exc:
            for name, message in exc.errors.items():
                if hasattr(form, name):
                    getattr(form, name).errors.append(message)
        else:
            edit_event(session, case, current_user, row, item, form.reason.data or "")
            return saved(
                _("The event was corrected; the previous version is kept."),
                "cases.event_edit",
                case_id=case.id,
                event_id=row.id,
            )
    return _event_edit_page(case, row, form), 400


EVENT_CORRECTIONS = corrections.ConsoleKind(
    kind=EVENT,
    rule="/<int:case_id>/timeline",
    name="event",
    back="timeline",
    active="cases.timeline",
    label=lambda data: str(data.get("title", "")),
    words={
        "delete_title": _l("Delete this event?"),
        "delete_text": _l(
            "The event leaves the timeline and the documents. It is kept in its history with "
            "your reason, and a lead can restore it."
        ),
        "delete_button": _l("Delete the event"),
        "deleted": _l("The event was deleted. A lead can restore it."),
        "restored": _l("The event was restored."),
    },
)
corrections.console_routes(routes, EVENT_CORRECTIONS, _case)
