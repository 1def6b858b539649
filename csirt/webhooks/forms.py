"""The console form of an outgoing webhook."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from csirt.auth.forms import MultiCheckboxField
from csirt.cases.forms import TLP_LABELS, choices
from csirt.webhooks.service import MIN_SECRET

EVENT_LABELS = {
    "case.created": _l("Case created"),
    "case.priority_changed": _l("Priority changed"),
    "obligation.due_soon": _l("Legal deadline due within a day"),
    "document.approved": _l("Document approved"),
}


class WebhookForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=500)])
    secret = PasswordField(
        _l("Signing secret"), validators=[Optional(), Length(min=MIN_SECRET, max=200)]
    )
    events = MultiCheckboxField(
        _l("Events"),
        choices=choices(EVENT_LABELS.items()),
        validators=[DataRequired()],
    )
    max_tlp = SelectField(_l("Describe cases up to"), choices=choices(TLP_LABELS.items()))
    active = BooleanField(_l("Active"), default=True)
