"""Forms of the console's public follow-up page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from csirt.documents.forms import MEASURE_STATUS_LABELS


class ProposeForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Public title of the measure"), validators=[Optional(), Length(max=300)])
    owner = StringField(_l("Department in charge"), validators=[Optional(), Length(max=200)])
    due = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(
        _l("Status"), choices=[SelectChoice(k, v) for k, v in MEASURE_STATUS_LABELS.items()]
    )
    note = TextAreaField(
        _l("Public note (evidence of completion)"), validators=[Optional(), Length(max=5000)]
    )
    done_on = DateField(_l("Date of the evidence"), validators=[Optional()])


class PublicationForm(FlaskForm):  # type: ignore[misc]
    title = StringField(
        _l("Public title of the case (empty: not published)"),
        validators=[Optional(), Length(max=200)],
    )
