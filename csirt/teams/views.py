"""Console pages: teams, people, on-call calendar, workload, my work, and a case's team."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.access import current_actor, requires
from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case
from csirt.cases.need_to_know import get_case_for
from csirt.catalog import CASE_ROLES
from csirt.catalog.current import current_catalog
from csirt.db import get_session, utcnow
from csirt.forms import ActionForm, require_action, saved
from csirt.i18n import current_lang
from csirt.labels import case_role_label
from csirt.notify.service import channel_for
from csirt.redirects import local_target
from csirt.teams import assignment, candidates, ical, oncall
from csirt.teams import leave as team_leave
from csirt.teams import my_work as team_my_work
from csirt.teams import people as team_people
from csirt.teams import rotation as rot
from csirt.teams.base import (
    ConflictOfInterestError,
    InvalidInputError,
    NotAllowedToAssignError,
    NothingToAcknowledgeError,
    TeamNotFoundError,
    UnknownUserError,
)
from csirt.teams.feed_tokens import new_feed_token, user_for_feed_token
from csirt.teams.forms import (
    AssignOneForm,
    LeaveForm,
    MemberForm,
    OverrideForm,
    ProfileForm,
    RotationForm,
    SwapForm,
    TeamForm,
    skill_choices,
)
from csirt.teams.models import Acknowledgement, StaffProfile, Team, TeamMember
from csirt.teams.suggest import SKILL_LABELS

bp = Blueprint("teams", __name__)
CALENDAR_DAYS = 28
FEED_WEEKS = 26


def _tz() -> Any:
    return current_app.config["CSIRT"].tz


def _actor() -> User:
    user: User = current_user._get_current_object()
    return user


def _skills(profile: StaffProfile | None) -> str:
    lang = current_lang()
    return (", " if lang == "en" else "・").join(
        SKILL_LABELS[s].get(lang) for s in (profile.skills if profile else []) if s in SKILL_LABELS
    )


def _profiles(session: Session) -> dict[int, StaffProfile]:
    return team_people.profiles_of(session)


def _local(moment: datetime | None) -> datetime | None:
    """A naive local datetime from a form, made aware in the configured zone."""
    return moment.replace(tzinfo=_tz()) if moment is not None else None


def _team_or_404(session: Session, team_id: int) -> Any:
    try:
        return team_people.get_team(session, team_id)
    except TeamNotFoundError:
        abort(404)


FormT = TypeVar("FormT", bound=FlaskForm)
Owner = TypeVar("Owner")


def _skilled(form: FormT) -> FormT:
    """``form`` with the skills to choose from, in the UI language (member and profile forms)."""
    form.skills.choices = skill_choices(current_lang())
    return form


# What a form's POST does once the form is valid: the response after saving, or None after
# putting its errors on the form.
FormHandler = Callable[[Session, Owner, Any], ResponseReturnValue | None]
# A service's refusal shown as the error of one field: {error class: (field, message)}.
Refusals = Mapping[type[Exception], tuple[str, Any]]


def _form_post(
    rule: str,
    load: Callable[[Session, int], Owner],
    page: Callable[..., ResponseReturnValue],
    make_form: Callable[[], FlaskForm],
    refusals: Refusals,
) -> Callable[[FormHandler[Owner]], FormHandler[Owner]]:
    """Declare the POST (TEAM_MANAGE) of a form on a team's or a person's page: ``rule`` names
    one id, ``load`` finds its team or person (404 without one). The decorated handler gets
    the session, that team or person and the valid form. When the form is not valid, the
    handler raises one of the ``refusals`` (its message goes on its field) or returns None,
    ``page`` shows the form again with its errors (400)."""

    def register(handler: FormHandler[Owner]) -> FormHandler[Owner]:
        @requires(Permission.TEAM_MANAGE)
        def view(**ids: int) -> ResponseReturnValue:
            session = get_session()
            (key,) = ids.values()
            owner = load(session, key)
            form = make_form()
            if form.validate_on_submit():
                try:
                    done = handler(session, owner, form)
                except tuple(refusals) as refused:
                    field, message = next(
                        shown for kind, shown in refusals.items() if isinstance(refused, kind)
                    )
                    getattr(form, field).errors = [str(message)]
                else:
                    if done is not None:
                        return done
            return page(session, owner, 400, form)

        bp.add_url_rule(rule, handler.__name__, view, methods=["POST"])
        return handler

    return register


# What an action button's POST does: the response after changing the team's or person's item.
ActionHandler = Callable[[Session, Owner, int], ResponseReturnValue]


def _action_post(
    rule: str, owner_key: str, load: Callable[[Session, int], Owner]
) -> Callable[[ActionHandler[Owner]], ActionHandler[Owner]]:
    """Declare the POST (TEAM_MANAGE) of an action button on one item of a team's or a person's
    page: ``rule`` names the owner's id (``owner_key``) and the item's; ``load`` finds the team
    or person (404 without one). The decorated handler gets the session, that team or person
    and the item's id once the button's token is checked."""

    def register(handler: ActionHandler[Owner]) -> ActionHandler[Owner]:
        @requires(Permission.TEAM_MANAGE)
        def view(**ids: int) -> ResponseReturnValue:
            session = get_session()
            owner = load(session, ids.pop(owner_key))
            require_action()
            (item_id,) = ids.values()
            return handler(session, owner, item_id)

        bp.add_url_rule(rule, handler.__name__, view, methods=["POST"])
        return handler

    return register


# --- teams ----------------------------------------------------------------------------------


def _saved(team: Team, message: str) -> ResponseReturnValue:
    """Commit the change, say ``message`` and go back to the team's page."""
    return saved(message, "teams.detail", team_id=team.id)


@bp.get("/console/teams/")
@requires(Permission.TEAM_VIEW)
def index() -> ResponseReturnValue:
    session = get_session()
    teams = team_people.list_teams(session)
    on_call = {t.id: oncall.on_call_now(session, t, _tz()) for t in teams}
    return render_template("teams/index.html", teams=teams, on_call=on_call, form=TeamForm())


@bp.post("/console/teams/")
@requires(Permission.TEAM_MANAGE)
def create() -> ResponseReturnValue:
    session = get_session()
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = team_people.create_team(
                session,
                name=form.name.data,
                slug=form.slug.data,
                actor=_actor(),
                description=form.description.data or "",
                first_response=form.first_response.data,
            )
        except InvalidInputError as exc:
            for field, message in exc.errors.items():
                getattr(form, field).errors = [*getattr(form, field).errors, message]
        else:
            return _saved(team, _("Team created."))
    teams = team_people.list_teams(session)
    on_call = {t.id: oncall.on_call_now(session, t, _tz()) for t in teams}
    return render_template("teams/index.html", teams=teams, on_call=on_call, form=form), 400


def _render_team(
    session: Session, team: Any, status: int = 200, *shown: FlaskForm
) -> ResponseReturnValue:
    """The team's page; a form in ``shown`` replaces the empty one of its class."""
    forms = {type(form): form for form in shown}
    tz = _tz()
    today = utcnow().astimezone(tz).date()
    rotation_form = forms.get(RotationForm) or RotationForm(start=team.rotation_start)
    book = team_leave.leave_book(session, today, today)
    return (
        render_template(
            "teams/team.html",
            team=team,
            on_call=oncall.on_call_now(session, team, tz),
            profiles=_profiles(session),
            skills_of=_skills,
            book=book,
            today=today,
            calendar=oncall.calendar(session, team, today, CALENDAR_DAYS, tz),
            overrides=oncall.overrides_of(session, team, utcnow()),
            member_form=forms.get(MemberForm) or _skilled(MemberForm()),
            rotation_form=rotation_form,
            override_form=forms.get(OverrideForm) or OverrideForm(),
            swap_form=forms.get(SwapForm) or SwapForm(),
            action_form=ActionForm(),
        ),
        status,
    )


@bp.get("/console/teams/<int:team_id>")
@requires(Permission.TEAM_VIEW)
def detail(team_id: int) -> ResponseReturnValue:
    session = get_session()
    return _render_team(session, _team_or_404(session, team_id))


def _team_form(
    rule: str, make_form: Callable[[], FlaskForm], refusals: Refusals
) -> Callable[[FormHandler[Team]], FormHandler[Team]]:
    return _form_post(
        f"/console/teams/<int:team_id>/{rule}", _team_or_404, _render_team, make_form, refusals
    )


UNKNOWN_USER: Refusals = {UnknownUserError: ("username", _l("No active user by that name."))}


@_team_form("members", lambda: _skilled(MemberForm()), UNKNOWN_USER)
def add_member(session: Session, team: Team, form: MemberForm) -> ResponseReturnValue:
    user = team_people.get_user(session, form.username.data)
    team_people.add_member(
        session,
        team,
        user,
        actor=_actor(),
        skills=form.skills.data,
        department=form.department.data or None,
    )
    return _saved(team, _("Member added."))


@_action_post(
    "/console/teams/<int:team_id>/members/<int:member_id>/remove", "team_id", _team_or_404
)
def remove_member(session: Session, team: Team, member_id: int) -> ResponseReturnValue:
    try:
        team_people.remove_member(session, team, member_id, actor=_actor())
    except TeamNotFoundError:
        abort(404)
    return _saved(team, _("Member removed."))


@_team_form("rotation", RotationForm, {})
def set_rotation(session: Session, team: Team, form: RotationForm) -> ResponseReturnValue | None:
    positions: list[tuple[int, int]] = []
    for member in team.members:
        raw = request.form.get(f"position-{member.id}", str(member.position)).strip()
        if not (raw.isascii() and raw.isdigit()):
            form.start.errors = [*form.start.errors, _("Positions must be whole numbers.")]
            return None
        positions.append((int(raw), member.id))
    order = [member_id for _pos, member_id in sorted(positions)]
    oncall.set_rotation(session, team, start=form.start.data, order=order, actor=_actor())
    return _saved(team, _("Rotation saved."))


@_team_form(
    "overrides",
    OverrideForm,
    {**UNKNOWN_USER, InvalidInputError: ("ends_at", _l("The end must be after the start."))},
)
def add_override(session: Session, team: Team, form: OverrideForm) -> ResponseReturnValue:
    user = team_people.get_user(session, form.username.data)
    starts, ends = _local(form.starts_at.data), _local(form.ends_at.data)
    assert starts is not None  # DataRequired
    assert ends is not None
    oncall.add_override(
        session, team, user, starts, ends, actor=_actor(), reason=form.reason.data or ""
    )
    return _saved(team, _("Override added."))


@_team_form(
    "swap",
    SwapForm,
    {InvalidInputError: ("week_b", _l("Choose two rotation weeks with different people on call."))},
)
def swap(session: Session, team: Team, form: SwapForm) -> ResponseReturnValue:
    oncall.swap_weeks(session, team, form.week_a.data, form.week_b.data, _tz(), actor=_actor())
    return _saved(team, _("Weeks swapped."))


# --- the iCalendar feed ---------------------------------------------------------------------


@bp.get("/console/teams/<int:team_id>/oncall.ics")
def oncall_ics(team_id: int) -> ResponseReturnValue:
    """Public endpoint: a per-user feed token, or a signed-in staff member with TEAM_VIEW."""
    session = get_session()
    token = request.args.get("token", "")
    if token:
        viewer = user_for_feed_token(session, token)
        if viewer is None or not viewer.can(Permission.TEAM_VIEW):
            abort(404)
    elif not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    elif not current_user.can(Permission.TEAM_VIEW):
        abort(403)
    team = _team_or_404(session, team_id)
    tz = _tz()
    now = utcnow()
    rotation = oncall.rotation_of(session, team, now)
    first = now.astimezone(tz).date() - timedelta(weeks=4)
    names = {u.id: (u.display_name or u.username) for u in team_people.team_people(session)}
    events = [
        ical.Event(
            uid=f"team{team.id}-week-{start.isoformat()}@csirt",
            summary=f"{team.name}: {names.get(user_id, '?')}",
            start=start,
            end=start + timedelta(days=7),
        )
        for start, user_id in rot.weeks(rotation, first, FEED_WEEKS)
    ]
    events += [
        ical.Event(
            uid=f"team{team.id}-override-{index}-{o.starts_at.strftime('%Y%m%dT%H%M')}@csirt",
            summary=f"{team.name}: {names.get(o.user_id, '?')} (override)",
            start=o.starts_at,
            end=o.ends_at,
        )
        for index, o in enumerate(rotation.overrides)
    ]
    body = ical.calendar(f"{team.name} on call", events, now)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="team-{team.id}-oncall.ics"'},
    )


@bp.post("/console/teams/feed-token")
@requires(Permission.TEAM_VIEW)
def feed_token() -> ResponseReturnValue:
    require_action()
    session = get_session()
    token = new_feed_token(session, _actor())
    session.commit()
    teams = team_people.list_teams(session)
    base = current_app.config["CSIRT"].base_url
    urls = [(t, f"{base}{url_for('teams.oncall_ics', team_id=t.id, token=token)}") for t in teams]
    return render_template("teams/feed_token.html", urls=urls)


# --- people and workload --------------------------------------------------------------------


@bp.get("/console/teams/workload")
@requires(Permission.TEAM_VIEW)
def workload() -> ResponseReturnValue:
    session = get_session()
    tz = _tz()
    today = utcnow().astimezone(tz).date()
    people = team_people.team_people(session)
    memberships: dict[int, list[str]] = {}
    for member in session.scalars(select(TeamMember)):
        memberships.setdefault(member.user_id, []).append(member.team.name)
    return render_template(
        "teams/workload.html",
        people=people,
        load=candidates.workload(session),
        memberships=memberships,
        profiles=_profiles(session),
        skills_of=_skills,
        book=team_leave.leave_book(session, today, today),
        today=today,
        on_call=oncall.on_call_user_ids(session, tz),
    )


def _render_person(
    session: Session, user: User, status: int = 200, *shown: FlaskForm
) -> ResponseReturnValue:
    """The person's page; a form in ``shown`` replaces the empty one of its class."""
    forms = {type(form): form for form in shown}
    profile = team_people.profiles_of(session, [user.id]).get(user.id)
    profile_form = forms.get(ProfileForm) or _skilled(
        ProfileForm(
            skills=profile.skills if profile else [],
            department=user.department or "",
            availability_percent=profile.availability_percent if profile else 100,
        )
    )
    return (
        render_template(
            "teams/person.html",
            person=user,
            profile=profile,
            skills_of=_skills,
            leaves=team_leave.leaves_of(session, user.id),
            profile_form=profile_form,
            leave_form=forms.get(LeaveForm) or LeaveForm(),
            action_form=ActionForm(),
        ),
        status,
    )


def _person_or_404(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/console/teams/people/<int:user_id>")
@requires(Permission.TEAM_VIEW)
def person(user_id: int) -> ResponseReturnValue:
    session = get_session()
    return _render_person(session, _person_or_404(session, user_id))


def _person_saved(user: User, message: str) -> ResponseReturnValue:
    """Commit the change, say ``message`` and go back to the person's page."""
    return saved(message, "teams.person", user_id=user.id)


def _person_form(
    rule: str, make_form: Callable[[], FlaskForm], refusals: Refusals
) -> Callable[[FormHandler[User]], FormHandler[User]]:
    return _form_post(
        f"/console/teams/people/<int:user_id>/{rule}",
        _person_or_404,
        _render_person,
        make_form,
        refusals,
    )


@_person_form("profile", lambda: _skilled(ProfileForm()), {})
def set_profile(session: Session, user: User, form: ProfileForm) -> ResponseReturnValue:
    team_people.set_profile(
        session,
        user,
        actor=_actor(),
        skills=form.skills.data,
        department=form.department.data or "",
        availability_percent=form.availability_percent.data,
    )
    return _person_saved(user, _("Saved."))


@_person_form(
    "leave",
    LeaveForm,
    {InvalidInputError: ("ends_on", _l("The last day must not be before the first day."))},
)
def add_leave(session: Session, user: User, form: LeaveForm) -> ResponseReturnValue:
    team_leave.add_leave(
        session,
        user,
        form.starts_on.data,
        form.ends_on.data,
        actor=_actor(),
        note=form.note.data or "",
    )
    return _person_saved(user, _("Leave added."))


@_action_post(
    "/console/teams/people/<int:user_id>/leave/<int:leave_id>/delete", "user_id", _person_or_404
)
def delete_leave(session: Session, user: User, leave_id: int) -> ResponseReturnValue:
    leave_ids = {leave.id for leave in team_leave.leaves_of(session, user.id)}
    if leave_id not in leave_ids:
        abort(404)
    team_leave.delete_leave(session, leave_id, actor=_actor())
    return _person_saved(user, _("Leave removed."))


# --- my work --------------------------------------------------------------------------------


@bp.get("/console/my-work")
@requires(Permission.ACCOUNT)
def my_work() -> ResponseReturnValue:
    session = get_session()
    work = team_my_work.my_work(session, _actor())
    return render_template(
        "teams/my_work.html",
        work=work,
        now=utcnow(),
        form=ActionForm(),
        lang=current_lang(),
        role_name=_role_name,
    )


def _role_name(role: str) -> str:
    return case_role_label(role)


# --- a case's team: first response ----------------------------------------------------------


def _case_for_team(session: Session, case_id: int) -> Case:
    """The case if the user may see it, or if they were paged or asked about it."""
    try:
        return get_case_for(session, current_user, case_id)
    except CaseNotFoundError:
        asked = session.scalar(
            select(Acknowledgement.id).where(
                Acknowledgement.case_id == case_id, Acknowledgement.user_id == current_user.id
            )
        )
        case = session.get(Case, case_id) if asked is not None else None
        if case is None:
            abort(404)
        return case


def _render_case_team(
    session: Session, case: Case, status: int = 200, assign_form: AssignOneForm | None = None
) -> ResponseReturnValue:
    config = current_app.config["CSIRT"]
    suggestions = candidates.suggestions_for(session, case, config.tz, current_catalog().playbooks)
    needs = candidates.role_skills(session, case, current_catalog().playbooks)
    members = list(case.members)
    filled = {m.role for m in members}
    lang = current_lang()
    preselect = set()
    if case.priority == "P1":
        for role in ("lead", "investigator"):
            ranked = suggestions.by_role.get(role) or []
            if role not in filled and ranked:
                preselect.add(f"{role}:{ranked[0].candidate.username}")
    return (
        render_template(
            "teams/case_team.html",
            case=case,
            active="teams.case_team",
            members=members,
            roles=CASE_ROLES,
            role_name=_role_name,
            needs={
                r: "・".join(SKILL_LABELS[s].get(lang) for s in needs[r])
                if lang == "ja"
                else ", ".join(SKILL_LABELS[s].get(lang) for s in needs[r])
                for r in CASE_ROLES
            },
            suggestions=suggestions,
            show_excluded=current_user.has_role(Role.ADMIN),
            lang=lang,
            preselect=preselect,
            acks=assignment.acknowledgements(session, case.id),
            mine=assignment.pending_for(session, case.id, current_user.id),
            can_assign=current_user.can(Permission.CASE_EDIT),
            form=ActionForm(),
            assign_form=assign_form or AssignOneForm(),
        ),
        status,
    )


@bp.get(assignment.CASE_TEAM_RULE)
@requires(Permission.ACCOUNT)
def case_team(case_id: int) -> ResponseReturnValue:
    session = get_session()
    return _render_case_team(session, _case_for_team(session, case_id))


@bp.post("/console/cases/<int:case_id>/team/assign")
@requires(Permission.CASE_EDIT)
def assign(case_id: int) -> ResponseReturnValue:
    session = get_session()
    case = _case_for_team(session, case_id)
    form = AssignOneForm()
    picks = request.form.getlist("pick")
    single_role = request.form.get("role", "")
    require_action()
    wanted: list[tuple[str, str]] = []
    for pick in picks:
        role, _sep, username = pick.partition(":")
        wanted.append((role, username))
    if not picks:
        if not form.validate() or single_role not in CASE_ROLES:
            if single_role not in CASE_ROLES:
                form.username.errors = [*form.username.errors, _("Choose a role.")]
            flash(_("Tick at least one person, or name one with a role."), "error")
            return _render_case_team(session, case, 400, form)
        wanted.append((single_role, form.username.data))
    channel = channel_for(current_app)
    try:
        for role, username in wanted:
            user = team_people.get_user(session, username)
            assignment.assign(session, channel, case, user, role, actor=_actor())
    except ConflictOfInterestError as exc:
        session.rollback()
        # Nothing of the batch is written; the refusal is recorded on its own.
        assignment.record_refusal(session, case_id, exc, current_actor())
        session.commit()
        message = exc.reason.get(current_lang()) if current_user.has_role(Role.ADMIN) else ""
        flash(_("This person cannot be assigned: conflict of interest.") + " " + message, "error")
        return _render_case_team(session, session.get(Case, case_id) or case, 409)
    except InvalidInputError as exc:
        session.rollback()
        if "username" in exc.errors:
            flash(
                _("Only responders and leads, and PR staff as PR, can take a role on a case."),
                "error",
            )
        else:
            flash(_("Unknown person or role."), "error")
        return _render_case_team(session, session.get(Case, case_id) or case, 400)
    except UnknownUserError:
        session.rollback()
        flash(_("Unknown person or role."), "error")
        return _render_case_team(session, session.get(Case, case_id) or case, 400)
    except NotAllowedToAssignError:
        session.rollback()
        flash(_("Only the case's members and leads can assign people."), "error")
        return _render_case_team(session, session.get(Case, case_id) or case, 403)
    return saved(
        _("Team updated; the people assigned have been notified."),
        "teams.case_team",
        case_id=case_id,
    )


@bp.post("/console/cases/<int:case_id>/team/acknowledge")
@requires(Permission.ACCOUNT)
def acknowledge(case_id: int) -> ResponseReturnValue:
    session = get_session()
    case = _case_for_team(session, case_id)
    require_action()
    try:
        assignment.acknowledge(session, case, _actor())
    except NothingToAcknowledgeError:
        flash(_("There is nothing for you to acknowledge on this case."), "info")
        return redirect(url_for("teams.case_team", case_id=case.id))
    session.commit()
    flash(_("Acknowledged. Thank you."), "success")
    fallback = url_for("teams.case_team", case_id=case.id)
    return redirect(local_target(request.form.get("next"), fallback))
