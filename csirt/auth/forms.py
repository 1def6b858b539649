"""Forms of the sign-in, account and user-administration pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from csirt.auth.passwords import MIN_PASSWORD_LENGTH, PasswordProblem
from csirt.auth.permissions import Role

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.INTAKE_OFFICER: _l("Intake officer"),
    Role.CUSTODIAN: _l("Identity custodian"),
    Role.RESPONDER: _l("Responder"),
    Role.LEAD: _l("Lead"),
    Role.PR: _l("Public relations"),
    Role.COMMITTEE: _l("Committee member"),
    Role.AUDITOR: _l("Auditor"),
}


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, str(label)) for role, label in ROLE_LABELS.items()]


def password_field(
    label: str,
    autocomplete: str,
    validators: list[Any] | None = None,
    *,
    autofocus: bool = False,
) -> PasswordField:
    """A password input that the browser fills as ``autocomplete`` (``current-password`` or
    ``new-password``); by default required and at most 1,024 characters."""
    render_kw: dict[str, object] = {"autocomplete": autocomplete}
    if autofocus:
        render_kw["autofocus"] = True
    if validators is None:
        validators = [DataRequired(), Length(max=1024)]
    return PasswordField(label, validators=validators, render_kw=render_kw)


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = password_field(_l("Password"), "current-password")
    submit = SubmitField(_l("Sign in"))


class SecondFactorForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )
    submit = SubmitField(_l("Verify"))


class ReauthForm(FlaskForm):  # type: ignore[misc]
    password = password_field(_l("Password"), "current-password", autofocus=True)
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text"},
    )
    next = StringField(validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class TotpSetupForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Code shown by your authenticator app"),
        validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Six digits."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Turn on two-step sign-in"))


class PasswordChangeForm(FlaskForm):  # type: ignore[misc]
    current = password_field(_l("Current password"), "current-password", [DataRequired()])
    new = password_field(_l("New password"), "new-password")
    confirm = password_field(
        _l("Repeat the new password"),
        "new-password",
        [DataRequired(), EqualTo("new", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class TokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=100)])
    scopes = MultiCheckboxField(
        _l("What the token may do"),
        choices=[
            SelectChoice("read", _l("Read")),
            SelectChoice("write", _l("Change data")),
            SelectChoice("export", _l("Export documents and CSV files")),
        ],
        default=["read"],
        validators=[DataRequired()],
    )
    submit = SubmitField(_l("Create token"))


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A form with only the CSRF token, for buttons that change something."""

    submit = SubmitField(_l("Confirm"))


class _AccountForm(FlaskForm):  # type: ignore[misc]
    """The fields of a user account that an administrator sets, at creation and later."""

    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=128)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=128)])
    roles = MultiCheckboxField(_l("Roles"), choices=role_choices)


class UserCreateForm(_AccountForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9._-]+$")],
    )
    password = password_field(_l("Initial password"), "new-password")
    submit = SubmitField(_l("Create user"))


class UserEditForm(_AccountForm):
    active = BooleanField(_l("Account is active"))
    submit = SubmitField(_l("Save"))


class SecurityForm(FlaskForm):  # type: ignore[misc]
    totp_roles = MultiCheckboxField(
        _l("Roles that must use two-step sign-in"), choices=role_choices
    )
    submit = SubmitField(_l("Save"))


class AdminPasswordForm(FlaskForm):  # type: ignore[misc]
    """An administrator sets a new password for someone else (a reset)."""

    password = password_field(_l("New password"), "new-password")
    submit = SubmitField(_l("Set the password"))


def password_messages(problems: Iterable[PasswordProblem]) -> list[str]:
    """The broken password rules in the UI language (account page and user administration)."""
    messages = {
        PasswordProblem.TOO_SHORT: _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        PasswordProblem.CONTAINS_USERNAME: _("Do not include your username."),
        PasswordProblem.TOO_COMMON: _("This password is too common or too simple."),
    }
    return [messages.get(problem, str(problem)) for problem in problems]
