"""Case pages of the console: list, create, overview, tasks, activity. The timeline pages are in
`timeline_pages`, on the same blueprint (defined in `console`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import (
    activity,
    closing,
    console,
    corrections,
    forms,
    need_to_know,
    persons,
    registry,
)
from csirt.cases import timeline_pages as _timeline_pages  # noqa: F401 (its routes join bp)
from csirt.cases.access import (
    case_action,
    case_or_404,
    case_page,
    expect_case_view,
    record_case_view,
)
from csirt.cases.creation import create_case
from csirt.cases.editing import update_case
from csirt.cases.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ClosingRefusedError,
    TaskNotFoundError,
    TeamTooSmallError,
)
from csirt.cases.lifecycle import change_phase, change_priority, close_case, tick_checklist_item
from csirt.cases.links import link_cases, related_cases, unlink_cases
from csirt.cases.listing import (
    DISPLAY_COLUMNS,
    CaseFilters,
    display_rows,
    list_case_rows,
    page_figures,
)
from csirt.cases.models import Case, Phase, Priority
from csirt.cases.overview import overview_rows
from csirt.cases.playbooks import apply_playbook, case_playbooks
from csirt.cases.tagging import case_tags, set_tags
from csirt.cases.tasks import (
    OPEN_TASK_STATUSES,
    REPLY_TASK_KEY,
    TASK,
    TEAM_TASK_KEY,
    add_task,
    add_task_comment,
    bulk_update_tasks,
    edit_task,
    get_task,
    is_overdue,
    list_tasks,
    update_task,
    waiting_for,
)
from csirt.db import get_session, utcnow
from csirt.forms import require_action, saved
from csirt.i18n import current_lang
from csirt.intake import handoff as intake_handoff
from csirt.labels import case_role_label, phase_label, service_message
from csirt.nav import FormSlot, case_tabs, form_fragment

bp = console.blueprint  # timeline_pages' routes are on it too: one blueprint, same endpoints


def init_app(app: Flask) -> None:
    """Load the playbooks once at start-up (a broken playbook stops the app here); audit every
    view of a case (console and API alike)."""
    registry.load(app)
    app.url_value_preprocessor(expect_case_view)
    app.after_request(record_case_view)
    app.jinja_env.globals["form_fragment"] = form_fragment
    app.jinja_env.globals["case_tabs"] = case_tabs


_zone = console.zone
_case = case_or_404


def _flash_errors(errors: dict[str, str]) -> None:
    for message in errors.values():  # the field's key is a code word: the message says enough
        flash(service_message(message), "error")


def _member_role(role: str) -> str:
    """A case member's role in the UI language (never the stored code word)."""
    return case_role_label(role)


def _playbook_choices(exclude: set[str] | None = None) -> list[SelectChoice]:
    lang = current_lang()
    return forms.choices(
        (pid, playbook.title.get(lang))
        for pid, playbook in registry.playbooks().items()
        if pid not in (exclude or set())
    )


# --- list and creation -------------------------------------------------------------------------


# Checked against the request's values once: sets, not a walk over the enumerations per request.
_PHASES = frozenset(p.value for p in Phase)
_PRIORITIES = {p.value: p.value for p in Priority}


def _filters_from_args() -> tuple[CaseFilters, dict[str, Any]]:
    args = request.args
    phase = args.get("phase") or None
    priority = args.get("priority") or None
    if phase not in _PHASES:
        phase = None
    if priority not in _PRIORITIES:
        priority = None
    assignee = args.get("assignee", type=int)
    if args.get("assignee") == "me":
        assignee = current_user.id
    q = (args.get("q") or "").strip()[:200] or None
    tag = (args.get("tag") or "").strip()[:64] or None
    overdue = args.get("overdue") == "1"
    filters = CaseFilters(
        phase=phase, priority=priority, q=q, tag=tag, assignee_id=assignee, overdue=overdue
    )
    query = {
        "phase": phase,
        "priority": priority,
        "q": q,
        "tag": tag,
        "assignee": args.get("assignee") if assignee is not None else None,
        "overdue": "1" if overdue else None,
    }
    return filters, {k: v for k, v in query.items() if v}


@bp.get("/")
@requires(Permission.CASE_VIEW)
def index() -> ResponseReturnValue:
    session = get_session()
    filters, query = _filters_from_args()
    cursor = request.args.get("cursor", type=int)
    now = utcnow()
    page = list_case_rows(
        session, current_user, filters=filters, cursor=cursor, now=now, columns=DISPLAY_COLUMNS
    )
    ids = [row[0] for row in page.items]  # DISPLAY_COLUMNS begin with the id
    # /console/cases/<id>: the list's own URL and the id (built once, not per row)
    rows = display_rows(page, *page_figures(session, ids, now), url_for("cases.index"))
    typed = filters.q is not None or filters.tag is not None
    return render_template(
        "cases/list.html",
        page=page,
        rows=rows,
        filters=filters,
        query=query,
        can_create=current_user.can(Permission.CASE_CREATE),
        # The filter bar, kept per language and choice unless it shows what the reader typed
        # (then it is "given back": rendered as it is, every time).
        filter_slot=FormSlot(filters if typed else None, CaseFilters),
        phases={p.value: phase_label(p.value) for p in Phase},
        priorities=_PRIORITIES,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.CASE_CREATE)
def new() -> ResponseReturnValue:
    form = forms.CaseForm()
    form.playbook.choices = [SelectChoice("", _("None")), *_playbook_choices()]
    status = 200
    if form.validate_on_submit():
        chosen = registry.playbooks().get(form.playbook.data or "")
        session = get_session()
        try:
            case = create_case(
                session,
                title=form.title.data,
                summary=form.summary.data or "",
                actor=current_user,
                priority=Priority(form.priority.data),
                tlp=form.tlp.data,
                aware_at=forms.local_to_utc(form.aware_at.data, _zone()),
                insider=form.insider.data,
                wrongful_intent=form.wrongful_intent.data,
                ongoing=form.ongoing.data,
                involved=forms.split_lines(form.involved.data),
                tags=forms.split_lines(form.tags.data),
                playbooks=[chosen] if chosen else [],
                lang=current_lang(),
            )
        except CaseValidationError as exc:
            for name, message in exc.errors.items():
                getattr(form, name, form.title).errors.append(message)
            session.rollback()
        else:
            return saved(
                _("Case %(ref)s created.", ref=case.reference), "cases.detail", case_id=case.id
            )
    if form.is_submitted():
        status = 400
    return render_template("cases/new.html", form=form), status


# --- overview ------------------------------------------------------------------------------------


def _overview(case: Case, **forms_given: Any) -> dict[str, Any]:
    session = get_session()
    rows = overview_rows(session, case)  # tags, playbooks, members, open tasks: one statement
    applied = rows.playbook_ids
    playbooks = case_playbooks(session, case, registry.playbooks(), applied)
    now = utcnow()
    user = current_user

    def playbook_choices(form: forms.PlaybookForm) -> None:
        form.playbook.choices = _playbook_choices(set(applied))

    # Forms as slots: an empty form's fields are rendered once per shown value and language
    # (nav.form_fragment); one given back with errors is rendered as it is.
    return {
        "case": case,
        "active": "cases.detail",
        "tags": rows.tags,
        "members": [(name, _member_role(role)) for name, role in rows.members],
        # Read only when the case has some (most cases have neither): two statements less.
        "related": related_cases(session, user, case) if rows.links else [],
        "playbooks": playbooks,
        "tasks_open": len(rows.open_tasks),
        "tasks_overdue": [t for t in rows.open_tasks if is_overdue(t, now)],
        "checklist": closing.checklist_lines(session, case, playbooks),
        "missing": forms_given.get("missing"),
        "lang": current_lang(),
        # What the user may do here, asked once (the template shows a form per permission).
        "can_edit": user.can(Permission.CASE_EDIT),
        "can_close": user.can(Permission.CASE_CLOSE),
        "can_read_reports": user.can(Permission.INTAKE_READ),
        "phase_form": FormSlot(forms_given.get("phase_form"), forms.PhaseForm, phase=case.phase),
        "priority_form": FormSlot(None, forms.PriorityForm, priority=case.priority),
        "close_form": FormSlot(forms_given.get("close_form"), forms.CloseForm),
        "playbook_form": FormSlot(None, forms.PlaybookForm, playbook_choices),
        "playbooks_left": tuple(pid for pid in registry.playbooks() if pid not in applied),
        "link_form": FormSlot(None, forms.LinkForm),
        "tlp_labels": {t.value: label for t, label in forms.TLP_LABELS.items()},
        "outcome_labels": forms.OUTCOME_LABELS,
        # Status of linked reports, never their content; empty for those who may not know.
        "reports": intake_handoff.case_reports(session, user, case.id) if rows.reports else [],
    }


@bp.get("/<int:case_id>")
@requires(Permission.CASE_VIEW)
def detail(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    return render_template("cases/detail.html", **_overview(case))


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@requires(Permission.CASE_EDIT)
def edit(case_id: int) -> ResponseReturnValue:
    case = _case(case_id)
    session = get_session()
    form = forms.CaseEditForm(obj=case if request.method == "GET" else None)
    del form.playbook
    del form.priority
    if request.method == "GET":
        form.aware_at.data = (
            case.aware_at.astimezone(_zone()).replace(tzinfo=None) if case.aware_at else None
        )
        form.involved.data = "\n".join(case.involved or [])
        form.tags.data = ", ".join(case_tags(session, case))
    if form.validate_on_submit():
        try:
            update_case(
                session,
                case,
                current_user,
                {
                    "title": form.title.data,
                    "summary": form.summary.data or "",
                    "tlp": form.tlp.data,
                    "aware_at": forms.local_to_utc(form.aware_at.data, _zone()),
                    "insider": form.insider.data,
                    "wrongful_intent": form.wrongful_intent.data,
                    "ongoing": form.ongoing.data,
                    "involved": forms.split_lines(form.involved.data),
                },
            )
            set_tags(session, case, forms.split_lines(form.tags.data), current_user)
            persons.set_persons_total(
                session,
                current_user,
                case,
                {
                    "persons_total": form.persons_total.data,
                    "persons_total_note": form.persons_total_note.data or "",
                },
            )
        except CaseValidationError as exc:
            session.rollback()
            for name, message in exc.errors.items():
                getattr(form, name, form.title).errors.append(message)
        else:
            return saved(_("Case updated."), "cases.detail", case_id=case.id)
    status = 400 if form.is_submitted() else 200
    return render_template("cases/edit.html", form=form, case=case, active="cases.detail"), status


def _back(case: Case, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("cases.detail", case_id=case.id) + anchor)


def _overview_again(case: Case, status: int, **forms_given: Any) -> ResponseReturnValue:
    """The overview again with a refused form (its errors shown), answered with ``status``."""
    return render_template("cases/detail.html", **_overview(case, **forms_given)), status


def _refused(slot: str) -> Callable[[Case, Any], ResponseReturnValue]:
    """A `case_action`'s answer to an overview's form that is not valid: the overview, 400."""
    return lambda case, form: _overview_again(case, 400, **{slot: form})


@case_action(bp, "/<int:case_id>/phase", form=forms.PhaseForm, refused=_refused("phase_form"))
def phase(case: Case, form: forms.PhaseForm) -> ResponseReturnValue:
    session = get_session()
    try:
        change_phase(session, case, form.phase.data, current_user, form.reason.data or "")
    except TeamTooSmallError:
        session.rollback()
        flash(
            _("A P1 case needs a lead and at least one more member before it leaves Detect."),
            "error",
        )
        return _overview_again(case, 409, phase_form=form)
    session.commit()
    return _back(case)


@case_action(bp, "/<int:case_id>/priority", form=forms.PriorityForm)
def priority(case: Case, form: forms.PriorityForm) -> ResponseReturnValue:
    session = get_session()
    change_priority(session, case, form.priority.data, current_user, form.reason.data or "")
    session.commit()
    return _back(case)


@case_action(
    bp,
    "/<int:case_id>/close",
    Permission.CASE_CLOSE,
    form=forms.CloseForm,
    refused=_refused("close_form"),
)
def close(case: Case, form: forms.CloseForm) -> ResponseReturnValue:
    session = get_session()
    playbooks = case_playbooks(session, case, registry.playbooks())
    try:
        close_case(
            session, case, current_user, form.outcome.data, playbooks, form.reason.data or ""
        )
    except ClosingRefusedError as exc:
        session.rollback()
        return _overview_again(case, 409, close_form=form, missing=exc.missing)
    except (TeamTooSmallError, CaseValidationError) as exc:
        session.rollback()
        flash(str(exc), "error")
        return _overview_again(case, 409, close_form=form)
    return saved(_("Case closed."), "cases.detail", case_id=case.id)


@case_action(bp, "/<int:case_id>/checklist", form=forms.ButtonForm)
def tick(case: Case, form: forms.ButtonForm) -> ResponseReturnValue:
    item = request.form.get("item", "")
    known = {
        line.item
        for line in closing.checklist_lines(
            get_session(), case, case_playbooks(get_session(), case, registry.playbooks())
        )
        if line.kind == "manual"
    }
    if item not in known:
        abort(400)
    session = get_session()
    tick_checklist_item(session, case, item, current_user, ticked=request.form.get("ticked") == "1")
    session.commit()
    return _back(case, "#checklist")


@case_action(bp, "/<int:case_id>/playbooks")
def add_playbook(case: Case) -> ResponseReturnValue:
    form = forms.PlaybookForm()
    form.playbook.choices = _playbook_choices()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    created = apply_playbook(
        session, case, registry.playbooks()[form.playbook.data], current_user, current_lang()
    )
    return saved(
        _("%(n)d tasks added from the playbook.", n=len(created)), "cases.detail", case_id=case.id
    )


@case_action(bp, "/<int:case_id>/links")
def link(case: Case) -> ResponseReturnValue:
    form = forms.LinkForm()
    session = get_session()
    if form.validate_on_submit():
        try:
            other = need_to_know.find_case_by_reference(session, current_user, form.reference.data)
            link_cases(session, case, other, current_user, form.note.data or "")
        except CaseNotFoundError:
            flash(_("No such case."), "error")
        except CaseValidationError:
            session.rollback()
            flash(_("A case cannot be related to itself."), "error")
        else:
            session.commit()
    return _back(case, "#related")


@case_action(bp, "/<int:case_id>/links/<int:other_id>/delete", form=forms.ButtonForm)
def unlink(case: Case, _form: forms.ButtonForm, other_id: int) -> ResponseReturnValue:
    session = get_session()
    unlink_cases(session, case, other_id, current_user)
    session.commit()
    return _back(case, "#related")


# --- tasks -------------------------------------------------------------------------------------


def _member_choices(case: Case) -> list[SelectChoice]:
    seen: dict[int, str] = {}
    for user, _role in need_to_know.members(get_session(), case):
        seen.setdefault(user.id, user.display_name or user.username)
    return forms.choices(seen.items())


def _task_or_404(case: Case, task_id: int) -> Any:
    try:
        return get_task(get_session(), case, task_id)
    except TaskNotFoundError:
        abort(404)


def _tasks_page(case: Case, task_form: forms.TaskForm | None = None) -> str:
    session = get_session()
    choices = _member_choices(case)
    if task_form is None:
        task_form = forms.TaskForm()
    task_form.assignees.choices = choices
    tasks = list_tasks(session, case)
    update_forms = {}
    for task in tasks:
        update_form = forms.TaskUpdateForm(
            prefix=f"t{task.id}",
            status=task.status,
            due_at=task.due_at.astimezone(_zone()).replace(tzinfo=None) if task.due_at else None,
            assignees=[a.user_id for a in task.assignees],
            formdata=None,
        )
        update_form.assignees.choices = choices
        update_forms[task.id] = update_form
    return render_template(
        "cases/tasks.html",
        case=case,
        active="cases.tasks",
        tasks=tasks,
        now=utcnow(),
        is_overdue=is_overdue,
        names={c.value: c.label for c in choices},
        task_form=task_form,
        update_forms=update_forms,
        **corrections.deleted_context(session, TASK_CORRECTIONS, bp.name, case),
        comment_form=forms.CommentForm(),
        status_labels=forms.STATUS_LABELS,
        button_form=forms.ButtonForm(),
        member_choices=choices,
        waiting=_waiting_hints(case, tasks),
    )


def _waiting_hints(case: Case, tasks: list[Any]) -> dict[int, str]:
    """For each open task that closes itself on an event: what is still missing."""
    keyed = [t for t in tasks if t.key in (TEAM_TASK_KEY, REPLY_TASK_KEY)]
    keyed = [t for t in keyed if t.status in OPEN_TASK_STATUSES]
    if not keyed:
        return {}
    counts = waiting_for(get_session(), case)[TEAM_TASK_KEY]
    missing = []
    if counts["leads"] < 1:
        missing.append(_("a lead"))
    if counts["members"] < 2:
        missing.append(_("one more member"))
    team = (
        _("Closes itself when the team is formed. Missing: %(what)s.", what=_(", ").join(missing))
        if missing
        else _("Closes itself when the team is formed: the team is complete, mark it done.")
    )
    reply = _("Closes itself when an officer replies to the reporter of a linked report.")
    return {t.id: team if t.key == TEAM_TASK_KEY else reply for t in keyed}


case_page(bp, "/<int:case_id>/tasks", "tasks", _tasks_page)


@case_action(bp, "/<int:case_id>/tasks")
def task_add(case: Case) -> ResponseReturnValue:
    form = forms.TaskForm()
    form.assignees.choices = _member_choices(case)
    if form.validate_on_submit():
        session = get_session()
        try:
            add_task(
                session,
                case,
                current_user,
                title=form.title.data,
                description=form.description.data or "",
                phase=form.phase.data,
                due_at=forms.local_to_utc(form.due_at.data, _zone()),
                required=form.required.data,
                assignee_ids=form.assignees.data or [],
            )
        except CaseValidationError as exc:
            session.rollback()
            for name, message in exc.errors.items():
                getattr(form, name, form.title).errors.append(message)
        else:
            session.commit()
            return redirect(url_for("cases.tasks", case_id=case.id))
    return _tasks_page(case, form), 400


@case_action(bp, "/<int:case_id>/tasks/<int:task_id>")
def task_update(case: Case, task_id: int) -> ResponseReturnValue:
    session = get_session()
    task = _task_or_404(case, task_id)
    form = forms.TaskUpdateForm(prefix=f"t{task.id}")
    form.assignees.choices = _member_choices(case)
    if not form.validate_on_submit():
        flash(_("The task could not be updated."), "error")
        return _tasks_page(case), 400
    try:
        update_task(
            session,
            case,
            task,
            current_user,
            status=form.status.data,
            due_at=forms.local_to_utc(form.due_at.data, _zone()),
            assignee_ids=form.assignees.data or [],
        )
    except CaseValidationError as exc:
        session.rollback()
        _flash_errors(exc.errors)
        return _tasks_page(case), 400
    return saved(
        _("Task updated: %(title)s", title=task.title),
        "cases.tasks",
        f"#task-{task.id}",
        case_id=case.id,
    )


@case_action(bp, "/<int:case_id>/tasks/<int:task_id>/status")
def task_status(case: Case, task_id: int) -> ResponseReturnValue:
    """Inline quick update: only the status, from the task's row."""
    session = get_session()
    task = _task_or_404(case, task_id)
    require_action(forms.ButtonForm)
    status = request.form.get("status", "")
    if status not in forms.STATUS_LABELS:
        flash(_("Choose a status."), "error")
        return _tasks_page(case), 400
    update_task(session, case, task, current_user, status=status)
    session.commit()
    flash(
        _(
            "Task updated: %(title)s — %(status)s",
            title=task.title,
            status=forms.STATUS_LABELS[status],
        ),
        "success",
    )
    return redirect(url_for("cases.tasks", case_id=case.id) + f"#task-{task.id}")


def _int_or_none(value: str) -> int | None:
    # ASCII digits only: "²".isdigit() is true, but int("²") fails.
    return int(value) if value.isascii() and value.isdigit() else None


@case_action(bp, "/<int:case_id>/tasks/bulk")
def task_bulk(case: Case) -> ResponseReturnValue:
    """Set the status or add an assignee on every selected task (all or nothing)."""
    require_action(forms.ButtonForm)
    raw_ids = request.form.getlist("task_ids")
    ids = [int(v) for v in raw_ids if v.isascii() and v.isdigit()]
    status = request.form.get("status") or None
    assignee_raw = request.form.get("assignee") or ""
    assignee = _int_or_none(assignee_raw)
    if not ids or len(ids) != len(raw_ids):
        flash(_("Select at least one task."), "error")
        return _tasks_page(case), 400
    if status is None and assignee is None:
        flash(_("Choose a status or an assignee for the selected tasks."), "error")
        return _tasks_page(case), 400
    if status is not None and status not in forms.STATUS_LABELS:
        flash(_("Choose a status."), "error")
        return _tasks_page(case), 400
    if assignee_raw and assignee is None:
        flash(_("The assignee must be a member of the case."), "error")
        return _tasks_page(case), 400
    session = get_session()
    try:
        n = bulk_update_tasks(
            session, case, current_user, ids, status=status, add_assignee_id=assignee
        )
    except CaseValidationError as exc:
        session.rollback()
        if "assignee" in exc.errors:
            flash(_("The assignee must be a member of the case."), "error")
        if "task_ids" in exc.errors:
            flash(_("Some selected tasks do not belong to this case."), "error")
        return _tasks_page(case), 400
    return saved(_("%(n)d tasks updated.", n=n), "cases.tasks", case_id=case.id)


@case_action(bp, "/<int:case_id>/tasks/<int:task_id>/comments")
def task_comment(case: Case, task_id: int) -> ResponseReturnValue:
    session = get_session()
    task = _task_or_404(case, task_id)
    form = forms.CommentForm()
    if not form.validate_on_submit():
        flash(_("A comment cannot be empty."), "error")
        return _tasks_page(case), 400
    add_task_comment(session, case, task, current_user, form.body.data)
    session.commit()
    return redirect(url_for("cases.tasks", case_id=case.id) + f"#task-{task.id}")


def _task_fields(row: Any) -> dict[str, Any]:
    due = row.due_at.astimezone(_zone()).replace(tzinfo=None) if row.due_at else None
    return {
        "title": row.title,
        "description": row.description,
        "phase": row.phase,
        "due_at": due,
        "required": row.required,
    }


def _edit_task(session: Any, case: Case, actor: Any, row: Any, data: Any, reason: str) -> Any:
    changes = dict(data, due_at=forms.local_to_utc(data.get("due_at"), _zone()))
    return edit_task(session, case, actor, row, changes, reason)


TASK_CORRECTIONS = corrections.ConsoleKind(
    kind=TASK,
    rule="/<int:case_id>/tasks",
    name="task",
    back="tasks",
    active="cases.tasks",
    label=lambda data: (
        f"{data.get('title', '')} ({forms.STATUS_LABELS.get(str(data.get('status')))})"
    ),
    words={
        "edit_title": _l("Correct the task"),
        "delete_link": _l("Delete this task…"),
        "delete_title": _l("Delete this task?"),
        "delete_text": _l(
            "The task leaves the case with its comments. It is kept in its history with your "
            "reason, and a lead can restore it."
        ),
        "delete_button": _l("Delete the task"),
        "deleted": _l("The task was deleted. A lead can restore it."),
        "restored": _l("The task was restored."),
        "saved": _l("The task was corrected; the previous version is kept."),
    },
    edit_page=corrections.EditPage(
        form_class=forms.TaskEditForm,
        fill=_task_fields,
        edit=_edit_task,
    ),
)
corrections.console_routes(bp, TASK_CORRECTIONS, _case)


# --- activity ----------------------------------------------------------------------------------

ACTIVITY_PER_PAGE = 100


@bp.get("/<int:case_id>/activity")
@requires(Permission.CASE_VIEW)
def case_activity(case_id: int) -> ResponseReturnValue:
    """The case's changes in plain words (members of the case and leads)."""
    case = _case(case_id)
    kind = request.args.get("kind") or None
    if kind not in activity.KINDS:
        kind = None
    before_text = request.args.get("before", "")
    digits = before_text.isascii() and before_text.isdigit()
    before = int(before_text) if digits and len(before_text) <= 12 else None
    page = activity.case_activity(
        get_session(), case, kind=kind, limit=ACTIVITY_PER_PAGE, before=before
    )
    return render_template(
        "cases/activity.html",
        case=case,
        active="cases.activity",
        page=page,
        kind=kind,
        kinds=activity.KINDS,
        lang=current_lang(),
    )
