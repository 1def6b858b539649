"""Forms of the inventory pages; field names match the API's, so one reader checks both."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from csirt.auth.forms import MultiCheckboxField
from csirt.records.validation import MAX_PERSONS


class FileForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name of the personal-data file"),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"placeholder": "選挙人名簿"},
    )
    register_ref = StringField(
        _l("Number in the public register"), validators=[Optional(), Length(max=100)]
    )
    holder = StringField(_l("Holding department"), validators=[Optional(), Length(max=200)])
    purpose = TextAreaField(_l("Purpose of use"), validators=[Optional(), Length(max=10_000)])
    items = MultiCheckboxField(_l("Data items"), choices=[])
    persons = IntegerField(
        _l("Number of persons"), validators=[InputRequired(), NumberRange(0, MAX_PERSONS)]
    )
    persons_estimated = BooleanField(_l("The number is an estimate"))
    counted_on = StringField(
        _l("Date of the count"), validators=[Optional()], render_kw={"type": "date"}
    )
    systems = TextAreaField(
        _l("Systems and media where it lives (one per line)"),
        validators=[Optional(), Length(max=10_000)],
    )
    take_out = StringField(_l("Who may take it out"), validators=[Optional(), Length(max=300)])
    retention = StringField(_l("Retention period"), validators=[Optional(), Length(max=200)])
    reason = StringField(_l("Reason for the change"), validators=[Optional(), Length(max=500)])


class OverlapForm(FlaskForm):  # type: ignore[misc]
    other_id = SelectField(_l("Other file"), choices=[], validate_choice=False)
    persons = IntegerField(
        _l("Persons in both files"), validators=[InputRequired(), NumberRange(0, MAX_PERSONS)]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class ImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("Register CSV file"))


class PickForm(FlaskForm):  # type: ignore[misc]
    exposure = SelectField(_l("Exposure"), choices=[])
