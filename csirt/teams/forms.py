"""Forms of the team pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from csirt.auth.forms import MultiCheckboxField
from csirt.dates import InDateRange
from csirt.teams.suggest import SKILL_LABELS

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


def skill_choices(lang: str) -> list[SelectChoice]:
    return [SelectChoice(key, label.get(lang)) for key, label in SKILL_LABELS.items()]


class TeamForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Short name (letters, digits, hyphens)"),
        validators=[DataRequired(), Regexp(SLUG_PATTERN, message=_l("Use a-z, 0-9 and -."))],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    first_response = BooleanField(_l("Paged when a case becomes P1 (first response)"))
    submit = SubmitField(_l("Create team"))


class MemberForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    skills = MultiCheckboxField(_l("Skills"), choices=[])
    department = StringField(_l("Department (leave empty to keep)"), validators=[Length(max=128)])
    submit = SubmitField(_l("Add member"))


class RotationForm(FlaskForm):  # type: ignore[misc]
    start = DateField(_l("Rotation starts on (first week)"), validators=[Optional(), InDateRange()])
    submit = SubmitField(_l("Save rotation"))


class OverrideForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        _l("Who is on call instead"), validators=[DataRequired(), Length(max=64)]
    )
    starts_at = DateTimeLocalField(_l("From"), validators=[DataRequired(), InDateRange()])
    ends_at = DateTimeLocalField(_l("Until"), validators=[DataRequired(), InDateRange()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add override"))


class SwapForm(FlaskForm):  # type: ignore[misc]
    week_a = DateField(_l("A day in the first week"), validators=[DataRequired(), InDateRange()])
    week_b = DateField(_l("A day in the second week"), validators=[DataRequired(), InDateRange()])
    submit = SubmitField(_l("Swap weeks"))


class ProfileForm(FlaskForm):  # type: ignore[misc]
    skills = MultiCheckboxField(_l("Skills"), choices=[])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=128)])
    availability_percent = IntegerField(
        _l("Working time (percent of full time)"), validators=[DataRequired(), NumberRange(1, 100)]
    )
    submit = SubmitField(_l("Save"))


class LeaveForm(FlaskForm):  # type: ignore[misc]
    starts_on = DateField(_l("First day"), validators=[DataRequired(), InDateRange()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(), InDateRange()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add leave"))


class AssignOneForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Assign"))
