"""Console forms of the intake (the public questionnaire is rendered from the playbook)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs CSRF."""


class ReplyForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField(
        _l("Reply to the reporter"), validators=[DataRequired(), Length(max=20000)]
    )


class PromoteForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title of the new case"), validators=[DataRequired(), Length(max=200)])


class AttachForm(FlaskForm):  # type: ignore[misc]
    case_id = IntegerField(
        _l("Case number (internal id)"), validators=[DataRequired(), NumberRange(min=1)]
    )


class GrantForm(FlaskForm):  # type: ignore[misc]
    user_id = IntegerField(_l("Officer"), validators=[DataRequired(), NumberRange(min=1)])


class IdentityRequestForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        _l("Why do you need the reporter's identity?"),
        validators=[DataRequired(), Length(min=10, max=2000)],
    )
    justification = TextAreaField(
        _l("Good reason (正当な理由) for identifying the reporter"),
        description=_l(
            "Searching for a reporter without good reason is prohibited (Whistleblower "
            "Protection Act as amended, in force 1 December 2026). State why identifying the "
            "reporter is unavoidable, e.g. the investigation cannot go on without asking them "
            "and the mailbox has gone unanswered."
        ),
        validators=[DataRequired(), Length(min=10, max=2000)],
    )


class DecisionForm(FlaskForm):  # type: ignore[misc]
    # Rendered as two radio buttons in the template.
    decision = StringField(_l("Decision"), validators=[DataRequired(), AnyOf(["approve", "deny"])])
    note = TextAreaField(
        _l("Note (kept with the decision)"), validators=[Optional(), Length(max=2000)]
    )


class RestoreForm(FlaskForm):  # type: ignore[misc]
    recovery_key = StringField(_l("Recovery key"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Your current password"), validators=[DataRequired()])


class NewKeyForm(FlaskForm):  # type: ignore[misc]
    """Start a new intake key when the old one no longer opens (recovery key lost)."""

    password = PasswordField(_l("Your current password"), validators=[DataRequired()])
    confirm = BooleanField(
        _l("I understand: reports only my old key could open stay closed to me"),
        validators=[DataRequired()],
    )
