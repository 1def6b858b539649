"""Console forms of the observables tab."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from csirt.cases.forms import TLP_LABELS, choices
from csirt.observables.normalise import HASH_ALGORITHMS, MAX_VALUE
from csirt.observables.service import MAX_DESCRIPTION, MAX_PASTE_LINES, MAX_SOURCE, PAP_LEVELS

TYPE_LABELS = {
    "ip": _l("IP address"),
    "domain": _l("Domain"),
    "url": _l("URL"),
    "hash": _l("File hash"),
    "email": _l("E-mail address"),
    "filename": _l("File name"),
    "registry": _l("Registry key"),
    "user-agent": _l("User agent"),
    "other": _l("Other"),
}
PAP_LABELS = {level: f"PAP:{level.upper()}" for level in PAP_LEVELS}
# The algorithms as their standards write them (the stored keys are md5, sha1, ...).
HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
# Where an observable came from, when the system names it (``source`` of add_many); a source a
# person typed is shown as typed.
SOURCE_LABELS = {
    "console": _l("Console"),
    "paste": _l("Pasted list"),
    "api": "API",
    "stix": _l("STIX import"),
    "misp": _l("MISP import"),
}


class _Levels(FlaskForm):  # type: ignore[misc]
    """What every way of adding observables shares: TLP, PAP, IOC, tags, source."""

    tlp = SelectField(_l("TLP"), choices=choices(TLP_LABELS.items()), default="amber")
    pap = SelectField(_l("PAP"), choices=choices(PAP_LABELS.items()), default="amber")
    ioc = BooleanField(_l("Indicator of compromise (IOC)"))
    tags = StringField(_l("Tags (comma-separated)"), validators=[Length(max=1000)])
    source = StringField(_l("Source"), validators=[Length(max=MAX_SOURCE)])


class ObservableForm(_Levels):
    """One observable (add, or correct with the reason kept in the history)."""

    type = SelectField(_l("Type"), choices=choices(TYPE_LABELS.items()))
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=MAX_VALUE)])
    hash_algorithm = SelectField(
        _l("Hash algorithm"),
        choices=choices(
            [("", _l("From the length")), *((a, HASH_NAMES[a]) for a in HASH_ALGORITHMS)]
        ),
        validators=[Optional()],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=MAX_DESCRIPTION)])
    first_seen = StringField(_l("First seen"), validators=[Length(max=40)])
    last_seen = StringField(_l("Last seen"), validators=[Length(max=40)])
    submit = SubmitField(_l("Add observable"))


class PasteForm(_Levels):
    """Many values, one per line; each line's type is guessed unless one is chosen."""

    text = TextAreaField(
        _l("Values, one per line"),
        validators=[DataRequired(), Length(max=MAX_PASTE_LINES * 200)],
    )
    type = SelectField(
        _l("Type"),
        choices=choices([("", _l("Guess for each line")), *TYPE_LABELS.items()]),
        validate_choice=False,  # anything else: guessed per line
    )
    submit = SubmitField(_l("Preview"))


class TechniquesForm(FlaskForm):  # type: ignore[misc]
    techniques = StringField(
        _l("ATT&CK technique ids (e.g. T1567 T1078.004)"), validators=[Length(max=1000)]
    )
    submit = SubmitField(_l("Save techniques"))


class EventTechniquesForm(TechniquesForm):
    event_id = SelectField(_l("Timeline event"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Save the event's techniques"))


class ImportForm(FlaskForm):  # type: ignore[misc]
    format = SelectField(
        _l("Format"), choices=choices([("stix", "STIX 2.1"), ("misp", _l("MISP event (JSON)"))])
    )
    file = FileField(_l("File"), validators=[FileRequired()])
    submit = SubmitField(_l("Import"))
