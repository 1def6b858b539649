"""The intake questionnaire (``playbooks/intake/questionnaire.yaml``) and validation of answers.

Files are not handled here: the web layer receives them and enforces the limits that
:class:`FileField` exposes. Fields whose key starts with ``identity.`` hold the reporter's
optional identity, which the intake seals separately from the answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from csirt.lang import LANGUAGES as LANGS
from csirt.lang import LocalText
from csirt.yamlfile import KEY_PATTERN, Node, PlaybookError, load_yaml, unique

FIELD_TYPES: Final = (
    "text",
    "textarea",
    "url_or_text",
    "date",
    "checkboxes",
    "number",
    "yesno",
    "file",
)
TEXT_TYPES: Final = ("text", "textarea", "url_or_text")
IDENTITY_PREFIX: Final = "identity."
VOCABULARIES: Final = ("items",)

_FIELD_KEY = re.compile(rf"(?:identity\.)?{KEY_PATTERN.pattern}")
_MIME_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9.+-]*")
_DATE = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?")
_INTEGER = re.compile(r"[+-]?\d+")
# Control characters other than newline and tab never belong in an answer; they are dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_COMMON_KEYS: Final = ("key", "type", "label", "help")
_TYPE_KEYS: Final = {
    "text": ("max_length",),
    "textarea": ("max_length",),
    "url_or_text": ("max_length",),
    "date": (),
    "checkboxes": (),
    "number": (),
    "yesno": (),
    "file": ("max_files", "max_size_mb", "allowed_types"),
}
_TYPE_OPTIONAL_KEYS: Final = {
    "checkboxes": ("vocabulary", "options"),
    "number": ("min", "max"),
}

_MESSAGES: Final = {
    "required": LocalText(ja="この項目は入力が必要です。", en="This field is required."),
    "not_text": LocalText(ja="文字で入力してください。", en="Please enter text."),
    "too_long": LocalText(
        ja="{max}文字以内で入力してください（現在{length}文字）。",
        en="Please use at most {max} characters (now {length}).",
    ),
    "bad_date": LocalText(
        ja="日付は 2015-06-24 のように「年-月-日」の形で入力してください。",
        en="Please enter a date as year-month-day, e.g. 2015-06-24.",
    ),
    "no_such_date": LocalText(ja="存在しない日付です。", en="This date does not exist."),
    "not_integer": LocalText(
        ja="数字（整数）で入力してください。", en="Please enter a whole number."
    ),
    "too_small": LocalText(
        ja="{min}以上の数を入力してください。", en="Please enter a number of at least {min}."
    ),
    "too_large": LocalText(
        ja="{max}以下の数を入力してください。", en="Please enter a number of at most {max}."
    ),
    "bad_choice": LocalText(
        ja="選択肢にない値が含まれています。", en="This includes a value that is not offered."
    ),
    "bad_yesno": LocalText(
        ja="「はい」か「いいえ」を選んでください。", en="Please choose yes or no."
    ),
    "unknown_field": LocalText(
        ja="この質問票にない項目です。", en="This is not a question of this form."
    ),
}


@dataclass(frozen=True)
class Choice:
    """One checkbox; ``label`` is None when the label comes from the vocabulary file."""

    value: str
    label: LocalText | None


@dataclass(frozen=True)
class Field:
    """What every question has."""

    key: str
    type: str
    label: LocalText
    help: LocalText
    required: bool

    @property
    def is_identity(self) -> bool:
        """True for the optional identity of the reporter, which is sealed on its own."""
        return self.key.startswith(IDENTITY_PREFIX)


@dataclass(frozen=True)
class TextField(Field):
    """One line (``text``), several lines (``textarea``) or a URL or place (``url_or_text``)."""

    max_length: int


@dataclass(frozen=True)
class DateField(Field):
    """A calendar date, answered as YYYY-MM-DD."""


@dataclass(frozen=True)
class NumberField(Field):
    """A whole number within optional bounds."""

    min_value: int | None
    max_value: int | None


@dataclass(frozen=True)
class ChoiceField(Field):
    """Checkboxes; ``vocabulary`` names the vocabulary the choices come from, if any."""

    choices: tuple[Choice, ...]
    vocabulary: str | None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)


@dataclass(frozen=True)
class YesNoField(Field):
    """Yes or no, answered as ``yes``/``no`` (or a JSON boolean)."""


@dataclass(frozen=True)
class FileField(Field):
    """Attachments; the web layer enforces these limits."""

    max_files: int
    max_size_mb: int
    allowed_types: tuple[str, ...]

    @property
    def max_size_bytes(self) -> int:
        return self.max_size_mb * 1024 * 1024


QuestionField = TextField | DateField | NumberField | ChoiceField | YesNoField | FileField


class _AnswerError(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


_MISSING: Final = object()


@dataclass(frozen=True)
class Questionnaire:
    """The validated intake questionnaire."""

    id: str
    version: int
    title: LocalText
    intro: LocalText
    identity_note: LocalText
    closing: LocalText
    fields: tuple[QuestionField, ...]

    def field(self, key: str) -> QuestionField:
        """The field with this key; KeyError if there is none."""
        for field in self.fields:
            if field.key == key:
                return field
        raise KeyError(key)

    @property
    def answer_fields(self) -> tuple[QuestionField, ...]:
        """The questions about the incident (neither identity nor files)."""
        return tuple(f for f in self.fields if not f.is_identity and not isinstance(f, FileField))

    @property
    def identity_fields(self) -> tuple[QuestionField, ...]:
        return tuple(f for f in self.fields if f.is_identity)

    @property
    def file_fields(self) -> tuple[FileField, ...]:
        return tuple(f for f in self.fields if isinstance(f, FileField))

    def validate(
        self, form_data: Mapping[str, Any], lang: str, *, ignore_unknown: bool = False
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Check answers; return (cleaned JSON-ready values, {field key: message in ``lang``}).

        Unanswered optional fields are left out of ``cleaned``. File fields are skipped.
        ``form_data`` may be a plain mapping (JSON: lists for checkboxes) or a MultiDict.
        Keys that are not fields are errors unless ``ignore_unknown`` (e.g. a CSRF token).
        """
        if lang not in LANGS:
            raise ValueError(f"unsupported language: {lang!r}")
        cleaned: dict[str, Any] = {}
        errors: dict[str, str] = {}
        known = {field.key for field in self.fields}
        if not ignore_unknown:
            for key in form_data:
                if key not in known:
                    errors[key] = _MESSAGES["unknown_field"].get(lang)
        for field in self.fields:
            if isinstance(field, FileField):
                continue
            raw = _raw_answer(form_data, field)
            try:
                value = _clean(field, raw)
                if value is _MISSING:
                    if field.required:
                        raise _AnswerError("required")
                    continue
            except _AnswerError as exc:
                errors[field.key] = _MESSAGES[exc.code].get(lang).format(**exc.params)
                continue
            cleaned[field.key] = value
        return cleaned, errors


def _raw_answer(form_data: Mapping[str, Any], field: QuestionField) -> Any:
    # A browser form (werkzeug MultiDict) sends one value per ticked checkbox; get() sees one.
    getlist = getattr(form_data, "getlist", None)
    if isinstance(field, ChoiceField) and callable(getlist):
        return getlist(field.key)
    return form_data.get(field.key, _MISSING)


def _is_blank(raw: Any) -> bool:
    if raw is _MISSING or raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    return isinstance(raw, list | tuple) and not raw


def _clean(field: QuestionField, raw: Any) -> Any:
    """The JSON-ready value of one answer, or _MISSING if it was left blank."""
    if _is_blank(raw):
        return _MISSING
    if isinstance(field, TextField):
        return _clean_text(field, raw)
    if isinstance(field, DateField):
        return _clean_date(raw)
    if isinstance(field, NumberField):
        return _clean_number(field, raw)
    if isinstance(field, ChoiceField):
        return _clean_choices(field, raw)
    assert isinstance(field, YesNoField)
    return _clean_yesno(raw)


def _clean_text(field: TextField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _AnswerError("not_text")
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    if field.type != "textarea":
        text = " ".join(text.split())
    text = text.strip()
    if len(text) > field.max_length:
        raise _AnswerError("too_long", max=field.max_length, length=len(text))
    return text


def _clean_date(raw: Any) -> str:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw.isoformat()
    if not isinstance(raw, str):
        raise _AnswerError("bad_date")
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", raw).strip())
    if match is None:
        raise _AnswerError("bad_date")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise _AnswerError("no_such_date") from None


def _clean_number(field: NumberField, raw: Any) -> int:
    if isinstance(raw, bool):
        raise _AnswerError("not_integer")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str):
        # Reporters type 1,000 or full-width １０００; both mean the same number.
        text = unicodedata.normalize("NFKC", raw).replace(",", "").replace(" ", "").strip()
        if not _INTEGER.fullmatch(text):
            raise _AnswerError("not_integer")
        number = int(text)
    else:
        raise _AnswerError("not_integer")
    if field.min_value is not None and number < field.min_value:
        raise _AnswerError("too_small", min=field.min_value)
    if field.max_value is not None and number > field.max_value:
        raise _AnswerError("too_large", max=field.max_value)
    return number


def _clean_choices(field: ChoiceField, raw: Any) -> list[str]:
    picked = [raw] if isinstance(raw, str) else raw
    if not isinstance(picked, list | tuple) or not all(isinstance(v, str) for v in picked):
        raise _AnswerError("bad_choice")
    chosen = {value.strip() for value in picked}
    if not chosen <= set(field.values):
        raise _AnswerError("bad_choice")
    return [value for value in field.values if value in chosen]


def _clean_yesno(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip() in ("yes", "no"):
        return raw.strip() == "yes"
    raise _AnswerError("bad_yesno")


def load_questionnaire(path: Path, item_keys: Collection[str]) -> Questionnaire:
    """Load and validate the questionnaire; ``item_keys``: the vocabulary's keys, in order."""
    root = Node(path, load_yaml(path), "", 1)
    root.expect_keys(("id", "version", "title", "intro", "identity_note", "closing", "fields"))
    seen: dict[str, int] = {}
    fields = []
    for node in root.nodes("fields"):
        field = _field(node, item_keys)
        unique(node, "key", field.key, seen)
        fields.append(field)
    return Questionnaire(
        id=root.key_name("id"),
        version=root.integer("version", minimum=1),
        title=root.text("title"),
        intro=root.text("intro"),
        identity_note=root.text("identity_note"),
        closing=root.text("closing"),
        fields=tuple(fields),
    )


def _field(node: Node, item_keys: Collection[str]) -> QuestionField:
    # The type decides which other keys are allowed, so read it before anything else.
    if not node.has("type"):
        raise node.error("type", "is required")
    kind = node.choice("type", FIELD_TYPES)
    node.expect_keys(
        _COMMON_KEYS + _TYPE_KEYS[kind], ("required", *_TYPE_OPTIONAL_KEYS.get(kind, ()))
    )
    key = node.string("key")
    if not _FIELD_KEY.fullmatch(key):
        raise node.error("key", f"{key!r} must be lower_snake_case, optionally after 'identity.'")
    required = node.boolean("required", False)
    if required and key.startswith(IDENTITY_PREFIX):
        raise node.error(
            "required", "identity fields must be optional (reporters may stay anonymous)"
        )
    if required and kind == "file":
        raise node.error("required", "attachments cannot be required")
    if key.startswith(IDENTITY_PREFIX) and kind not in TEXT_TYPES:
        raise node.error("type", f"identity fields must be one of: {', '.join(TEXT_TYPES)}")
    common: dict[str, Any] = {
        "key": key,
        "type": kind,
        "label": node.text("label"),
        "help": node.text("help"),
        "required": required,
    }
    if kind in TEXT_TYPES:
        return TextField(**common, max_length=node.integer("max_length", 1, 100_000))
    if kind == "date":
        return DateField(**common)
    if kind == "number":
        return _number_field(node, common)
    if kind == "checkboxes":
        choices, vocabulary = _choices(node, item_keys)
        return ChoiceField(**common, choices=choices, vocabulary=vocabulary)
    if kind == "yesno":
        return YesNoField(**common)
    return _file_field(node, common)


def _number_field(node: Node, common: dict[str, Any]) -> NumberField:
    low = node.integer("min") if node.has("min") else None
    high = node.integer("max") if node.has("max") else None
    if low is not None and high is not None and low > high:
        raise node.error("max", f"must not be below min ({low})")
    return NumberField(**common, min_value=low, max_value=high)


def _choices(node: Node, item_keys: Collection[str]) -> tuple[tuple[Choice, ...], str | None]:
    if node.has("vocabulary") == node.has("options"):
        raise node.error("options", "give exactly one of 'vocabulary' or 'options'")
    if node.has("vocabulary"):
        vocabulary = node.choice("vocabulary", VOCABULARIES)
        if not item_keys:
            raise node.error("vocabulary", f"the vocabulary {vocabulary!r} has no keys")
        return tuple(Choice(value=key, label=None) for key in item_keys), vocabulary
    seen: dict[str, int] = {}
    choices = []
    for option in node.nodes("options"):
        option.expect_keys(("value", "label"))
        value = option.key_name("value")
        unique(option, "value", value, seen)
        choices.append(Choice(value=value, label=option.text("label")))
    return tuple(choices), None


def _file_field(node: Node, common: dict[str, Any]) -> FileField:
    allowed_types = node.strings("allowed_types")
    if not allowed_types:
        raise node.error("allowed_types", "must not be empty")
    for index, mime in enumerate(allowed_types):
        if not _MIME_TYPE.fullmatch(mime):
            raise PlaybookError(
                node.file,
                node.sequence("allowed_types").line_of(index),
                f"{node.path('allowed_types')}[{index}]: {mime!r} is not a MIME type",
            )
    return FileField(
        **common,
        max_files=node.integer("max_files", 1, 100),
        max_size_mb=node.integer("max_size_mb", 1, 1024),
        allowed_types=allowed_types,
    )
