"""Forms of the document pages: create, edit sections, comment, context, measures, settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from csirt.dates import InDateRange
from csirt.documents.builders import KINDS
from csirt.documents.models import MeasureStatus

KIND_LABELS = {
    "press_release": _l("Press release"),
    "committee_report": _l("Committee report"),
    "ppc_report": _l("Report to the PPC"),
    "individual_notice": _l("Notice to individuals"),
    "prevention_progress": _l("Prevention progress report"),
}
LANG_LABELS = {"ja": _l("Japanese"), "en": _l("English")}
STATUS_LABELS = {"draft": _l("Draft"), "approved": _l("Approved")}
MEASURE_STATUS_LABELS = {
    MeasureStatus.PLANNED.value: _l("Planned"),
    MeasureStatus.IN_PROGRESS.value: _l("In progress"),
    MeasureStatus.DONE.value: _l("Done"),
}
SECTION_LABELS = {
    "lead": _l("Lead paragraph (apology)"),
    "overview": _l("Overview"),
    "staff": _l("Staff member's department and post"),
    "timeline": _l("Course of events"),
    "data": _l("Information leaked"),
    "cause": _l("Cause"),
    "response": _l("Response"),
    "secondary_damage": _l("Secondary damage"),
    "prevention": _l("Prevention of recurrence"),
    "contact": _l("Contact"),
    "mandate": _l("Mandate"),
    "independence": _l("Independence"),
    "scope": _l("Scope"),
    "method": _l("Method"),
    "period": _l("Period"),
    "facts": _l("Course of events"),
    "findings": _l("Facts found"),
    "causes": _l("Causes"),
    "evaluation": _l("Evaluation of the response"),
    "recommendations": _l("Recommendations"),
    "conclusion": _l("Conclusion"),
    "summary": _l("Summary"),
    "items": _l("Personal data items"),
    "persons": _l("Number of persons"),
    "individual_response": _l("Action towards the persons concerned"),
    "publication": _l("Public announcement"),
    "other": _l("Other matters"),
    "addressee": _l("Addressee"),
    "greeting": _l("Greeting"),
    "next_steps": _l("Next steps"),
    "future": _l("Further actions"),
    "discipline": _l("Disciplinary action"),
    "caution": _l("A request to residents"),
    "areas": _l("Progress by area"),
    "measures": _l("Each measure"),
    "recipients": _l("Recipients"),
}
FACT_SECTION_LABELS = {
    "facts.title": _l("Title and summary of the case"),
    "facts.timeline": _l("Public timeline"),
    "facts.data_sets": _l("Data sets"),
    "facts.measures": _l("Measures"),
    "facts.recommendations": _l("Recommendations"),
    "facts.committee": _l("Committee"),
}
FINDING_LABELS = {
    "reporter_identity": _l("the reporter's identity"),
    "sealed_data": _l("a name or contact from the case's internal data"),
    "receipt": _l("a receipt code"),
    "phone": _l("a phone number"),
    "email": _l("an e-mail address"),
    "my_number": _l("an individual number (My Number)"),
}


def section_label(key: str) -> str:
    """The translated label of a section key (or of a facts text the guard checked)."""
    label = SECTION_LABELS.get(key) or FACT_SECTION_LABELS.get(key)
    return str(label) if label is not None else key


def kind_label(kind: str) -> str:
    """The translated name of a document kind."""
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


def text_field(label: LazyString, max_length: int | None = None) -> TextAreaField:
    """An optional free text (a textarea), of at most ``max_length`` characters if given."""
    limit = [] if max_length is None else [Length(max=max_length)]
    return TextAreaField(label, validators=[Optional(), *limit])


def line_field(label: LazyString, max_length: int = 200) -> StringField:
    """An optional one-line text of at most ``max_length`` characters."""
    return StringField(label, validators=[Optional(), Length(max=max_length)])


def date_field(label: LazyString) -> DateField:
    """An optional date."""
    return DateField(label, validators=[Optional()])


def measure_status() -> SelectField:
    """The status of a prevention measure (planned, in progress, done)."""
    return SelectField(
        _l("Status"), choices=[SelectChoice(k, v) for k, v in MEASURE_STATUS_LABELS.items()]
    )


class CreateDocumentForm(FlaskForm):  # type: ignore[misc]
    kind = SelectField(_l("Kind of document"), validators=[DataRequired()])
    lang = SelectField(_l("Language of the document"), validators=[DataRequired()])
    as_of = DateField(
        _l("As of"),
        validators=[Optional(), InDateRange()],
        description=_l(
            "Events, measures and responses after this date are left out (default: today)."
        ),
    )
    submit = SubmitField(_l("Create draft"))

    def set_choices(self, kinds: Iterable[str]) -> None:
        """Offer only the kinds this user may create."""
        allowed = set(kinds)
        self.kind.choices = [SelectChoice(k, str(KIND_LABELS[k])) for k in KINDS if k in allowed]
        self.lang.choices = [SelectChoice(k, str(v)) for k, v in LANG_LABELS.items()]


def sections_form(keys: Iterable[str], values: Mapping[str, str], data: object = None) -> FlaskForm:
    """A form with one textarea per section key, labelled in the UI language."""

    class SectionsForm(FlaskForm):  # type: ignore[misc]
        base_version = IntegerField(validators=[DataRequired()])
        note = line_field(_l("What changed (optional)"))
        submit = SubmitField(_l("Save as new version"))

    names = []
    for key in keys:
        field = TextAreaField(
            section_label(key),
            validators=[Length(max=20_000)],
            default=values.get(key, ""),
            render_kw={"rows": 6},
        )
        setattr(SectionsForm, f"s_{key}", field)
        names.append(key)
    form = SectionsForm(formdata=data) if data is not None else SectionsForm()
    form.section_keys = names
    return form


class CommentForm(FlaskForm):  # type: ignore[misc]
    section = SelectField(_l("About section"), validators=[Optional()])
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Add comment"))


class ContextForm(FlaskForm):  # type: ignore[misc]
    public_title = line_field(_l("Public title (documents never use the internal title)"))
    public_summary = text_field(_l("Public summary"))
    causes = text_field(_l("Causes (one per line)"))
    findings = text_field(_l("Facts found (one per line)"))
    notice_to_individuals = text_field(_l("Notice to individuals"))
    takedown = text_field(_l("Takedown and search-cache removal"))
    police = text_field(_l("Police"))
    secondary_damage = text_field(_l("Secondary damage"))
    publication = text_field(_l("Public announcements so far"))
    other_notes = text_field(_l("Other notes"))
    staff_department = line_field(_l("Staff member's department (misconduct only)"))
    staff_post = line_field(_l("Staff member's post"))
    staff_age = IntegerField(
        _l("Staff member's age"), validators=[Optional(), NumberRange(min=15, max=100)]
    )
    ppc_stage = SelectField(
        _l("Stage of the PPC report"),
        choices=[
            SelectChoice("preliminary", _l("Preliminary report")),
            SelectChoice("final", _l("Final report")),
        ],
    )
    first_report_at = DateTimeLocalField(
        _l("First report received (if not from the intake)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    first_contact_at = DateTimeLocalField(
        _l("First contact with the reporter"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    committee_name = line_field(_l("Committee name"))
    committee_mandate = text_field(_l("Mandate"))
    committee_independence = text_field(_l("Independence"))
    committee_scope = text_field(_l("Scope"))
    committee_method = text_field(_l("Method"))
    committee_period_start = date_field(_l("Period from"))
    committee_period_end = date_field(_l("Period to"))
    committee_members = text_field(_l("Members (one per line: name | affiliation | role)"))
    committee_meetings = text_field(_l("Meetings (one per line, e.g. 2015-07-01 | what was done)"))
    occurrence = text_field(_l("When it happened (a date or a period, as precisely as known)"))
    discovery = text_field(_l("How it was found"))
    medium = text_field(_l("Medium (where the data were)"))
    direct_cause = text_field(_l("Direct cause"))
    reporter = line_field(_l("Reporting body (e.g. the mayor)"))
    data_holder = line_field(
        _l("Holder of the data, if another body (e.g. the election commission)")
    )
    contact_person = line_field(_l("Named contact for the regulator"))
    future_actions = text_field(_l("Further actions"))
    caution = text_field(_l("Caution to residents (default: the organisation's)"))
    discipline = text_field(_l("Disciplinary action (printed only when given)"))
    contact_department = line_field(_l("Contact department for this case"))
    contact_phone = line_field(_l("Contact phone for this case"))
    contact_email = line_field(_l("Contact e-mail for this case"))
    recommendations = text_field(
        _l("Recommendations (one per line: title | text | owner | finding answered)")
    )
    submit = SubmitField(_l("Save facts"))


class MeasureForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Measure"), validators=[DataRequired(), Length(max=300)])
    owner = line_field(_l("Owner"))
    due = date_field(_l("Due date"))
    status = measure_status()
    evidence = text_field(_l("Evidence of effect"), max_length=10_000)
    case_id = SelectField(_l("Case"), validators=[Optional()])
    submit = SubmitField(_l("Save measure"))


class SettingsForm(FlaskForm):  # type: ignore[misc]
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=200)])
    department = line_field(_l("Publishing department"))
    contact_department = line_field(_l("Contact point (department)"))
    phone = line_field(_l("Public phone number"), max_length=40)
    email = EmailField(_l("Public e-mail address"), validators=[Optional(), Length(max=254)])
    public_body = BooleanField(_l("Public body (保有個人情報)"))
    head = line_field(_l("Head of the body, who signs (e.g. 堺市長 竹山 修身)"))
    date_style = SelectField(
        _l("Dates in Japanese documents"),
        choices=[
            SelectChoice(
                "wareki", _l("Japanese era with the Western year: 令和6年(2024年)12月14日（土）")
            ),
            SelectChoice("seireki", _l("Western year: 2024年12月14日（土）")),
        ],
        default="wareki",
        validate_choice=False,  # anything else is stored as wareki (the view's choice)
    )
    caution = text_field(
        _l("Caution to residents in press releases (default wording when empty)"), max_length=2000
    )
    submit = SubmitField(_l("Save settings"))


class TemplateForm(FlaskForm):  # type: ignore[misc]
    template = FileField(_l("Organisation template (.docx)"), validators=[FileRequired()])
    upload = SubmitField(_l("Upload template"))
