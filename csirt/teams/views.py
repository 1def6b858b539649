"""Console pages: teams, people, on-call calendar, workload, my work, and a case's team."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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
from flask_login import current_user
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
from csirt.forms import ActionForm, require_action
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


# --- teams ----------------------------------------------------------------------------------


def _saved(team: Team, message: str) -> ResponseReturnValue:
    """Commit the change, say ``message`` and go back to the team's page."""
    get_session().commit()
    flash(message, "success")
    return redirect(url_for("teams.detail", team_id=team.id))


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
    session: Session, team: Any, status: int = 200, **forms: Any
) -> ResponseReturnValue:
    tz = _tz()
    today = utcnow().astimezone(tz).date()
    member_form = forms.get("member_form") or MemberForm()
    member_form.skills.choices = skill_choices(current_lang())
    rotation_form = forms.get("rotation_form") or RotationForm(start=team.rotation_start)
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
            member_form=member_form,
            rotation_form=rotation_form,
            override_form=forms.get("override_form") or OverrideForm(),
            swap_form=forms.get("swap_form") or SwapForm(),
            action_form=ActionForm(),
        ),
        status,
    )


@bp.get("/console/teams/<int:team_id>")
@requires(Permission.TEAM_VIEW)
def detail(team_id: int) -> ResponseReturnValue:
    session = get_session()
    return _render_team(session, _team_or_404(session, team_id))


@bp.post("/console/teams/<int:team_id>/members")
@requires(Permission.TEAM_MANAGE)
def add_member(team_id: int) -> ResponseReturnValue:
    session = get_session()
    team = _team_or_404(session, team_id)
    form = MemberForm()
    form.skills.choices = skill_choices(current_lang())
    if form.validate_on_submit():
        try:
            user = team_people.get_user(session, form.username.data)
            team_people.add_member(
                session,
                team,
                user,
                actor=_actor(),
                skills=form.skills.data,
                department=form.department.data or None,
            )
        except UnknownUserError:
            form.username.errors = [_("No active user by that name.")]
        else:
            return _saved(team, _("Member added."))
    return _render_team(session, team, 400, member_form=form)


@bp.post("/console/teams/<int:team_id>/members/<int:member_id>/remove")
@requires(Permission.TEAM_MANAGE)
def remove_member(team_id: int, member_id: int) -> ResponseReturnValue:
    session = get_session()
    team = _team_or_404(session, team_id)
    require_action()
    try:
        team_people.remove_member(session, team, member_id, actor=_actor())
    except TeamNotFoundError:
        abort(404)
    return _saved(team, _("Member removed."))


@bp.post("/console/teams/<int:team_id>/rotation")
@requires(Permission.TEAM_MANAGE)
def set_rotation(team_id: int) -> ResponseReturnValue:
    session = get_session()
    team = _team_or_404(session, team_id)
    form = RotationForm()
    positions: list[tuple[int, int]] = []
    bad = False
    for member in team.members:
        raw = request.form.get(f"position-{member.id}", str(member.position)).strip()
        if not (raw.isascii() and raw.isdigit()):
            bad = True
        else:
            positions.append((int(raw), member.id))
    if bad:
        form.start.errors = [*form.start.errors, _("Positions must be whole numbers.")]
    if form.validate_on_submit() and not bad:
        order = [member_id for _pos, member_id in sorted(positions)]
        oncall.set_rotation(session, team, start=form.start.data, order=order, actor=_actor())
        return _saved(team, _("Rotation saved."))
    return _render_team(session, team, 400, rotation_form=form)


@bp.post("/console/teams/<int:team_id>/overrides")
@requires(Permission.TEAM_MANAGE)
def add_override(team_id: int) -> ResponseReturnValue:
    session = get_session()
    team = _team_or_404(session, team_id)
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            user = team_people.get_user(session, form.username.data)
            starts, ends = _local(form.starts_at.data), _local(form.ends_at.data)
            assert starts is not None  # DataRequired
            assert ends is not None
            oncall.add_override(
                session, team, user, starts, ends, actor=_actor(), reason=form.reason.data or ""
            )
        except UnknownUserError:
            form.username.errors = [_("No active user by that name.")]
        except InvalidInputError:
            form.ends_at.errors = [_("The end must be after the start.")]
        else:
            return _saved(team, _("Override added."))
    return _render_team(session, team, 400, override_form=form)


@bp.post("/console/teams/<int:team_id>/swap")
@requires(Permission.TEAM_MANAGE)
def swap(team_id: int) -> ResponseReturnValue:
    session = get_session()
    team = _team_or_404(session, team_id)
    form = SwapForm()
    if form.validate_on_submit():
        try:
            oncall.swap_weeks(
                session, team, form.week_a.data, form.week_b.data, _tz(), actor=_actor()
            )
        except InvalidInputError:
            form.week_b.errors = [_("Choose two rotation weeks with different people on call.")]
        else:
            return _saved(team, _("Weeks swapped."))
    return _render_team(session, team, 400, swap_form=form)


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
    session: Session, user: User, status: int = 200, **forms: Any
) -> ResponseReturnValue:
    profile = team_people.profiles_of(session, [user.id]).get(user.id)
    profile_form = forms.get("profile_form") or ProfileForm(
        skills=profile.skills if profile else [],
        department=user.department or "",
        availability_percent=profile.availability_percent if profile else 100,
    )
    profile_form.skills.choices = skill_choices(current_lang())
    return (
        render_template(
            "teams/person.html",
            person=user,
            profile=profile,
            skills_of=_skills,
            leaves=team_leave.leaves_of(session, user.id),
            profile_form=profile_form,
            leave_form=forms.get("leave_form") or LeaveForm(),
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


@bp.post("/console/teams/people/<int:user_id>/profile")
@requires(Permission.TEAM_MANAGE)
def set_profile(user_id: int) -> ResponseReturnValue:
    session = get_session()
    user = _person_or_404(session, user_id)
    form = ProfileForm()
    form.skills.choices = skill_choices(current_lang())
    if form.validate_on_submit():
        team_people.set_profile(
            session,
            user,
            actor=_actor(),
            skills=form.skills.data,
            department=form.department.data or "",
            availability_percent=form.availability_percent.data,
        )
        session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("teams.person", user_id=user.id))
    return _render_person(session, user, 400, profile_form=form)


@bp.post("/console/teams/people/<int:user_id>/leave")
@requires(Permission.TEAM_MANAGE)
def add_leave(user_id: int) -> ResponseReturnValue:
    session = get_session()
    user = _person_or_404(session, user_id)
    form = LeaveForm()
    if form.validate_on_submit():
        try:
            team_leave.add_leave(
                session,
                user,
                form.starts_on.data,
                form.ends_on.data,
                actor=_actor(),
                note=form.note.data or "",
            )
        except InvalidInputError:
            form.ends_on.errors = [_("The last day must not be before the first day.")]
        else:
            session.commit()
            flash(_("Leave added."), "success")
            return redirect(url_for("teams.person", user_id=user.id))
    return _render_person(session, user, 400, leave_form=form)


@bp.post("/console/teams/people/<int:user_id>/leave/<int:leave_id>/delete")
@requires(Permission.TEAM_MANAGE)
def delete_leave(user_id: int, leave_id: int) -> ResponseReturnValue:
    session = get_session()
    user = _person_or_404(session, user_id)
    require_action()
    leave_ids = {leave.id for leave in team_leave.leaves_of(session, user.id)}
    if leave_id not in leave_ids:
        abort(404)
    team_leave.delete_leave(session, leave_id, actor=_actor())
    session.commit()
    flash(_("Leave removed."), "success")
    return redirect(url_for("teams.person", user_id=user.id))


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
    session.commit()
    flash(_("Team updated; the people assigned have been notified."), "success")
    return redirect(url_for("teams.case_team", case_id=case_id))


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
