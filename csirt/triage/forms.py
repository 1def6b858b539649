"""Forms of the triage panel and the deadlines board."""

from __future__ import annotations

from typing import TypeVar

from flask_babel import LazyString
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

_Text = TypeVar("_Text", StringField, TextAreaField)


def _required(kind: type[_Text], label: LazyString, missing: LazyString, max_length: int) -> _Text:
    """A text field that must be filled in (``missing`` says with what), of ``max_length``."""
    return kind(label, validators=[DataRequired(message=missing), Length(max=max_length)])


def _moment(label: LazyString, missing: LazyString) -> DateTimeLocalField:
    """A date and time to the minute that must be given, within the accepted range of dates."""
    return DateTimeLocalField(
        label, format="%Y-%m-%dT%H:%M", validators=[DataRequired(message=missing), InDateRange()]
    )


class OverrideForm(FlaskForm):  # type: ignore[misc]
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES)
    reason = _required(TextAreaField, _l("Reason for the override"), _l("Give a reason."), 1000)
    submit = SubmitField(_l("Override priority"))


class DoneForm(FlaskForm):  # type: ignore[misc]
    done_at = _moment(_l("Done at"), _l("Give the date and time it was done."))
    evidence = _required(
        TextAreaField,
        _l("Evidence (what was sent, to whom, receipt number)"),
        _l("Describe the evidence."),
        4000,
    )
    submit = SubmitField(_l("Mark done"))


class ContractorNoticeForm(FlaskForm):  # type: ignore[misc]
    """A contractor's notice of the incident (個人情報保護法26条1項ただし書, 規則9条)."""

    contractor = _required(
        StringField, _l("Contractor who gave notice"), _l("Name the contractor."), 200
    )
    notified = _required(
        StringField,
        _l("Notified (department or person who received the notice)"),
        _l("Name who received the notice."),
        200,
    )
    notice_at = _moment(_l("Notice received at"), _l("Give the date and time of the notice."))
    submit = SubmitField(_l("Record the notice"))
