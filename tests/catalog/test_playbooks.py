from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest

from csirt.catalog import (
    CASE_ROLE_LABELS,
    CASE_ROLES,
    PHASES,
    LocalText,
    Playbook,
    format_offset,
    load_playbook,
    load_playbooks,
    parse_offset,
)
from csirt.documents.builders import KINDS
from csirt.yamlfile import PlaybookError, load_yaml, playbooks_dir
from tests.catalog.helpers import line_of, replace_once, write

SAMPLE = """\
id: sample
title:
  ja: 見本
  en: Sample
description:
  ja: 見本の説明
  en: Sample description
roles:
  - role: lead
    count: 1
    skills: [management]
  - role: investigator
    count: 2
    skills: [forensics, systems]
    note:
      ja: 証拠保全を担う
      en: Secures evidence
tasks:
  - key: capture
    phase: detect
    title:
      ja: 証拠保全
      en: Capture
    due: 4h
    role: investigator
    required: true
  - key: review
    phase: post_incident
    title:
      ja: 振り返り
      en: Review
    description:
      ja: 説明
      en: Description
    due: 1d12h
    role: lead
    required: false
  - key: contain_it
    phase: contain
    title: {ja: 封じ込め, en: Contain}
    due: 30m
    role: lead
    required: true
evidence:
  - key: capture_file
    label: {ja: 保存データ, en: Captured data}
  - key: logs
    label: {ja: ログ, en: Logs}
    required: false
checklist:
  - key: captured
    kind: task
    ref: capture
    label: {ja: 保全した, en: Captured}
  - key: ppc
    kind: obligation
    ref: ppc_preliminary
    label: {ja: 速報を提出した, en: Preliminary report filed}
  - key: release
    kind: document
    ref: press_release
    label: {ja: 報道提供資料, en: Press release}
  - key: confirm
    kind: manual
    label: {ja: 確認した, en: Confirmed}
"""

SHIPPED_IDS = {
    "internet_leak",
    "lost_media",
    "insider_exfiltration",
    "misdelivery",
    "unauthorised_access",
    "malware",
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _shipped_folder() -> Path:
    return playbooks_dir() / "incidents"


@cache
def _shipped() -> dict[str, Playbook]:
    """The shipped playbooks, parsed once for the tests that only read them."""
    return load_playbooks(_shipped_folder())


# --- the shipped playbooks -------------------------------------------------------------------


def test_every_shipped_playbook_loads() -> None:
    playbooks = _shipped()
    assert set(playbooks) >= SHIPPED_IDS
    assert set(playbooks) == {path.stem for path in _shipped_folder().glob("*.yaml")}


def test_shipped_checklists_name_known_obligations_and_documents() -> None:
    legal = load_yaml(playbooks_dir() / "legal.yaml")
    obligation_kinds = {rule["kind"] for rule in legal["obligations"]}
    document_kinds = set(KINDS)
    playbooks = load_playbooks(
        _shipped_folder(), obligation_kinds=obligation_kinds, document_kinds=document_kinds
    )
    kinds = {item.kind for playbook in playbooks.values() for item in playbook.checklist}
    assert kinds == {"task", "obligation", "document", "manual"}


@pytest.mark.parametrize("playbook_id", sorted(SHIPPED_IDS))
def test_shipped_playbook_is_complete_and_bilingual(playbook_id: str) -> None:
    playbook = _shipped()[playbook_id]
    assert "lead" in {need.role for need in playbook.roles}
    for phase in PHASES:
        assert playbook.tasks_in_phase(phase), f"{playbook_id}: no task in {phase}"
    assert any(item.required for item in playbook.evidence)
    assert playbook.checklist
    texts = [playbook.title, playbook.description]
    texts += [task.title for task in playbook.tasks]
    texts += [item.label for item in playbook.evidence + playbook.checklist]
    for text in texts:
        assert JAPANESE.search(text.ja), text
        assert not JAPANESE.search(text.en), text


def test_internet_leak_follows_the_sakai_lessons() -> None:
    playbook = _shipped()["internet_leak"]
    # Evidence on the internet vanishes: capturing it is the first thing due.
    first_task, first_due = min(
        ((task, task.due) for task in playbook.tasks), key=lambda pair: pair[1]
    )
    assert playbook.task("capture_web_evidence").due == first_due == timedelta(hours=4)
    # The tipster hears from us within a day (Sakai: three months of silence).
    assert playbook.task("contact_tipster").due <= timedelta(days=1)
    assert playbook.task("contact_tipster").required
    for key in (
        "search_cache_removal",
        "takedown_request",
        "identify_datasets",
        "count_persons",
        "insider_check",
        "police_consultation",
        "ppc_preliminary_report",
        "notify_individuals",
        "press_release",
        "inquiries_line",
        "recurrence_prevention",
    ):
        assert playbook.task(key)
    assert "速報" in playbook.task("ppc_preliminary_report").title.ja
    assert first_task.phase == "detect"


def test_shipped_offsets_round_trip_through_format_offset() -> None:
    for playbook in _shipped().values():
        for task in playbook.tasks:
            assert parse_offset(format_offset(task.due)) == task.due


# --- values ----------------------------------------------------------------------------------


def test_sample_loads_into_frozen_values(tmp_path: Path) -> None:
    path = write(tmp_path, "sample.yaml", SAMPLE)
    playbook = load_playbook(path)
    assert playbook.id == "sample"
    assert playbook.title == LocalText(ja="見本", en="Sample")
    assert [need.role for need in playbook.roles] == ["lead", "investigator"]
    assert playbook.roles[1].count == 2
    assert playbook.roles[1].skills == ("forensics", "systems")
    assert playbook.roles[1].note == LocalText(ja="証拠保全を担う", en="Secures evidence")
    assert playbook.roles[0].note is None
    review = playbook.task("review")
    assert review.due == timedelta(days=1, hours=12)
    assert review.required is False
    assert review.description == LocalText(ja="説明", en="Description")
    assert playbook.task("capture").description is None
    assert [item.required for item in playbook.evidence] == [True, False]
    assert [(item.kind, item.ref) for item in playbook.checklist] == [
        ("task", "capture"),
        ("obligation", "ppc_preliminary"),
        ("document", "press_release"),
        ("manual", None),
    ]
    with pytest.raises(AttributeError):
        playbook.id = "changed"  # type: ignore[misc]


def test_task_lookup_and_phases(tmp_path: Path) -> None:
    playbook = load_playbook(write(tmp_path, "sample.yaml", SAMPLE))
    with pytest.raises(KeyError):
        playbook.task("nothing")
    assert [task.key for task in playbook.tasks_in_phase("detect")] == ["capture"]
    assert playbook.tasks_in_phase("analyse") == ()
    with pytest.raises(ValueError, match="unknown phase"):
        playbook.tasks_in_phase("analyze")


def test_tasks_for_computes_due_dates_in_phase_order(tmp_path: Path) -> None:
    playbook = load_playbook(write(tmp_path, "sample.yaml", SAMPLE))
    jst = timezone(timedelta(hours=9))
    aware_at = datetime(2015, 6, 24, 20, 0, tzinfo=jst)
    due = [(task.key, at) for task, at in playbook.tasks_for(aware_at)]
    assert due == [
        ("capture", datetime(2015, 6, 25, 0, 0, tzinfo=jst)),
        ("contain_it", datetime(2015, 6, 24, 20, 30, tzinfo=jst)),
        ("review", datetime(2015, 6, 26, 8, 0, tzinfo=jst)),
    ]
    utc_due = playbook.tasks_for(aware_at.astimezone(UTC))
    assert [at for _, at in utc_due] == [at for _, at in due]


def test_tasks_for_refuses_a_naive_datetime(tmp_path: Path) -> None:
    playbook = load_playbook(write(tmp_path, "sample.yaml", SAMPLE))
    with pytest.raises(ValueError, match="timezone-aware"):
        playbook.tasks_for(datetime(2015, 6, 24, 20, 0))


def test_labels_cover_every_role() -> None:
    assert set(CASE_ROLE_LABELS) == set(CASE_ROLES)
    assert CASE_ROLE_LABELS["privacy_officer"].get("en") == "Privacy officer"
    with pytest.raises(ValueError, match="unsupported language"):
        CASE_ROLE_LABELS["lead"].get("fr")


# --- offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w2d3h4m", timedelta(weeks=1, days=2, hours=3, minutes=4)),
        ("0h", timedelta(0)),
        ("366d", timedelta(days=366)),
    ],
)
def test_parse_offset(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize(
    "text", ["", "h", "4", "4H", "-1d", "1.5h", "4h30", "12h1d", " 4h", "4 h", "367d", "53w"]
)
def test_parse_offset_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_offset(text)


def test_parse_offset_refuses_a_number() -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_offset(4)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timedelta(0), "0m"),
        (timedelta(minutes=30), "30m"),
        (timedelta(hours=36), "1d12h"),
        (timedelta(weeks=2), "14d"),
        (timedelta(days=1, hours=2, minutes=3), "1d2h3m"),
    ],
)
def test_format_offset(offset: timedelta, text: str) -> None:
    assert format_offset(offset) == text


# --- validation errors name file, line and field ---------------------------------------------

BAD_CASES = [
    # (what is replaced, by what, the text on the line named, start of the message)
    ("id: sample\n", "id: sample\nowner: me\n", "owner: me", "owner: unknown key"),
    ("id: sample\n", "", "title:", "id: is required"),
    ("  en: Sample\n", "", "title:", "title.en: is required"),
    ("  ja: 見本\n", "  ja: ''\n", "  ja: ''", "title.ja: must be a non-empty string"),
    ("  ja: 見本\n", "  ja: 見本\n  fr: Exemple\n", "fr: Exemple", "title.fr: unknown key"),
    ("title:\n  ja: 見本\n  en: Sample\n", "title: Sample\n", "title: Sample", "title: must be a"),
    ("id: sample", "id: other", "id: other", "id: 'other' must match the file name"),
    ("id: sample", "id: Sample", "id: Sample", "id: 'Sample' must be lower_snake_case"),
    ("phase: contain\n", "phase: containment\n", "containment", "tasks[2].phase: 'containment'"),
    ("due: 4h", "due: 4x", "due: 4x", "tasks[0].due: '4x' is not a duration"),
    ("due: 30m", "due: 30", "due: 30", "tasks[2].due: 30 is not a duration"),
    ("due: 1d12h", "due: 400d", "due: 400d", "tasks[1].due: '400d' is longer than 366 days"),
    ("    due: 30m\n", "", "- key: contain_it", "tasks[2].due: is required"),
    ("key: review", "key: capture", "key: capture\n    phase: post", "tasks[1].key: 'capture' is"),
    ("key: contain_it", "key: contain-it", "contain-it", "tasks[2].key: 'contain-it' must be"),
    ("required: false\n  - key: contain", "required: maybe\n  - key: contain", "maybe", "tasks[1]"),
    (
        "    role: investigator\n    required",
        "    role: pr\n    required",
        "role: pr",
        "tasks[0].ro",
    ),
    (
        "    role: investigator\n    required",
        "    role: boss\n    required",
        "boss",
        "tasks[0].role",
    ),
    (
        "    title: {ja: 封じ込め, en: Contain}",
        "    title: Contain",
        "title: Contain",
        "tasks[2].title",
    ),
    (
        "role: lead\n    count",
        "role: boss\n    count",
        "role: boss",
        "roles[0].role: 'boss' is not",
    ),
    (
        "role: investigator\n    count",
        "role: lead\n    count",
        "lead\n    count: 2",
        "roles[1].role",
    ),
    ("count: 1", "count: 0", "count: 0", "roles[0].count: must be at least 1"),
    ("count: 2", "count: 21", "count: 21", "roles[1].count: must be at most 20"),
    ("count: 2", "count: two", "count: two", "roles[1].count: must be a whole number"),
    ("count: 1", "count: true", "count: true", "roles[0].count: must be a whole number"),
    ("[management]", "[management, cooking]", "cooking", "roles[0].skills[1]: 'cooking' is not"),
    ("[forensics, systems]", "[forensics, forensics]", "forensics, f", "roles[1].skills[1]"),
    ("[management]", "[management, '']", "management, ''", "roles[0].skills[1]: must be a non"),
    ("[management]", "management", "skills: management", "roles[0].skills: must be a list"),
    ("tasks:\n", "tasks:\n  - just text\n", "just text", "tasks[0]: must be a mapping"),
    ("key: capture_file", "key: Capture", "key: Capture", "evidence[0].key: 'Capture' must"),
    ("required: false\nchecklist", "required: 1\nchecklist", "required: 1", "evidence[1].required"),
    (
        "key: logs",
        "key: capture_file",
        "key: capture_file\n    label: {ja: ログ",
        "evidence[1].key",
    ),
    ("kind: manual\n", "kind: manual\n    ref: x\n", "ref: x", "checklist[3].ref: a manual item"),
    ("    ref: capture\n", "", "- key: captured", "checklist[0].ref: is required"),
    (
        "ref: capture\n",
        "ref: nothing\n",
        "ref: nothing",
        "checklist[0].ref: 'nothing' is not a task",
    ),
    ("ref: press_release", "ref: Press", "ref: Press", "checklist[2].ref: 'Press' must be"),
    ("kind: manual", "kind: hand", "kind: hand", "checklist[3].kind: 'hand' is not one of"),
    ("key: confirm", "key: ppc", "key: ppc\n    kind: manual", "checklist[3].key: 'ppc' is used"),
    ("key: capture\n", "key: capture\n    phase: analyse\n", "phase: detect", "phase: duplicate"),
    ("tasks:\n", "tasks: [\n", "tasks: [", "invalid YAML"),
]


@pytest.mark.parametrize(("old", "new", "line_text", "message"), BAD_CASES)
def test_error_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line_text: str, message: str
) -> None:
    text = replace_once(SAMPLE, old, new)
    path = write(tmp_path, "sample.yaml", text)
    with pytest.raises(PlaybookError) as info:
        load_playbooks(tmp_path)
    error = info.value
    assert error.path == str(path)
    assert error.message.startswith(message), error.message
    if message != "invalid YAML":
        assert error.line == line_of(text, line_text), error
    else:
        assert error.line is not None
    assert str(error).startswith(f"{path}:{error.line}: ")


def test_error_for_an_empty_list(tmp_path: Path) -> None:
    start = SAMPLE.index("evidence:\n")
    end = SAMPLE.index("checklist:\n")
    text = SAMPLE[:start] + "evidence: []\n" + SAMPLE[end:]
    path = write(tmp_path, "sample.yaml", text)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert info.value.line == line_of(text, "evidence: []")
    assert info.value.message == "evidence: must not be empty"


def test_error_for_a_list_that_is_not_a_list(tmp_path: Path) -> None:
    start = SAMPLE.index("evidence:\n")
    end = SAMPLE.index("checklist:\n")
    text = SAMPLE[:start] + "evidence: logs\n" + SAMPLE[end:]
    with pytest.raises(PlaybookError, match=r"sample.yaml:\d+: evidence: must be a list"):
        load_playbook(write(tmp_path, "sample.yaml", text))


def test_error_for_an_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "sample.yaml", "")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert (info.value.line, info.value.message) == (1, "top level: must be a mapping")


def test_unknown_obligation_or_document_kind_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sample.yaml", SAMPLE)
    with pytest.raises(PlaybookError) as info:
        load_playbooks(tmp_path, obligation_kinds={"ppc_final"})
    assert info.value.line == line_of(SAMPLE, "ref: ppc_preliminary")
    assert info.value.message == (
        "checklist[1].ref: 'ppc_preliminary' is not a known obligation kind"
    )
    with pytest.raises(PlaybookError, match="'press_release' is not a known document kind"):
        load_playbook(path, document_kinds=("ppc_report",))
    assert load_playbook(
        path, obligation_kinds={"ppc_preliminary"}, document_kinds=["press_release"]
    )


def test_the_folder_must_exist_and_hold_playbooks(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="playbook folder not found"):
        load_playbooks(tmp_path / "missing")
    write(tmp_path, "notes.txt", "not a playbook")
    with pytest.raises(PlaybookError, match="no playbooks"):
        load_playbooks(tmp_path)


def test_registry_is_built_from_the_files_present(tmp_path: Path) -> None:
    write(tmp_path, "sample.yaml", SAMPLE)
    write(tmp_path, "second.yaml", SAMPLE.replace("id: sample", "id: second"))
    registry = load_playbooks(tmp_path)
    assert sorted(registry) == ["sample", "second"]
    assert registry["second"].id == "second"
