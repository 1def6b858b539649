"""Forms of the triage panel and the deadlines board."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from csirt.dates import InDateRange

PRIORITY_CHOICES = [SelectChoice(p, p) for p in ("P1", "P2", "P3", "P4")]


class OverrideForm(FlaskForm):  # type: ignore[misc]
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES)
    reason = TextAreaField(
        _l("Reason for the override"),
        validators=[DataRequired(message=_l("Give a reason.")), Length(max=1000)],
    )
    submit = SubmitField(_l("Override priority"))


class DoneForm(FlaskForm):  # type: ignore[misc]
    done_at = DateTimeLocalField(
        _l("Done at"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message=_l("Give the date and time it was done.")), InDateRange()],
    )
    evidence = TextAreaField(
        _l("Evidence (what was sent, to whom, receipt number)"),
        validators=[DataRequired(message=_l("Describe the evidence.")), Length(max=4000)],
    )
    submit = SubmitField(_l("Mark done"))


class ContractorNoticeForm(FlaskForm):  # type: ignore[misc]
    """A contractor's notice of the incident (個人情報保護法26条1項ただし書, 規則9条)."""

    contractor = StringField(
        _l("Contractor who gave notice"),
        validators=[DataRequired(message=_l("Name the contractor.")), Length(max=200)],
    )
    notified = StringField(
        _l("Notified (department or person who received the notice)"),
        validators=[DataRequired(message=_l("Name who received the notice.")), Length(max=200)],
    )
    notice_at = DateTimeLocalField(
        _l("Notice received at"),
        format="%Y-%m-%dT%H:%M",
        validators=[
            DataRequired(message=_l("Give the date and time of the notice.")),
            InDateRange(),
        ],
    )
    submit = SubmitField(_l("Record the notice"))
