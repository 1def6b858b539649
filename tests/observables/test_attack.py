"""The ATT&CK technique list in playbooks/attack and the playbooks' suggested techniques:
loaded through the one catalog, validated with the file and line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csirt.catalog import load_catalog
from csirt.observables.attack import load_matrix
from csirt.observables.exchange import ExportContent
from csirt.observables.models import Observable
from csirt.observables.stix import build_bundle
from csirt.yamlfile import PlaybookError, playbooks_dir


def test_shipped_list_states_its_version_and_tactics() -> None:
    matrix = load_catalog(playbooks_dir()).attack
    assert matrix.version == "18.1"
    assert "Enterprise" in matrix.source
    assert len(matrix.tactics) == 14
    exfiltration = matrix.get("t1567")
    assert exfiltration is not None
    assert exfiltration.name == "Exfiltration Over Web Service"
    assert exfiltration.tactics == ("exfiltration",)
    sub = matrix.get("T1567.002")
    assert sub is not None
    assert sub.url == "https://attack.mitre.org/techniques/T1567/002/"
    assert [t.id for t in matrix.search("T1567")][:1] == ["T1567"]
    assert matrix.unknown(["T1567", "T9999"]) == ["T9999"]


def test_playbooks_suggest_known_techniques() -> None:
    catalog = load_catalog(playbooks_dir())
    assert "T1486" in catalog.playbooks["malware"].techniques
    assert catalog.playbooks["lost_media"].techniques == ()
    for playbook in catalog.playbooks.values():
        assert catalog.attack.unknown(playbook.techniques) == []


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(playbooks_dir(), folder)
    return folder


def test_unknown_suggested_technique_names_the_file(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "incidents" / "malware.yaml"
    text = path.read_text(encoding="utf-8").replace("T1566,", "T1566, T9999,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_catalog(folder)
    assert "malware.yaml" in str(caught.value)
    assert "T9999" in str(caught.value)


def test_bad_technique_id_in_the_list(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "attack" / "enterprise.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("- id: T1001\n", "- id: X1001\n", 1),
        encoding="utf-8",
    )
    with pytest.raises(PlaybookError) as caught:
        load_matrix(folder)
    assert "enterprise.yaml:" in str(caught.value)
    assert "X1001" in str(caught.value)


def test_a_red_case_leaves_without_its_title() -> None:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    row = Observable(
        type="domain", value="evil.example", hash_algorithm=None, tlp="amber", pap="amber",
        tags=[], ioc=True, description="", first_seen=None, last_seen=None, created_at=now,
    )  # fmt: skip
    content = ExportContent("CSIRT-2026-0009", "", "", "red", [row], [], withheld=0)
    bundle = build_bundle(content, now)
    assert '"name":"CSIRT-2026-0009"' in bundle.replace(" ", "")
    assert "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" in bundle  # TLP:RED
