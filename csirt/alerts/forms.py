"""Console forms of the alert queue: merge into a case, open a case, ignore."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class MergeForm(FlaskForm):  # type: ignore[misc]
    case_id = SelectField(_l("Case"), choices=[], validate_choice=False, validators=[Optional()])
    reference = StringField(_l("Or a case reference"), validators=[Optional(), Length(max=32)])


class OpenCaseForm(FlaskForm):  # type: ignore[misc]
    playbook = SelectField(_l("Playbook"), choices=[])


class IgnoreForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
