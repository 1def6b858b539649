"""Playbook YAML keeps line numbers, and its errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from csirt.yamlfile import LineDict, LineList, PlaybookError, load_yaml, playbooks_dir


def test_lines_are_kept(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb:\n  - x\n  - {c: 2}\n", encoding="utf-8")
    data = load_yaml(path)
    assert isinstance(data, LineDict)
    assert data.line_of("b") == 2
    assert isinstance(data["b"], LineList)
    assert data["b"].line_of(1) == 4
    assert data["b"].line_of(9) == data["b"].line
    assert data.line_of("missing") == data.line


def test_duplicate_keys_are_errors(tmp_path: Path):
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_yaml(path)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3")


def test_syntax_errors_name_the_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [unclosed\nc: 2\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_yaml(path)
    assert caught.value.line is not None
    assert "invalid YAML" in caught.value.message


def test_missing_file(tmp_path: Path):
    with pytest.raises(PlaybookError, match="cannot read"):
        load_yaml(tmp_path / "nope.yaml")


def test_non_string_keys_become_strings(tmp_path: Path):
    path = tmp_path / "k.yaml"
    path.write_text("1: one\ntrue: yes\n", encoding="utf-8")
    assert set(load_yaml(path)) == {"1", "True"}


def test_playbooks_dir_exists():
    assert playbooks_dir().name == "playbooks"
