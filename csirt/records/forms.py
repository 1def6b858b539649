"""Forms of the case record pages. Field names match the API's, so one reader validates both."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from csirt.auth.forms import MultiCheckboxField
from csirt.records.validation import MAX_PERSONS

KIND_LABELS = {"file": _l("File"), "web_capture": _l("Captured web content")}
CUSTODY_LABELS = {
    "collected": _l("Collected"),
    "downloaded": _l("Downloaded"),
    "transferred": _l("Transferred"),
    "other": _l("Other"),
}
TAKEDOWN_KIND_LABELS = {"takedown": _l("Takedown"), "cache_removal": _l("Search cache removal")}
TAKEDOWN_STATUS_LABELS = {
    "requested": _l("Requested"),
    "acknowledged": _l("Acknowledged"),
    "removed": _l("Removed"),
    "refused": _l("Refused"),
}
PARTY_LABELS = {
    "police": _l("Police"),
    "regulator": _l("Regulator (PPC)"),
    "jpcert": _l("JPCERT/CC"),
    "vendor": _l("Vendor"),
    "lawyer": _l("Lawyer"),
    "other": _l("Other"),
}
DIRECTION_LABELS = {"out": _l("We contacted them"), "in": _l("They contacted us")}
CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "letter": _l("Letter"),
    "visit": _l("Visit"),
}
DATETIME_LOCAL = {"type": "datetime-local"}


def _choices(labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in labels.items()]


class DatasetForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name of the data set"),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"placeholder": _l("e.g. Electoral roll, Kita ward")},
    )
    holder = StringField(_l("Holding department"), validators=[Optional(), Length(max=200)])
    items = MultiCheckboxField(_l("Data items"), choices=[])
    persons = IntegerField(
        _l("Number of persons"), validators=[InputRequired(), NumberRange(0, MAX_PERSONS)]
    )
    persons_estimated = BooleanField(_l("The number is an estimate"))
    # Choices from the catalog (names of csirt.triage.exposure.Exposure), set by the view.
    exposure = SelectField(_l("Exposure"), choices=[])
    exposed_from = StringField(
        _l("Exposed from"), validators=[Optional()], render_kw=DATETIME_LOCAL
    )
    exposed_until = StringField(
        _l("Exposed until"), validators=[Optional()], render_kw=DATETIME_LOCAL
    )
    encrypted = BooleanField(_l("The data was encrypted"))
    secondary_damage = TextAreaField(
        _l("Secondary damage"), validators=[Optional(), Length(max=10_000)]
    )


class EvidenceForm(FlaskForm):  # type: ignore[misc]
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS))
    file = FileField(_l("File"))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    url = StringField(
        _l("URL of the captured page"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"type": "url", "inputmode": "url"},
    )
    captured_at = StringField(_l("Captured at"), validators=[Optional()], render_kw=DATETIME_LOCAL)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])


class CustodyForm(FlaskForm):  # type: ignore[misc]
    action = SelectField(
        _l("Action"),
        choices=[SelectChoice(k, CUSTODY_LABELS[k]) for k in ("transferred", "other")],
    )
    note = TextAreaField(
        _l("What happened (to whom, where, why)"), validators=[InputRequired(), Length(max=2000)]
    )


class TakedownForm(FlaskForm):  # type: ignore[misc]
    kind = SelectField(_l("Kind of request"), choices=_choices(TAKEDOWN_KIND_LABELS))
    recipient = StringField(
        _l("Sent to (site operator, host, search engine)"),
        validators=[InputRequired(), Length(max=200)],
    )
    url = StringField(
        _l("URL"),
        validators=[InputRequired(), Length(max=2000)],
        render_kw={"type": "url", "inputmode": "url"},
    )
    requested_at = StringField(
        _l("Requested at"), validators=[Optional()], render_kw=DATETIME_LOCAL
    )
    evidence_id = SelectField(_l("Evidence of the content"), choices=[], validate_choice=False)


class TakedownAnswerForm(FlaskForm):  # type: ignore[misc]
    status = SelectField(_l("Status"), choices=_choices(TAKEDOWN_STATUS_LABELS))
    answer = TextAreaField(_l("Answer"), validators=[Optional(), Length(max=10_000)])
    answered_at = StringField(_l("Answered at"), validators=[Optional()], render_kw=DATETIME_LOCAL)


class NoteForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField(_l("Note (Markdown)"), validators=[InputRequired(), Length(max=100_000)])


class LiaisonForm(FlaskForm):  # type: ignore[misc]
    party_kind = SelectField(_l("Kind of party"), choices=_choices(PARTY_LABELS))
    party = StringField(
        _l("Who (organisation and person)"), validators=[InputRequired(), Length(max=200)]
    )
    contact_at = StringField(_l("When"), validators=[InputRequired()], render_kw=DATETIME_LOCAL)
    direction = SelectField(_l("Direction"), choices=_choices(DIRECTION_LABELS))
    summary = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=20_000)])


class InquiryForm(FlaskForm):  # type: ignore[misc]
    channel = SelectField(_l("Channel"), choices=_choices(CHANNEL_LABELS))
    received_on = StringField(
        _l("Received on"), validators=[InputRequired()], render_kw={"type": "date"}
    )
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=200)])
    answered = BooleanField(_l("Answered"))
