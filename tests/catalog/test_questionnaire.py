from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from csirt.catalog import (
    ChoiceField,
    DateField,
    FileField,
    LocalText,
    NumberField,
    Questionnaire,
    TextField,
    YesNoField,
    load_questionnaire,
)
from csirt.yamlfile import PlaybookError, load_yaml, playbooks_dir
from tests.catalog.helpers import line_of, replace_once, write

ITEM_KEYS = [
    "name",
    "address",
    "postal_code",
    "birth_date",
    "age",
    "sex",
    "phone",
    "email",
    "my_number",
    "employee_number",
    "bank_account",
    "credit_card",
    "salary",
    "school",
    "disability_certificate",
    "care_level",
    "medical_history",
    "criminal_record",
    "religion",
    "political_opinion",
]

SAMPLE = """\
id: test
version: 2
title: {ja: 通報, en: Report}
intro: {ja: はじめに, en: Intro}
identity_note: {ja: 任意です, en: Optional}
closing: {ja: ありがとうございました, en: Thank you}
fields:
  - key: story
    type: textarea
    required: true
    max_length: 20
    label: {ja: 内容, en: Story}
    help: {ja: 具体的に, en: Be precise}
  - key: headline
    type: text
    max_length: 10
    label: {ja: 件名, en: Headline}
    help: {ja: 短く, en: Short}
  - key: place
    type: url_or_text
    max_length: 30
    label: {ja: 場所, en: Place}
    help: {ja: URL, en: URL}
  - key: seen_on
    type: date
    label: {ja: 日付, en: Date}
    help: {ja: 年-月-日, en: YYYY-MM-DD}
  - key: items
    type: checkboxes
    vocabulary: items
    label: {ja: 項目, en: Items}
    help: {ja: すべて, en: All}
  - key: colour
    type: checkboxes
    options:
      - value: red
        label: {ja: 赤, en: Red}
      - value: blue
        label: {ja: 青, en: Blue}
    label: {ja: 色, en: Colour}
    help: {ja: 色, en: Colour}
  - key: persons
    type: number
    min: 0
    max: 1000
    label: {ja: 人数, en: Persons}
    help: {ja: 概数, en: Rough}
  - key: free_number
    type: number
    label: {ja: 数, en: Number}
    help: {ja: 数, en: Number}
  - key: insider
    type: yesno
    required: true
    label: {ja: 職員ですか, en: Staff member}
    help: {ja: はい・いいえ, en: Yes or no}
  - key: identity.name
    type: text
    max_length: 5
    label: {ja: 氏名（任意）, en: Name (optional)}
    help: {ja: 任意, en: Optional}
  - key: files
    type: file
    max_files: 2
    max_size_mb: 3
    allowed_types: [image/png, application/pdf]
    label: {ja: 添付, en: Files}
    help: {ja: 添付, en: Files}
"""

MINIMAL = {"story": "見た", "insider": "no"}


@pytest.fixture
def questionnaire(tmp_path: Path) -> Questionnaire:
    return load_questionnaire(write(tmp_path, "questionnaire.yaml", SAMPLE), ITEM_KEYS)


def _shipped() -> Questionnaire:
    return load_questionnaire(playbooks_dir() / "intake" / "questionnaire.yaml", ITEM_KEYS)


# --- the shipped questionnaire -----------------------------------------------------------------


def test_shipped_questionnaire_loads_with_the_fields_of_issue_3() -> None:
    questionnaire = _shipped()
    types = {field.key: field.type for field in questionnaire.fields}
    assert types == {
        "what_happened": "textarea",
        "where_seen": "url_or_text",
        "when_seen": "date",
        "data_items": "checkboxes",
        "persons_estimate": "number",
        "reporter_is_insider": "yesno",
        "involved": "textarea",
        "whistleblower": "yesno",
        "identity.name": "text",
        "identity.contact": "text",
        "attachments": "file",
    }
    assert [f.key for f in questionnaire.fields if f.required] == ["what_happened"]
    assert [f.key for f in questionnaire.identity_fields] == ["identity.name", "identity.contact"]
    for field in questionnaire.identity_fields:
        assert "任意" in field.label.ja
        assert "optional" in field.label.en
        assert "承認" in field.help.ja
    data_items = questionnaire.field("data_items")
    assert isinstance(data_items, ChoiceField)
    assert data_items.vocabulary == "items"
    assert data_items.values == tuple(ITEM_KEYS)
    assert all(choice.label is None for choice in data_items.choices)
    attachments = questionnaire.file_fields[0]
    assert attachments.max_files >= 1
    assert attachments.max_size_bytes == attachments.max_size_mb * 1024 * 1024
    assert "application/pdf" in attachments.allowed_types
    assert "調査に加わる" in questionnaire.field("involved").help.ja
    assert "公益通報者保護法" in questionnaire.field("whistleblower").help.ja
    assert "IPアドレス" in questionnaire.intro.ja
    assert "IP address" in questionnaire.intro.en
    assert "受付番号" in questionnaire.closing.ja


def test_shipped_questionnaire_loads_with_the_shipped_vocabulary() -> None:
    vocabulary = load_yaml(playbooks_dir() / "vocabulary.yaml")
    item_keys = list(vocabulary["items"])
    questionnaire = load_questionnaire(playbooks_dir() / "intake" / "questionnaire.yaml", item_keys)
    field = questionnaire.field("data_items")
    assert isinstance(field, ChoiceField)
    assert field.values == tuple(item_keys)


def test_shipped_questionnaire_accepts_a_typical_tip() -> None:
    cleaned, errors = _shipped().validate(
        {
            "what_happened": "市の有権者名簿らしき一覧が掲載されています。",
            "where_seen": "https://example.org/list.html",
            "when_seen": "2015-06-24",
            "data_items": ["name", "address", "birth_date", "sex"],
            "persons_estimate": "680000",
            "reporter_is_insider": "no",
            "whistleblower": "yes",
        },
        "ja",
    )
    assert errors == {}
    assert cleaned["persons_estimate"] == 680000
    assert cleaned["data_items"] == ["name", "address", "birth_date", "sex"]
    assert cleaned["whistleblower"] is True
    assert "identity.name" not in cleaned


# --- loaded values ----------------------------------------------------------------------------


def test_sample_loads_into_typed_fields(questionnaire: Questionnaire) -> None:
    assert (questionnaire.id, questionnaire.version) == ("test", 2)
    assert questionnaire.intro == LocalText(ja="はじめに", en="Intro")
    assert isinstance(questionnaire.field("story"), TextField)
    assert isinstance(questionnaire.field("seen_on"), DateField)
    assert isinstance(questionnaire.field("insider"), YesNoField)
    persons = questionnaire.field("persons")
    assert isinstance(persons, NumberField)
    assert (persons.min_value, persons.max_value) == (0, 1000)
    free = questionnaire.field("free_number")
    assert isinstance(free, NumberField)
    assert (free.min_value, free.max_value) == (None, None)
    colour = questionnaire.field("colour")
    assert isinstance(colour, ChoiceField)
    assert colour.values == ("red", "blue")
    assert colour.vocabulary is None
    assert colour.choices[1].label == LocalText(ja="青", en="Blue")
    files = questionnaire.field("files")
    assert isinstance(files, FileField)
    assert (files.max_files, files.max_size_mb, files.allowed_types) == (
        2,
        3,
        ("image/png", "application/pdf"),
    )
    assert questionnaire.field("identity.name").is_identity
    assert not questionnaire.field("story").is_identity
    assert [f.key for f in questionnaire.answer_fields] == [
        "story",
        "headline",
        "place",
        "seen_on",
        "items",
        "colour",
        "persons",
        "free_number",
        "insider",
    ]
    with pytest.raises(KeyError):
        questionnaire.field("nothing")


# --- validation of answers --------------------------------------------------------------------


def _check(
    questionnaire: Questionnaire, answers: dict[str, Any], lang: str = "en"
) -> tuple[dict[str, Any], dict[str, str]]:
    return questionnaire.validate({**MINIMAL, **answers}, lang)


def test_minimal_answers_are_clean(questionnaire: Questionnaire) -> None:
    assert questionnaire.validate(MINIMAL, "ja") == ({"story": "見た", "insider": False}, {})


@pytest.mark.parametrize(
    ("lang", "message"),
    [("ja", "この項目は入力が必要です。"), ("en", "This field is required.")],
)
@pytest.mark.parametrize("blank", [None, "", "   \n", [], ()])
def test_required(questionnaire: Questionnaire, lang: str, message: str, blank: Any) -> None:
    cleaned, errors = questionnaire.validate({"story": blank, "insider": "yes"}, lang)
    assert errors == {"story": message}
    assert cleaned == {"insider": True}


def test_required_when_absent(questionnaire: Questionnaire) -> None:
    _, errors = questionnaire.validate({}, "ja")
    assert errors == {
        "story": "この項目は入力が必要です。",
        "insider": "この項目は入力が必要です。",
    }


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("ja", "20文字以内で入力してください（現在21文字）。"),
        ("en", "Please use at most 20 characters (now 21)."),
    ],
)
def test_max_length(questionnaire: Questionnaire, lang: str, message: str) -> None:
    assert _check(questionnaire, {"story": "あ" * 20})[1] == {}
    cleaned, errors = _check(questionnaire, {"story": "あ" * 21}, lang)
    assert errors == {"story": message}
    assert "story" not in cleaned


def test_max_length_counts_the_cleaned_text(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(questionnaire, {"headline": "  0123456789  \x00"})
    assert errors == {}
    assert cleaned["headline"] == "0123456789"


def test_text_is_normalised(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(
        questionnaire,
        {"story": " 一行目\r\n二行目\r三\x07行目\t ", "headline": "a\r\nb\tc", "place": "x\n  y"},
    )
    assert errors == {}
    assert cleaned["story"] == "一行目\n二行目\n三行目"
    assert cleaned["headline"] == "a b c"
    assert cleaned["place"] == "x y"


@pytest.mark.parametrize(
    ("lang", "message"), [("ja", "文字で入力してください。"), ("en", "Please enter text.")]
)
def test_text_must_be_text(questionnaire: Questionnaire, lang: str, message: str) -> None:
    assert _check(questionnaire, {"place": 12}, lang)[1] == {"place": message}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-06-24", "2015-06-24"),
        ("2015/6/24", "2015-06-24"),
        ("2015年6月24日", "2015-06-24"),
        ("２０１５－０６－２４", "2015-06-24"),
        (" 2015-06-24 ", "2015-06-24"),
        (date(2015, 6, 24), "2015-06-24"),
    ],
)
def test_dates_accepted(questionnaire: Questionnaire, raw: Any, expected: str) -> None:
    cleaned, errors = _check(questionnaire, {"seen_on": raw})
    assert errors == {}
    assert cleaned["seen_on"] == expected


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("ja", "日付は 2015-06-24 のように「年-月-日」の形で入力してください。"),
        ("en", "Please enter a date as year-month-day, e.g. 2015-06-24."),
    ],
)
@pytest.mark.parametrize(
    "raw",
    ["24/06/2015", "2015-06", "yesterday", "2015-06-24T10:00", 20150624, datetime(2015, 6, 24)],
)
def test_bad_date_format(questionnaire: Questionnaire, lang: str, message: str, raw: Any) -> None:
    assert _check(questionnaire, {"seen_on": raw}, lang)[1] == {"seen_on": message}


@pytest.mark.parametrize(
    ("lang", "message"), [("ja", "存在しない日付です。"), ("en", "This date does not exist.")]
)
@pytest.mark.parametrize("raw", ["2015-02-30", "2015-13-01", "2015-00-10"])
def test_date_that_does_not_exist(
    questionnaire: Questionnaire, lang: str, message: str, raw: str
) -> None:
    assert _check(questionnaire, {"seen_on": raw}, lang)[1] == {"seen_on": message}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, 0),
        (1000, 1000),
        ("680", 680),
        ("1,000", 1000),
        ("１０００", 1000),
        (" 12 ", 12),
        ("+5", 5),
    ],
)
def test_numbers_accepted(questionnaire: Questionnaire, raw: Any, expected: int) -> None:
    cleaned, errors = _check(questionnaire, {"persons": raw})
    assert errors == {}
    assert cleaned["persons"] == expected


@pytest.mark.parametrize(
    ("lang", "message"),
    [("ja", "数字（整数）で入力してください。"), ("en", "Please enter a whole number.")],
)
@pytest.mark.parametrize("raw", ["約100", "1.5", 1.5, True, "12a", ["1"]])
def test_not_a_number(questionnaire: Questionnaire, lang: str, message: str, raw: Any) -> None:
    assert _check(questionnaire, {"persons": raw}, lang)[1] == {"persons": message}


@pytest.mark.parametrize(
    ("raw", "lang", "message"),
    [
        ("-1", "ja", "0以上の数を入力してください。"),
        (-1, "en", "Please enter a number of at least 0."),
        ("1001", "ja", "1000以下の数を入力してください。"),
        (1001, "en", "Please enter a number of at most 1000."),
    ],
)
def test_number_range(questionnaire: Questionnaire, raw: Any, lang: str, message: str) -> None:
    assert _check(questionnaire, {"persons": raw}, lang)[1] == {"persons": message}


def test_unbounded_number(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(questionnaire, {"free_number": "-123456789012"})
    assert errors == {}
    assert cleaned["free_number"] == -123456789012


def test_checkboxes_accept_allowed_values_in_choice_order(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(questionnaire, {"items": ["sex", "name", "sex"], "colour": "blue"})
    assert errors == {}
    assert cleaned["items"] == ["name", "sex"]
    assert cleaned["colour"] == ["blue"]


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("ja", "選択肢にない値が含まれています。"),
        ("en", "This includes a value that is not offered."),
    ],
)
@pytest.mark.parametrize("raw", [["name", "blood_type"], "green", [1], 7, {"name": True}])
def test_checkboxes_refuse_other_values(
    questionnaire: Questionnaire, lang: str, message: str, raw: Any
) -> None:
    field = "colour" if raw == "green" else "items"
    assert _check(questionnaire, {field: raw}, lang)[1] == {field: message}


def test_a_browser_form_multidict_gives_every_ticked_box(questionnaire: Questionnaire) -> None:
    form = MultiDict([("story", "見た"), ("insider", "yes"), ("items", "sex"), ("items", "name")])
    cleaned, errors = questionnaire.validate(form, "ja")
    assert errors == {}
    assert cleaned == {"story": "見た", "items": ["name", "sex"], "insider": True}
    _, errors = questionnaire.validate(MultiDict([("story", "x"), ("colour", "red")]), "ja")
    assert errors == {"insider": "この項目は入力が必要です。"}


def test_empty_checkboxes_are_no_answer(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(questionnaire, {"items": []})
    assert errors == {}
    assert "items" not in cleaned


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("no", False), (" yes ", True), (True, True), (False, False)],
)
def test_yesno_accepted(questionnaire: Questionnaire, raw: Any, expected: bool) -> None:
    cleaned, errors = _check(questionnaire, {"insider": raw})
    assert errors == {}
    assert cleaned["insider"] is expected


@pytest.mark.parametrize(
    ("lang", "message"),
    [("ja", "「はい」か「いいえ」を選んでください。"), ("en", "Please choose yes or no.")],
)
@pytest.mark.parametrize("raw", ["maybe", "Yes", "はい", 1, 0])
def test_yesno_refuses_other_values(
    questionnaire: Questionnaire, lang: str, message: str, raw: Any
) -> None:
    assert _check(questionnaire, {"insider": raw}, lang)[1] == {"insider": message}


@pytest.mark.parametrize(
    ("lang", "message"),
    [("ja", "この質問票にない項目です。"), ("en", "This is not a question of this form.")],
)
def test_unknown_keys(questionnaire: Questionnaire, lang: str, message: str) -> None:
    answers = {**MINIMAL, "csrf_token": "x", "identity.email": "a@example.org"}
    cleaned, errors = questionnaire.validate(answers, lang)
    assert errors == {"csrf_token": message, "identity.email": message}
    assert cleaned == {"story": "見た", "insider": False}
    assert questionnaire.validate(answers, lang, ignore_unknown=True) == (cleaned, {})


def test_identity_is_validated_like_other_answers(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(questionnaire, {"identity.name": "山田 太郎"})
    assert errors == {}
    assert cleaned["identity.name"] == "山田 太郎"
    _, errors = _check(questionnaire, {"identity.name": "山田 太郎 様"})
    assert errors == {"identity.name": "Please use at most 5 characters (now 7)."}


def test_file_fields_are_left_to_the_web_layer(questionnaire: Questionnaire) -> None:
    cleaned, errors = _check(questionnaire, {"files": ["whatever"]})
    assert errors == {}
    assert "files" not in cleaned


def test_every_error_is_reported_at_once(questionnaire: Questionnaire) -> None:
    _, errors = questionnaire.validate(
        {"story": "", "seen_on": "x", "persons": "x", "colour": "x", "insider": "x"}, "en"
    )
    assert set(errors) == {"story", "seen_on", "persons", "colour", "insider"}


def test_unsupported_language(questionnaire: Questionnaire) -> None:
    with pytest.raises(ValueError, match="unsupported language: 'fr'"):
        questionnaire.validate(MINIMAL, "fr")


# --- loader errors name file, line and field --------------------------------------------------

BAD_CASES = [
    ("version: 2", "version: 0", "version: 0", "version: must be at least 1"),
    ("version: 2", "version: two", "version: two", "version: must be a whole number"),
    (
        "intro: {ja: はじめに, en: Intro}",
        "intro: {ja: はじめに}",
        "intro:",
        "intro.en: is required",
    ),
    ("id: test\n", "id: test\nowner: x\n", "owner: x", "owner: unknown key"),
    ("fields:\n", "fields:\n  - key: bare\n", "key: bare", "fields[0].type: is required"),
    ("type: date", "type: slider", "type: slider", "fields[3].type: 'slider' is not one of"),
    ("    max_length: 10\n", "", "key: headline", "fields[1].max_length: is required"),
    ("min: 0", "min: 0\n    max_length: 3", "max_length: 3\n", "fields[6].max_length: unknown key"),
    ("max: 1000", "max: -1", "max: -1", "fields[6].max: must not be below min (0)"),
    ("max: 1000", "max: lots", "max: lots", "fields[6].max: must be a whole number"),
    ("key: headline", "key: Headline", "Headline", "fields[1].key: 'Headline' must be lower"),
    ("key: headline", "key: other.name", "other.name", "fields[1].key: 'other.name'"),
    (
        "key: headline",
        "key: story",
        "key: story\n    type: text\n",
        "fields[1].key: 'story' is used",
    ),
    (
        "    required: true\n    max_length: 20",
        "    required: yes please\n    max_length: 20",
        "yes please",
        "fields[0].required: must be true or false",
    ),
    (
        "max_length: 5\n",
        "max_length: 5\n    required: true\n",
        "required: true\n    label: {ja: 氏名",
        "fields[9].required: identity fields must be optional",
    ),
    (
        "key: identity.name\n    type: text\n    max_length: 5",
        "key: identity.name\n    type: yesno",
        "type: yesno\n    label: {ja: 氏名",
        "fields[9].type: identity fields must",
    ),
    (
        "max_files: 2\n",
        "max_files: 2\n    required: true\n",
        "required: true\n    max_size",
        "fields[10].required: attachments cannot be required",
    ),
    ("max_files: 2", "max_files: 0", "max_files: 0", "fields[10].max_files: must be at least 1"),
    ("max_size_mb: 3", "max_size_mb: 2048", "2048", "fields[10].max_size_mb: must be at most 1024"),
    (
        "[image/png, application/pdf]",
        "[image/png, pdf]",
        "[image/png, pdf]",
        "fields[10].allowed_types[1]: 'pdf' is not a MIME type",
    ),
    (
        "[image/png, application/pdf]",
        "[]",
        "allowed_types: []",
        "fields[10].allowed_types: must not",
    ),
    (
        "vocabulary: items",
        "vocabulary: colours",
        "colours",
        "fields[4].vocabulary: 'colours' is not",
    ),
    (
        "vocabulary: items",
        "vocabulary: items\n    options: []",
        "options: []",
        "fields[4].options: give exactly one of",
    ),
    ("    vocabulary: items\n", "", "key: items", "fields[4].options: give exactly one of"),
    (
        "      - value: blue",
        "      - value: red",
        "value: red\n        label: {ja: 青",
        "fields[5].options[1].value: 'red' is used twice",
    ),
    (
        "label: {ja: 赤, en: Red}",
        "label: {ja: 赤}",
        "label: {ja: 赤}",
        "fields[5].options[0].label.en",
    ),
    ("help: {ja: 短く, en: Short}", "help: Short", "help: Short", "fields[1].help: must be a map"),
    ("    label: {ja: 日付, en: Date}\n", "", "key: seen_on", "fields[3].label: is required"),
]


@pytest.mark.parametrize(("old", "new", "line_text", "message"), BAD_CASES)
def test_error_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line_text: str, message: str
) -> None:
    text = replace_once(SAMPLE, old, new)
    path = write(tmp_path, "questionnaire.yaml", text)
    with pytest.raises(PlaybookError) as info:
        load_questionnaire(path, ITEM_KEYS)
    error = info.value
    assert error.path == str(path)
    assert error.message.startswith(message), error.message
    assert error.line == line_of(text, line_text), error


def test_vocabulary_without_keys_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "questionnaire.yaml", SAMPLE)
    with pytest.raises(PlaybookError) as info:
        load_questionnaire(path, [])
    assert info.value.line == line_of(SAMPLE, "vocabulary: items")
    assert info.value.message == "fields[4].vocabulary: the vocabulary 'items' has no keys"


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot read"):
        load_questionnaire(tmp_path / "missing.yaml", ITEM_KEYS)
