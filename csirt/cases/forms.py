"""Forms of the case pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from csirt.auth.forms import MultiCheckboxField
from csirt.cases.lifecycle import OUTCOMES
from csirt.cases.models import Phase, Priority, TaskStatus, Tlp, Visibility
from csirt.cases.timeline import CATEGORIES
from csirt.dates import InDateRange
from csirt.labels import PHASE_LABELS

TLP_LABELS = {
    Tlp.CLEAR: "TLP:CLEAR",
    Tlp.GREEN: "TLP:GREEN",
    Tlp.AMBER: "TLP:AMBER",
    Tlp.AMBER_STRICT: "TLP:AMBER+STRICT",
    Tlp.RED: "TLP:RED",
}
OUTCOME_LABELS = {
    "resolved": _l("Resolved"),
    "contained_no_harm": _l("Contained, no harm"),
    "false_positive": _l("False positive"),
    "duplicate": _l("Duplicate"),
    "referred": _l("Referred elsewhere"),
}
STATUS_LABELS = {
    TaskStatus.OPEN.value: lazy_pgettext("status", "Open"),  # 未着手, not the verb 開く
    TaskStatus.IN_PROGRESS.value: _l("In progress"),
    TaskStatus.DONE.value: _l("Done"),
    TaskStatus.CANCELLED.value: _l("Cancelled"),
}
CATEGORY_LABELS = {
    "event": _l("Event"),
    "detection": _l("Detection"),
    "report": _l("Report"),
    "action": _l("Action"),
    "communication": _l("Communication"),
    "publication": _l("Publication"),
    "legal": _l("Legal"),
    "phase": _l("Phase change"),
    "priority": _l("Priority change"),
}
VISIBILITY_LABELS = {
    Visibility.INTERNAL.value: _l("Internal"),
    Visibility.PUBLIC.value: _l("Public"),
}
PRECISION_LABELS = {
    "minute": _l("To the minute"),
    "approx": _l("About this time"),
    "day": _l("Day only"),
    "month": _l("Month only"),
}
OPEN_PHASES = [p for p in Phase if p is not Phase.CLOSED]


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Select choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def phase_choices() -> list[SelectChoice]:
    """Open phases with their labels."""
    return choices((p.value, PHASE_LABELS[p.value]) for p in OPEN_PHASES)


def local_to_utc(value: datetime | None, zone: tzinfo) -> datetime | None:
    """A naive date-time from a form, read in the configured zone."""
    if value is None:
        return None
    return value.replace(tzinfo=zone)


def split_lines(text: str | None) -> list[str]:
    """Non-empty lines (or comma-separated parts) of a text area."""
    parts = (text or "").replace("、", ",").replace(",", "\n").splitlines()
    return [part.strip() for part in parts if part.strip()]


class CaseForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20000)])
    priority = SelectField(
        _l("Priority"), choices=choices((p.value, p.value) for p in Priority), default="P3"
    )
    tlp = SelectField(
        _l("TLP"),
        choices=choices((t.value, label) for t, label in TLP_LABELS.items()),
        default="amber",
    )
    aware_at = DateTimeLocalField(
        _l("Aware since"), format="%Y-%m-%dT%H:%M", validators=[Optional(), InDateRange()]
    )
    insider = BooleanField(_l("An insider may be involved"))
    wrongful_intent = BooleanField(_l("Wrongful intent suspected"))
    ongoing = BooleanField(_l("Still ongoing"))
    involved = TextAreaField(
        _l("Involved departments and users (one per line)"), validators=[Length(max=4000)]
    )
    tags = StringField(_l("Tags (comma-separated)"), validators=[Length(max=1000)])
    playbook = SelectField(_l("Playbook"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save"))


class CaseEditForm(CaseForm):
    """The case form when editing: also the number of persons as the organisation states it."""

    persons_total = IntegerField(
        _l("Persons affected, as stated (overlaps removed)"),
        validators=[Optional(), NumberRange(min=0, max=200_000_000)],
    )
    persons_total_note = StringField(
        _l("Note on the number (e.g. 重複を除く)"), validators=[Optional(), Length(max=200)]
    )


class PhaseForm(FlaskForm):  # type: ignore[misc]
    phase = SelectField(_l("New phase"), choices=phase_choices())
    reason = StringField(_l("Reason"), validators=[Length(max=500)])
    submit = SubmitField(_l("Change phase"))


class PriorityForm(FlaskForm):  # type: ignore[misc]
    priority = SelectField(
        _l("New priority"), choices=choices((p.value, p.value) for p in Priority)
    )
    reason = StringField(_l("Reason"), validators=[Length(max=500)])
    submit = SubmitField(_l("Change priority"))


class CloseForm(FlaskForm):  # type: ignore[misc]
    outcome = SelectField(
        _l("Outcome"), choices=choices((o, OUTCOME_LABELS[o]) for o in OUTCOMES), default="resolved"
    )
    reason = StringField(_l("Closing remark"), validators=[Length(max=500)])
    submit = SubmitField(_l("Close the case"))


class PlaybookForm(FlaskForm):  # type: ignore[misc]
    playbook = SelectField(_l("Add a playbook"), choices=[])
    submit = SubmitField(_l("Apply playbook"))


class LinkForm(FlaskForm):  # type: ignore[misc]
    reference = StringField(
        _l("Related case reference"), validators=[DataRequired(), Length(max=32)]
    )
    note = StringField(_l("Note"), validators=[Length(max=200)])
    submit = SubmitField(_l("Relate"))


class TaskFields(FlaskForm):  # type: ignore[misc]
    """What a task says: a new task's form and a task's correction both have these fields."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    phase = SelectField(_l("Phase"), choices=phase_choices())
    due_at = DateTimeLocalField(
        _l("Due"), format="%Y-%m-%dT%H:%M", validators=[Optional(), InDateRange()]
    )
    required = BooleanField(_l("Required before closing"))


class TaskForm(TaskFields):
    assignees = MultiCheckboxField(_l("Assignees"), choices=[], coerce=int)
    submit = SubmitField(_l("Add task"))


class TaskEditForm(TaskFields):
    """Correct a task (its status and assignees change on the task list)."""


class TaskUpdateForm(FlaskForm):  # type: ignore[misc]
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS.items()))
    due_at = DateTimeLocalField(
        _l("Due"), format="%Y-%m-%dT%H:%M", validators=[Optional(), InDateRange()]
    )
    assignees = MultiCheckboxField(_l("Assignees"), choices=[], coerce=int)
    submit = SubmitField(_l("Update"))


class CommentForm(FlaskForm):  # type: ignore[misc]
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=20000)])
    submit = SubmitField(_l("Comment"))


class EventForm(FlaskForm):  # type: ignore[misc]
    occurred_at = StringField(
        _l("When"), validators=[DataRequired(), Length(max=40)], render_kw={"placeholder": ""}
    )
    precision = SelectField(_l("Precision"), choices=choices(PRECISION_LABELS.items()))
    title = StringField(_l("What happened"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Details"), validators=[Length(max=20000)])
    category = SelectField(
        _l("Category"), choices=choices((c, CATEGORY_LABELS[c]) for c in CATEGORIES[:7])
    )
    visibility = SelectField(_l("Visibility"), choices=choices(VISIBILITY_LABELS.items()))
    source = StringField(_l("Source"), validators=[Length(max=100)])
    actor = StringField(_l("Who"), validators=[Length(max=100)])
    submit = SubmitField(_l("Add event"))


class ImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("CSV file"), validators=[FileRequired()])
    submit = SubmitField(_l("Import"))


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A form with only its CSRF token (for one-button actions)."""


class EventEditForm(EventForm):
    """Correct an event; the previous version is kept with the reason."""

    reason = StringField(_l("Why it changed"), validators=[Length(max=500)])
    submit = SubmitField(_l("Save the correction"))


class ReasonForm(FlaskForm):  # type: ignore[misc]
    """A destructive or restoring action that records why (deletion needs a reason)."""

    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Confirm"))


class RestoreForm(FlaskForm):  # type: ignore[misc]
    """A lead restores a deleted record (the reason is optional)."""

    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Restore"))
