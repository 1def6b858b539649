"""Forms of the console's public follow-up page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from csirt.documents.forms import date_field, line_field, measure_status, text_field


class ProposeForm(FlaskForm):  # type: ignore[misc]
    title = line_field(_l("Public title of the measure"), max_length=300)
    owner = line_field(_l("Department in charge"))
    due = date_field(_l("Due date"))
    status = measure_status()
    note = text_field(_l("Public note (evidence of completion)"), max_length=5000)
    done_on = date_field(_l("Date of the evidence"))


class PublicationForm(FlaskForm):  # type: ignore[misc]
    title = line_field(_l("Public title of the case (empty: not published)"))
