"""The intake inbox in the console: open, reply, promote, grant, identity requests, keys."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.auth.access import requires
from csirt.auth.credentials import password_matches
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.auth.reauth import reauth_required
from csirt.catalog.current import current_catalog
from csirt.db import get_session, utcnow, writes
from csirt.forms import require_action, saved
from csirt.i18n import current_lang
from csirt.intake import base, cli, disclosure, handling, handoff, keyring, staff_keys, web
from csirt.intake.base import (
    AnswersInvalidError,
    IdentityError,
    IntakeError,
    NoKeyError,
    NotVisibleError,
)
from csirt.intake.escrow import Escrow
from csirt.intake.forms import (
    AttachForm,
    ConfirmForm,
    DecisionForm,
    GrantForm,
    IdentityRequestForm,
    NewKeyForm,
    PromoteForm,
    ReplyForm,
    RestoreForm,
)
from csirt.intake.models import IdentityRequest, Submission

if TYPE_CHECKING:
    from flask import Flask
    from flask_wtf import FlaskForm
    from wtforms import Field

bp = Blueprint("intake_console", __name__, url_prefix="/console/intake")


def init_app(app: Flask) -> None:
    cli.register(app)


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _private_key() -> bytes | None:
    try:
        return staff_keys.current_private_key(get_session(), session, _user())
    except staff_keys.VaultLockedError:
        return None


def _locked() -> ResponseReturnValue:
    flash(
        _("Your intake key is not unlocked in this session. Sign in again or restore it below."),
        "warning",
    )
    return redirect(url_for("intake_console.key"))


View = Callable[..., ResponseReturnValue]


def _unlocked(view: View) -> View:
    """Pass the officer's private key to ``view`` as ``private``; none in this session: the key
    page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        private = _private_key()
        if private is None:
            return _locked()
        return view(*args, private=private, **kwargs)

    return wrapper


def _report_form(form_class: type[FlaskForm], name: str) -> Callable[[View], View]:
    """Validate a form of the report page and pass it to ``view`` as ``form``; invalid: the page
    again, with ``name`` holding the form and its errors (400)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(submission_id: int) -> ResponseReturnValue:
            form = form_class()
            if not form.validate_on_submit():
                return _open_page(submission_id, 400, **{name: form})
            return view(submission_id, form=form)

        return wrapper

    return decorate


def _report_post(
    action: str,
    permission: Permission,
    form_class: type[FlaskForm],
    form_name: str,
    *,
    unlocked: bool = False,
    reauth: bool = False,
) -> Callable[[View], View]:
    """Register ``view`` as the POST ``/<submission_id>/<action>`` of the report page, needing
    ``permission`` (and a fresh sign-in with ``reauth``), given the valid form (see
    :func:`_report_form`) and, with ``unlocked``, the private key (see :func:`_unlocked`)."""

    def decorate(view: View) -> View:
        checked = _report_form(form_class, form_name)(_unlocked(view) if unlocked else view)
        if reauth:
            checked = reauth_required(checked)
        return bp.post(f"/<int:submission_id>/{action}")(requires(permission)(checked))

    return decorate


def _saved_back(submission_id: int, message: str) -> ResponseReturnValue:
    """Commit the change, say ``message`` and go back to the report's page."""
    return saved(message, "intake_console.open_report", submission_id=submission_id)


def _back(submission_id: int) -> ResponseReturnValue:
    return redirect(url_for("intake_console.open_report", submission_id=submission_id))


@contextmanager
def _shown_or_404(db_session: Session) -> Iterator[None]:
    """A report the officer may not see, or holds no key for, is a 404 (the audited denial of
    sight is kept)."""
    try:
        yield
    except (NotVisibleError, NoKeyError):
        db_session.commit()
        abort(404)


def _already_linked() -> None:
    get_session().rollback()
    flash(_("This report is already linked to a case."), "error")


@bp.get("/")
@requires(Permission.INTAKE_READ)
def inbox() -> ResponseReturnValue:
    db_session = get_session()
    settings = web.settings(db_session)
    rows = handling.inbox(db_session, _user(), settings, include_closed="all" in request.args)
    why = keyring.why_unreadable(
        db_session, _user(), [r.submission for r in rows if not r.has_key], _escrow()
    )
    return render_template(
        "intake/console_inbox.html",
        rows=rows,
        why=why,
        # A one-time recovery key waits on the key page (a notice, not a redirect: the inbox
        # stays the inbox).
        recovery_waiting=staff_keys.has_pending_recovery(db_session, session, _user()),
        show_all="all" in request.args,
        unlocked=_private_key() is not None,
        confirm_form=ConfirmForm(),
        officers=[u for u in base.officers(db_session) if u.id != current_user.id],
        grant_form=GrantForm(),
        now=utcnow(),
    )


def _escrow() -> Escrow:
    from flask import current_app

    return Escrow.from_config(current_app.config["CSIRT"])


@bp.post("/keys/fetch")
@requires(Permission.INTAKE_READ)
def fetch_keys() -> ResponseReturnValue:
    """Seal to the signed-in officer, from the organisation key, every report they lack."""
    require_action(ConfirmForm)
    db_session = get_session()
    user = _user()
    if user.public_key is None:
        flash(_("You have no intake key yet. Sign out and sign in again to create it."), "warning")
        return redirect(url_for("intake_console.inbox"))
    count = keyring.wrap_from_escrow(db_session, _escrow(), [user])
    db_session.commit()
    if count:
        flash(_("%(n)d reports were sealed to your key.", n=count), "success")
    else:
        flash(
            _("No report could be sealed to your key from the organisation key. See below why."),
            "warning",
        )
    return redirect(url_for("intake_console.inbox"))


def _open_page(submission_id: int, status: int = 200, **forms: Any) -> ResponseReturnValue:
    db_session = get_session()
    private = _private_key()
    if private is None:
        return _locked()
    try:
        opened = handling.open_submission(db_session, _user(), private, submission_id)
    except NotVisibleError:
        db_session.commit()  # keep the audited denial
        abort(404)
    except NoKeyError:
        flash(
            _("You hold no key for this report yet. The inbox says why and what to do."),
            "warning",
        )
        return redirect(url_for("intake_console.inbox"))
    questionnaire = web.settings(db_session).questionnaire
    labels = {f.key: f.label for f in questionnaire.fields}
    language = current_lang()
    db_session.commit()
    requests = opened.submission.identity_requests
    return render_template(
        "intake/console_open.html",
        opened=opened,
        submission=opened.submission,
        answers=[
            (labels[key].get(language) if key in labels else key, _answer_text(key, value))
            for key, value in opened.answers.items()
        ],
        reply_form=forms.get("reply_form") or ReplyForm(),
        promote_form=forms.get("promote_form") or PromoteForm(),
        attach_form=forms.get("attach_form") or AttachForm(),
        identity_form=forms.get("identity_form") or IdentityRequestForm(),
        grant_form=GrantForm(),
        confirm_form=ConfirmForm(),
        grantees=handling.officers_without_key(db_session, opened.submission),
        my_requests=[r for r in requests if r.requester_id == current_user.id],
    ), status


def _answer_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        if key == "data_items":
            vocabulary = current_catalog().vocabulary
            return ", ".join(vocabulary.label(v, current_lang()) for v in value)
        return ", ".join(str(v) for v in value)
    return str(value)


@bp.get("/<int:submission_id>")
@writes
@requires(Permission.INTAKE_READ)
def open_report(submission_id: int) -> ResponseReturnValue:
    return _open_page(submission_id)


@_report_post("reply", Permission.INTAKE_READ, ReplyForm, "reply_form", unlocked=True)
def reply(submission_id: int, form: ReplyForm, private: bytes) -> ResponseReturnValue:
    db_session = get_session()
    with _shown_or_404(db_session):
        handling.officer_reply(db_session, _user(), private, submission_id, form.body.data or "")
    return _saved_back(submission_id, _("Your reply is in the reporter's mailbox."))


@_report_post("promote", Permission.CASE_CREATE, PromoteForm, "promote_form", unlocked=True)
def promote(submission_id: int, form: PromoteForm, private: bytes) -> ResponseReturnValue:
    def open_case(db_session: Session) -> int:
        return handoff.promote(
            db_session,
            _user(),
            private,
            submission_id,
            form.title.data or "",
            lang=current_lang(),
            vocabulary=current_catalog().vocabulary,
            questionnaire=current_catalog().questionnaire,
        )

    return _hand_off(
        submission_id,
        open_case,
        (form, "promote_form", form.title, _("Give the case a title.")),
        _("A case was opened with the report's structured facts only."),
    )


def _hand_off(
    submission_id: int,
    link: Callable[[Session], int | None],
    refused: tuple[FlaskForm, str, Field, str],
    done: str,
) -> ResponseReturnValue:
    """Link the report to a case by ``link`` (which returns the case if it opened one).

    ``refused`` says what the report page shows when the service refuses the form's input: the
    form, its name on the page, the field that gets the error and the error's text.
    """
    db_session = get_session()
    try:
        with _shown_or_404(db_session):
            case_id = link(db_session)
    except AnswersInvalidError:
        db_session.rollback()
        form, form_name, field, error = refused
        field.errors = [error]
        return _open_page(submission_id, 400, **{form_name: form})
    except IntakeError:
        _already_linked()
        return _back(submission_id)
    if case_id is not None and _has_endpoint("cases.detail"):
        return saved(done, "cases.detail", case_id=case_id)
    return _saved_back(submission_id, done)


def _has_endpoint(name: str) -> bool:
    from flask import current_app

    return name in current_app.view_functions


@_report_post("attach", Permission.INTAKE_READ, AttachForm, "attach_form")
def attach(submission_id: int, form: AttachForm) -> ResponseReturnValue:
    def link(db_session: Session) -> None:
        case_id = int(form.case_id.data or 0)
        handoff.attach_to_case(db_session, _user(), submission_id, case_id, lang=current_lang())

    return _hand_off(
        submission_id,
        link,
        (form, "attach_form", form.case_id, _("No case with this number that you can see.")),
        _("The report is linked to the case; its content stays sealed here."),
    )


@bp.get("/<int:submission_id>/files/<int:attachment_id>")
@writes
@requires(Permission.INTAKE_READ)
@_unlocked
def download(submission_id: int, attachment_id: int, private: bytes) -> ResponseReturnValue:
    db_session = get_session()
    original = request.args.get("original") == "1"
    with _shown_or_404(db_session):
        info, data = handling.download_attachment(
            db_session, _user(), private, submission_id, attachment_id, original=original
        )
    db_session.commit()
    from flask import Response

    name = info.filename if original else f"stripped-{info.filename}"
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = _attachment_header(name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _attachment_header(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"download\"; filename*=UTF-8''{quote(name)}"


def _chosen_officer(db_session: Session) -> User | None:
    """The officer the grant form names, if it is valid and names one."""
    form = GrantForm()
    return db_session.get(User, form.user_id.data) if form.validate_on_submit() else None


@bp.post("/<int:submission_id>/grant")
@requires(Permission.INTAKE_GRANT)
@_unlocked
def grant(submission_id: int, private: bytes) -> ResponseReturnValue:
    db_session = get_session()
    grantee = _chosen_officer(db_session)
    if grantee is None:
        flash(_("Choose an officer."), "error")
        return _back(submission_id)
    try:
        handling.grant(db_session, _user(), private, submission_id, grantee)
    except (NotVisibleError, NoKeyError):
        db_session.rollback()
        flash(_("This officer cannot be given this report."), "error")
        return _back(submission_id)
    return _saved_back(submission_id, _("Access granted to %(name)s.", name=grantee.display_name))


@bp.post("/grant-all")
@requires(Permission.INTAKE_GRANT)
@_unlocked
def grant_all(private: bytes) -> ResponseReturnValue:
    db_session = get_session()
    grantee = _chosen_officer(db_session)
    if grantee is None or grantee.public_key is None or not grantee.can(Permission.INTAKE_READ):
        flash(
            _("This officer cannot be given reports (no key yet: they must sign in once)."), "error"
        )
        return redirect(url_for("intake_console.inbox"))
    count = handling.grant_all(db_session, _user(), private, grantee)
    return saved(
        _("%(n)d reports granted to %(name)s.", n=count, name=grantee.display_name),
        "intake_console.inbox",
    )


@_report_post(
    "identity/request",
    Permission.IDENTITY_REQUEST,
    IdentityRequestForm,
    "identity_form",
    reauth=True,
)
def identity_request(submission_id: int, form: IdentityRequestForm) -> ResponseReturnValue:
    db_session = get_session()
    try:
        with _shown_or_404(db_session):
            disclosure.request_identity(
                db_session,
                _user(),
                submission_id,
                form.reason.data or "",
                justification=form.justification.data or "",
            )
    except (IdentityError, AnswersInvalidError):
        db_session.rollback()
        flash(_("This report has no identity to request."), "error")
        return _back(submission_id)
    return _saved_back(submission_id, _("Your request was sent to the custodians."))


@bp.post("/<int:submission_id>/identity")
@requires(Permission.INTAKE_READ)
@reauth_required
def identity_view(submission_id: int) -> ResponseReturnValue:
    require_action(ConfirmForm)
    private = _private_key()
    if private is None:
        return _locked()
    db_session = get_session()
    try:
        with _shown_or_404(db_session):
            identity = disclosure.view_identity(db_session, _user(), private, submission_id)
    except IdentityError:
        abort(403)
    db_session.commit()
    return render_template(
        "intake/console_identity.html", identity=identity, submission_id=submission_id
    )


@bp.get("/identity-requests")
@requires(Permission.IDENTITY_DECIDE)
def identity_requests() -> ResponseReturnValue:
    db_session = get_session()
    pending = disclosure.pending_identity_requests(db_session, _user())
    decided = db_session.scalars(
        select(IdentityRequest)
        .where(IdentityRequest.status != "pending")
        .order_by(IdentityRequest.decided_at.desc())
        .limit(50)
    ).all()
    users = {u.id: u for u in db_session.scalars(select(User))}
    return render_template(
        "intake/console_requests.html",
        pending=pending,
        decided=decided,
        users=users,
        form=DecisionForm(),
        unlocked=_private_key() is not None,
    )


@bp.post("/identity-requests/<int:request_id>")
@requires(Permission.IDENTITY_DECIDE)
@reauth_required
def decide(request_id: int) -> ResponseReturnValue:
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Choose approve or deny."), "error")
        return redirect(url_for("intake_console.identity_requests"))
    private = _private_key()
    if private is None:
        return _locked()
    db_session = get_session()
    try:
        disclosure.decide_identity(
            db_session,
            _user(),
            private,
            request_id,
            approve=form.decision.data == "approve",
            note=form.note.data or "",
        )
    except IdentityError as exc:
        db_session.rollback()
        messages = {
            "a custodian cannot decide their own request": _("You cannot decide your own request."),
        }
        flash(messages.get(str(exc), _("This request cannot be decided.")), "error")
        return redirect(url_for("intake_console.identity_requests"))
    return saved(_("Your decision was recorded."), "intake_console.identity_requests")


@bp.route("/key", methods=["GET", "POST"])
@writes  # a GET shows the one-time recovery key and forgets it
@requires(Permission.ACCOUNT)
def key() -> ResponseReturnValue:
    db_session = get_session()
    user = _user()
    recovery = staff_keys.pop_pending_recovery(db_session, session, user)
    form = RestoreForm()
    new_recovery = None
    status = 200
    if form.validate_on_submit():
        if not _password_ok(user, form):
            status = 400
        else:
            try:
                new_recovery = staff_keys.restore_with_recovery_key(
                    db_session,
                    session,
                    user,
                    form.recovery_key.data or "",
                    form.password.data or "",
                    testing=_testing(),
                    escrow=_escrow(),
                )
            except (vault.WrongPasswordError, vault.TamperedError, vault.ReceiptFormatError):
                form.recovery_key.errors = [_("This recovery key does not open your key.")]
                status = 400
    elif form.is_submitted():
        status = 400
    db_session.commit()
    return _key_page(user, new_recovery or recovery, form, NewKeyForm(prefix="new"), status)


@bp.post("/key/new")
@requires(Permission.ACCOUNT)
def new_key() -> ResponseReturnValue:
    """Start a new intake key when the old one no longer opens and the recovery key is lost."""
    db_session = get_session()
    user = _user()
    form = NewKeyForm(prefix="new")
    recovery = None
    status = 400
    if form.validate_on_submit() and staff_keys.needs_keypair(user) and _password_ok(user, form):
        recovery = staff_keys.replace_keypair(
            db_session,
            session,
            user,
            form.password.data or "",
            escrow=_escrow(),
            testing=_testing(),
        )
        status = 200
    db_session.commit()
    return _key_page(user, recovery, RestoreForm(), form, status)


def _key_page(
    user: User, recovery: str | None, form: RestoreForm, new_key_form: NewKeyForm, status: int
) -> ResponseReturnValue:
    return render_template(
        "intake/console_key.html",
        recovery=recovery,
        has_key=user.public_key is not None,
        unlocked=_private_key() is not None,
        needs_key=staff_keys.needs_keypair(user),
        form=form,
        new_key_form=new_key_form,
    ), status


def _password_ok(user: User, form: RestoreForm | NewKeyForm) -> bool:
    """Check the account password typed into ``form``; wrong: an error on its field."""
    if password_matches(user.password_hash, form.password.data or ""):
        return True
    form.password.errors = [_("The password is wrong.")]
    return False


def _testing() -> bool:
    from flask import current_app

    return bool(current_app.config["CSIRT"].testing)


def submission_case(session: Any, submission_id: int) -> int | None:
    """The case a submission is linked to, if any (for other modules' pages)."""
    row = session.get(Submission, submission_id)
    return row.case_id if row is not None else None
