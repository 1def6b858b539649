"""The catalog: everything csirt reads from one playbooks folder, loaded and validated together.

``create_app`` builds one :class:`Catalog` from ``CSIRT_PLAYBOOKS_PATH`` and keeps it in
``app.extensions``; services take it (or the part they need) as an argument, so the forms, the
triage engine, the documents and the intake all use the same vocabulary and rules.

One cache for the whole process: a catalog is immutable, so apps built from the same unchanged
files (tests build many) share one copy; a changed file (its size or modification time) loads
a new one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from csirt.catalog.playbooks import Playbook, load_playbooks
from csirt.catalog.questionnaire import Questionnaire, load_questionnaire
from csirt.observables.attack import Matrix, load_matrix
from csirt.triage.rules import Rules, load_rules
from csirt.triage.vocabulary import Vocabulary

QUESTIONNAIRE = Path("intake") / "questionnaire.yaml"
INCIDENTS = Path("incidents")


@dataclass(frozen=True)
class Catalog:
    """Vocabulary, triage rules, legal regimes, incident playbooks, the intake questionnaire
    and the ATT&CK technique list (``attack/enterprise.yaml``)."""

    path: Path
    rules: Rules
    playbooks: Mapping[str, Playbook]
    questionnaire: Questionnaire
    attack: Matrix = field(default_factory=Matrix)

    @property
    def vocabulary(self) -> Vocabulary:
        """The personal-data items (``vocabulary.yaml``)."""
        return self.rules.vocabulary


def load_catalog(path: Path | str) -> Catalog:
    """Load and validate every file under ``path``; PlaybookError names the file and line."""
    folder = Path(path).resolve()
    return _load_cached(folder, _fingerprint(folder))


def _fingerprint(folder: Path) -> tuple[object, ...]:
    files = sorted(folder.rglob("*.yaml")) if folder.is_dir() else []
    stamps: list[object] = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue  # vanished between the listing and the stat: the load reports it
        stamps.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


@functools.lru_cache(maxsize=8)
def _load_cached(folder: Path, _fingerprint: tuple[object, ...]) -> Catalog:
    rules = load_rules(folder)
    attack = load_matrix(folder)
    playbooks = load_playbooks(
        folder / INCIDENTS,
        obligation_kinds={rule.kind for rule in rules.obligations},
        techniques=attack.techniques or None,
    )
    questionnaire = load_questionnaire(folder / QUESTIONNAIRE, list(rules.vocabulary))
    return Catalog(
        path=folder, rules=rules, playbooks=playbooks, questionnaire=questionnaire, attack=attack
    )
