"""The triage YAML files are validated on load; errors name the file, the line and the field."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from csirt.catalog import load_catalog
from csirt.triage import PlaybookError, evaluate, load_rules, load_vocabulary
from csirt.yamlfile import playbooks_dir

from .factories import dataset, make_facts

FILES = ("vocabulary.yaml", "triage.yaml", "legal.yaml")


def copy_playbooks(tmp_path: Path) -> Path:
    for name in FILES:
        shutil.copy(playbooks_dir() / name, tmp_path / name)
    return tmp_path


def edit(folder: Path, name: str, old: str, new: str) -> int:
    """Replace ``old`` (once) in ``name``; return the line where ``new`` starts."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    start = text.index(old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:start].count("\n") + 1


def load_error(folder: Path) -> PlaybookError:
    with pytest.raises(PlaybookError) as info:
        load_rules(folder)
    return info.value


NAME_ITEM = "  name:\n    label: {ja: 氏名, en: Name}\n    sensitive: false\n"


@pytest.mark.parametrize(
    ("name", "old", "new", "line_offset", "message"),
    [
        # vocabulary.yaml
        (
            "vocabulary.yaml",
            NAME_ITEM,
            "  name:\n    label: {ja: 氏名, en: Name}\n    sensitive: maybe\n",
            2,
            "items.name.sensitive: must be true or false",
        ),
        (
            "vocabulary.yaml",
            NAME_ITEM,
            "  name:\n    label: {ja: 氏名}\n    sensitive: false\n",
            1,
            "items.name.label.en: is required",
        ),
        (
            "vocabulary.yaml",
            NAME_ITEM,
            "  name:\n    sensitive: false\n",
            1,
            "items.name.label: is required",
        ),
        (
            "vocabulary.yaml",
            NAME_ITEM,
            NAME_ITEM + "    colour: red\n",
            3,
            "items.name.colour: unknown key",
        ),
        (
            "vocabulary.yaml",
            NAME_ITEM,
            NAME_ITEM.replace("  name:", "  Name:"),
            0,
            "items.Name: keys must be lower_snake_case",
        ),
        (
            "vocabulary.yaml",
            NAME_ITEM + "    jnsa: {x: 1, y: 1}",
            NAME_ITEM + "    jnsa: {x: 4, y: 1}",
            3,
            "items.name.jnsa.x: must be 1, 2 or 3",
        ),
        (
            "vocabulary.yaml",
            "    identifies: name\n",
            "    identifies: nickname\n",
            0,
            "items.name.identifies: must be null or one of address, name, phone",
        ),
        ("vocabulary.yaml", "checked: 2026-11-01", "checked: soon", 0, "checked: must be a date"),
        # The parser notices the unclosed bracket two lines further down.
        ("vocabulary.yaml", "items:\n", "items: [\n", 2, "invalid YAML"),
        # triage.yaml
        (
            "triage.yaml",
            "    search_cache: 25",
            "    search_cache: 15",
            0,
            "scoring.exposure.search_cache: must be at least public_internet's points",
        ),
        (
            "triage.yaml",
            "    hard: 0",
            "    hard: 7",
            0,
            "scoring.identifiability.hard: must be at most possible's points",
        ),
        (
            "triage.yaml",
            "    points_per_tenfold: 6",
            "    points_per_tenfold: six",
            0,
            "scoring.persons.points_per_tenfold: must be a number",
        ),
        (
            "triage.yaml",
            "    encrypted_weight: 0.1",
            "    encrypted_weight: 2",
            0,
            "scoring.persons.encrypted_weight: must be between 0 and 1",
        ),
        (
            "triage.yaml",
            "  insider: 8",
            "  insider: -8",
            0,
            "scoring.insider: must be at least 0",
        ),
        (
            "triage.yaml",
            "    min_score: 45",
            "    min_score: 75",
            0,
            "priorities[1].min_score: must be lower than the one above",
        ),
        (
            "triage.yaml",
            "    min_score: 0",
            "    min_score: 5",
            0,
            "priorities[3].min_score: the last must be 0",
        ),
        ("triage.yaml", "  - id: P2", "  - id: P1", 0, "priorities[1].id: duplicate priority P1"),
        (
            "triage.yaml",
            "    acknowledge_within_hours: 4",
            "    acknowledge_within_hours: 0",
            0,
            "priorities[1].acknowledge_within_hours: must be at least 1",
        ),
        (
            "triage.yaml",
            "      any_of: [[name], [address, phone]]",
            "      any_of: [[name], [address, fax]]",
            0,
            "jnsa.identifiability[1].any_of[1]: must be a non-empty list of roles",
        ),
        (
            "triage.yaml",
            "      value: 3",
            "      value: 6",
            0,
            "jnsa.identifiability[1].value: must be lower than the one above",
        ),
        ("triage.yaml", "    high: 2\n", "", -1, "jnsa.social_responsibility.high: is required"),
        (
            "legal.yaml",
            "  priorities: [P1, P2]",
            "  priorities: P1",
            0,
            "gdpr_high_risk.priorities: must be a list",
        ),
        # legal.yaml
        (
            "legal.yaml",
            "    deadline: guidance\n    due: {from: aware_at, days: 3}\n    basis:\n"
            "      local_government:",
            "    deadline: guidance\n    due: {from: aware_at, days: 3, hours: 72}\n    basis:\n"
            "      local_government:",
            1,
            "obligations[0].due: needs exactly one of days, months, hours",
        ),
        (
            "legal.yaml",
            '    due: {from: acknowledged_at, else: "obligation:wb_acknowledge", months: 3}',
            '    due: {from: "obligation:wb_feedback", months: 3}',
            0,
            "obligations[9].due.from: must be aware_at, reported_at, acknowledged_at or "
            "obligation:",
        ),
        (
            "legal.yaml",
            "    when: personal_data",
            "    when: sometimes",
            0,
            "obligations[10].when: 'sometimes' is not one of:",
        ),
        (
            "legal.yaml",
            "    regime: gdpr\n    when: personal_data",
            "    regime: ccpa\n    when: personal_data",
            0,
            "obligations[10].regime: 'ccpa' is not one of: appi, eu_whistleblowing, gdpr, "
            "mynumber, whistleblower_jp",
        ),
        (
            "legal.yaml",
            "    due: {from: aware_at, hours: 72}\n    basis:\n      article: GDPR Art. 33",
            "    due: {from: aware_at, hours: 72, count_first_day: true}\n    basis:\n"
            "      article: GDPR Art. 33",
            0,
            "obligations[10].due.count_first_day: only applies to days",
        ),
        (
            "legal.yaml",
            "      article: Directive (EU) 2019/1937 Art. 9(1)(b)\n"
            "      ja: 通報の受領を7日以内に通報者へ確認\n",
            "      article: Directive (EU) 2019/1937 Art. 9(1)(b)\n",
            0,
            "obligations[8].basis.ja: is required",
        ),
        (
            "legal.yaml",
            "    checked: 2026-12-06\n  - kind: ppc_final",
            "    checked: last week\n  - kind: ppc_final",
            0,
            "obligations[0].checked: must be a date",
        ),
        (
            "legal.yaml",
            "  - kind: ppc_final",
            "  - kind: ppc_preliminary",
            0,
            "obligations[1].kind: duplicate kind 'ppc_preliminary'",
        ),
        (
            "legal.yaml",
            "  priorities: [P1, P2]",
            "  priorities: [P1, P9]",
            0,
            "gdpr_high_risk.priorities[1]: unknown priority 'P9'",
        ),
        (
            "legal.yaml",
            "    local_government: 100",
            "    local_government: many",
            0,
            "appi_reportable.persons_more_than.local_government: must be a whole number",
        ),
        (
            "legal.yaml",
            "  gdpr:\n    jurisdiction: EU",
            "  gdpr:\n    jurisdiction: eu",
            1,
            "regimes.gdpr.jurisdiction: must be upper case",
        ),
        (
            "legal.yaml",
            "  - kind: ppc_preliminary",
            "  - kind: ppc_preliminary\n    colour: red",
            1,
            "obligations[0].colour: unknown key",
        ),
    ],
)
def test_bad_yaml_names_file_line_and_field(
    tmp_path: Path, name: str, old: str, new: str, line_offset: int, message: str
) -> None:
    folder = copy_playbooks(tmp_path)
    line = edit(folder, name, old, new)
    error = load_error(folder)
    assert error.path == str(folder / name)
    assert message in error.message
    assert error.line == line + line_offset
    assert str(error).startswith(f"{folder / name}:{error.line}: ")


def test_per_kind_basis_needs_both_kinds(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    text = (folder / "legal.yaml").read_text(encoding="utf-8")
    start = text.index("    business:\n      article: 個人情報保護法26条1項、同法施行規則7条")
    end = text.index("  source: >-", start)
    (folder / "legal.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    error = load_error(folder)
    assert "appi_reportable.basis.business: is required" in error.message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    (folder / "legal.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    error = load_error(folder)
    assert error.line == 1
    assert "top level: must be a mapping" in error.message


def test_missing_file(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    (folder / "triage.yaml").unlink()
    error = load_error(folder)
    assert error.path.endswith("triage.yaml")
    assert "cannot read" in error.message


def test_appi_regime_is_required(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    edit(folder, "legal.yaml", "  appi:\n    jurisdiction: JP", "  appi_old:\n    jurisdiction: JP")
    assert "regimes.appi: is required" in load_error(folder).message


def test_identifiability_default_must_come_last(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    edit(folder, "triage.yaml", "      any_of: []", "      any_of: [[phone]]")
    assert "must end with a level whose any_of is []" in load_error(folder).message


def test_deadlines_are_configurable(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    edit(
        folder,
        "legal.yaml",
        "    deadline: guidance\n    due: {from: aware_at, days: 3}\n    basis:\n"
        "      local_government:",
        "    deadline: guidance\n    due: {from: aware_at, days: 5}\n    basis:\n"
        "      local_government:",
    )
    # A variant may carry its own basis; "always" is a valid condition.
    edit(
        folder,
        "legal.yaml",
        "    variants:\n      - when: wrongful_intent\n"
        "        due: {from: aware_at, days: 60, count_first_day: true, roll: forward}\n"
        "    basis:\n      local_government:\n"
        "        article: 個人情報保護法68条1項、同法施行規則44条2項",
        "    variants:\n      - when: always\n"
        "        due: {from: aware_at, days: 10}\n"
        "        basis: {article: Local rule 1, ja: 内規, en: house rule}\n"
        "      - when: wrongful_intent\n"
        "        due: {from: aware_at, days: 60, count_first_day: true, roll: forward}\n"
        "    basis:\n      local_government:\n"
        "        article: 個人情報保護法68条1項、同法施行規則44条2項",
    )
    rules = load_rules(folder)
    tokyo = ZoneInfo("Asia/Tokyo")
    aware = dt.datetime(2026, 12, 30, 10, tzinfo=tokyo)
    result = evaluate(make_facts(dataset("religion"), aware_at=aware), rules, tokyo)
    preliminary = result.obligation("ppc_preliminary")
    final = result.obligation("ppc_final")
    assert preliminary is not None
    assert final is not None
    assert preliminary.due_at.date() == dt.date(2027, 1, 4)
    assert final.due_at.date() == dt.date(2027, 1, 9)
    assert final.article == "Local rule 1"


def test_the_catalog_reloads_when_a_file_changes(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    shutil.copytree(playbooks_dir(), folder)
    first = load_catalog(folder)
    assert load_catalog(folder) is first  # one cached copy per set of files
    line = edit(folder, "triage.yaml", "  insider: 8", "  insider: 9")
    assert line > 0
    stat = (folder / "triage.yaml").stat()
    os.utime(folder / "triage.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_catalog(folder).rules.scoring.insider == 9


def test_shipped_files_load() -> None:
    rules = load_rules(playbooks_dir())
    assert [p.id for p in rules.priorities] == ["P1", "P2", "P3", "P4"]
    assert rules.vocabulary == load_vocabulary(playbooks_dir() / "vocabulary.yaml")
    for rule in rules.obligations:
        assert rule.checked >= dt.date(2026, 1, 1)
        for basis in rule.basis.values():
            assert basis.article
            assert basis.requirement.ja
            assert basis.requirement.en


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "legal.yaml",
            "  appi:\n    jurisdiction: JP\n"
            "    label: {ja: 個人情報保護法, "
            "en: Act on the Protection of Personal Information (APPI)}\n",
            "  appi: JP\n",
            "regimes.appi: must be a mapping",
        ),
        ("legal.yaml", "      article: GDPR Art. 34", "      article: ''", "must be a non-empty"),
        (
            "triage.yaml",
            "    - id: possible",
            "    - possible\n    - id: possible",
            "jnsa.identifiability[1]: must be a mapping",
        ),
        (
            "triage.yaml",
            "  - id: P2",
            "  - P2\n  - id: P2",
            "priorities[1]: must be a mapping",
        ),
        (
            "legal.yaml",
            "  - kind: ppc_final",
            "  - ppc_final\n  - kind: ppc_final",
            "obligations[1]: must be a mapping",
        ),
        (
            "legal.yaml",
            "    variants:\n      - when: wrongful_intent\n"
            "        due: {from: aware_at, days: 60, count_first_day: true, roll: forward}\n"
            "    basis:\n      local_government:\n"
            "        article: 個人情報保護法68条1項、同法施行規則44条2項",
            "    variants:\n      - wrongful_intent\n      - when: wrongful_intent\n"
            "        due: {from: aware_at, days: 60, count_first_day: true, roll: forward}\n"
            "    basis:\n      local_government:\n"
            "        article: 個人情報保護法68条1項、同法施行規則44条2項",
            "obligations[1].variants[0]: must be a mapping",
        ),
    ],
)
def test_more_shapes_are_refused(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    folder = copy_playbooks(tmp_path)
    edit(folder, name, old, new)
    error = load_error(folder)
    assert error.path.endswith(name)
    assert message in error.message
    assert error.line is not None


def test_default_identifiability_level_must_be_last(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    edit(
        folder,
        "triage.yaml",
        "    - id: possible\n      value: 3\n      any_of: [[name], [address, phone]]",
        "    - id: possible\n      value: 3\n      any_of: []",
    )
    error = load_error(folder)
    assert "jnsa.identifiability[2]: comes after the default level" in error.message


def test_empty_vocabulary(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.yaml"
    shipped = (playbooks_dir() / "vocabulary.yaml").read_text(encoding="utf-8")
    exposures = shipped[shipped.index("\nexposures:") :]
    path.write_text("checked: 2026-11-01\nitems: {}\n" + exposures, encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"vocabulary.yaml:2: items: must list at least one"):
        load_vocabulary(path)


def test_missing_vocabulary_file(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot read"):
        load_vocabulary(tmp_path / "nowhere.yaml")


def test_internal_exposure_can_be_excluded(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    edit(folder, "legal.yaml", "internal_exposure_counts: true", "internal_exposure_counts: false")
    rules = load_rules(folder)
    tokyo = ZoneInfo("Asia/Tokyo")
    internal = evaluate(make_facts(dataset("religion"), exposure="internal"), rules, tokyo)
    assert internal.reportable is False
    assert internal.obligations == ()
    assert any("not computed" in note.en for note in internal.notes)
    lost = evaluate(make_facts(dataset("religion"), exposure="lost"), rules, tokyo)
    assert lost.reportable is True


def test_every_exposure_needs_its_names(tmp_path: Path) -> None:
    folder = copy_playbooks(tmp_path)
    edit(folder, "vocabulary.yaml", "  misuse_confirmed:\n", "  misused:\n")
    with pytest.raises(PlaybookError, match=r"exposures.misused: unknown exposure"):
        load_rules(folder)


def test_an_obligation_kind_must_be_known(tmp_path: Path) -> None:
    """Kinds are an enum (csirt.triage.kinds): a typo cannot create a duty nobody labels."""
    folder = copy_playbooks(tmp_path)
    edit(folder, "legal.yaml", "  - kind: gdpr_individuals\n", "  - kind: gdpr_individual\n")
    with pytest.raises(PlaybookError, match=r"\.kind: 'gdpr_individual' is not one of:"):
        load_rules(folder)
