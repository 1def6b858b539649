"""Incident playbooks: YAML files in ``playbooks/incidents/`` loaded into frozen values.

A playbook names the roles a case needs, the tasks of each phase with a due offset from the
moment the organisation became aware (``aware_at``, where the legal clocks start), the evidence
to collect, and the checklist that must be satisfied before a case closes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from csirt.cases.roles import STAFFED, CaseRole
from csirt.lang import LocalText
from csirt.yamlfile import Node, PlaybookError, load_yaml, unique

PHASES: Final = ("detect", "analyse", "contain", "eradicate", "recover", "post_incident")
CASE_ROLES: Final = tuple(role.value for role in STAFFED)
SKILLS: Final = ("forensics", "privacy", "legal", "pr", "systems", "management")
CHECKLIST_KINDS: Final = ("task", "obligation", "document", "manual")

CASE_ROLE_LABELS: Final[Mapping[str, LocalText]] = {
    CaseRole.LEAD: LocalText(ja="対応責任者", en="Lead"),
    CaseRole.INVESTIGATOR: LocalText(ja="調査担当", en="Investigator"),
    CaseRole.PRIVACY_OFFICER: LocalText(ja="個人情報保護担当", en="Privacy officer"),
    CaseRole.PR: LocalText(ja="広報担当", en="Public relations"),
    CaseRole.LEGAL: LocalText(ja="法務担当", en="Legal"),
}

# The longest offset accepted: a year and a day, so that a typo like "3000d" cannot hide a task.
MAX_OFFSET: Final = timedelta(days=366)
_OFFSET = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_PLAYBOOK_KEYS: Final = ("id", "title", "description", "roles", "tasks", "evidence", "checklist")
# Optional: ATT&CK techniques the playbook suggests for its cases (checked against the list).
_OPTIONAL_KEYS: Final = ("techniques",)


def parse_offset(text: str) -> timedelta:
    """Parse an offset like ``30m``, ``4h``, ``3d``, ``2w`` or ``1d12h``; ValueError if bad."""
    match = _OFFSET.fullmatch(text) if isinstance(text, str) else None
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (use e.g. 30m, 4h, 3d, 2w or 1d12h)")
    weeks, days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    offset = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    if offset > MAX_OFFSET:
        raise ValueError(f"{text!r} is longer than {MAX_OFFSET.days} days")
    return offset


def format_offset(offset: timedelta) -> str:
    """Write an offset back in the playbook notation (``1d12h``); ``0m`` for zero."""
    minutes = int(offset.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return "".join(parts) or "0m"


@dataclass(frozen=True)
class RoleNeed:
    """How many people a role needs, and the skills that make someone a good fit."""

    role: str
    count: int
    skills: tuple[str, ...]
    note: LocalText | None


@dataclass(frozen=True)
class TaskTemplate:
    """A task that choosing the playbook creates on the case."""

    key: str
    title: LocalText
    phase: str
    due: timedelta
    role: str
    required: bool
    description: LocalText | None


@dataclass(frozen=True)
class EvidenceItem:
    """A piece of evidence the responders should secure."""

    key: str
    label: LocalText
    required: bool


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the closing checklist.

    ``kind`` says who can tick it: ``task`` (the task ``ref`` of this playbook is done),
    ``obligation`` (the legal obligation ``ref`` from triage is met or does not apply),
    ``document`` (a document of kind ``ref`` is approved) or ``manual`` (a person confirms it).
    """

    key: str
    label: LocalText
    kind: str
    ref: str | None


@dataclass(frozen=True)
class Playbook:
    """One validated incident playbook."""

    id: str
    title: LocalText
    description: LocalText
    roles: tuple[RoleNeed, ...]
    tasks: tuple[TaskTemplate, ...]
    evidence: tuple[EvidenceItem, ...]
    checklist: tuple[ChecklistItem, ...]
    techniques: tuple[str, ...] = ()

    def task(self, key: str) -> TaskTemplate:
        """The task with this key; KeyError if there is none."""
        for task in self.tasks:
            if task.key == key:
                return task
        raise KeyError(key)

    def tasks_in_phase(self, phase: str) -> tuple[TaskTemplate, ...]:
        """The tasks of one phase, in file order; ValueError for an unknown phase."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase: {phase!r}")
        return tuple(task for task in self.tasks if task.phase == phase)

    def tasks_for(self, aware_at: datetime) -> list[tuple[TaskTemplate, datetime]]:
        """Each task with its due date counted from ``aware_at`` (tz-aware), in phase order."""
        if aware_at.tzinfo is None or aware_at.utcoffset() is None:
            raise ValueError("aware_at must be timezone-aware")
        return [
            (task, aware_at + task.due) for phase in PHASES for task in self.tasks_in_phase(phase)
        ]


def load_playbooks(
    folder: Path,
    *,
    obligation_kinds: Collection[str] | None = None,
    document_kinds: Collection[str] | None = None,
    techniques: Collection[str] | None = None,
) -> dict[str, Playbook]:
    """Load every ``*.yaml`` in ``folder`` into a registry keyed by playbook id.

    When ``obligation_kinds`` or ``document_kinds`` are given, checklist refs of those kinds
    must be among them (the kinds in ``legal.yaml`` and the document builders' registry).
    """
    if not folder.is_dir():
        raise PlaybookError(folder, None, "playbook folder not found")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise PlaybookError(folder, None, "no playbooks (*.yaml) in this folder")
    playbooks = (
        load_playbook(
            path,
            obligation_kinds=obligation_kinds,
            document_kinds=document_kinds,
            techniques=techniques,
        )
        for path in files
    )
    return {playbook.id: playbook for playbook in playbooks}


def load_playbook(
    path: Path,
    *,
    obligation_kinds: Collection[str] | None = None,
    document_kinds: Collection[str] | None = None,
    techniques: Collection[str] | None = None,
) -> Playbook:
    """Load and validate one playbook file; its ``id`` must equal the file name without .yaml.

    ``techniques``: the ATT&CK technique ids its optional ``techniques`` list must be among."""
    root = Node(path, load_yaml(path), "", 1)
    root.expect_keys(_PLAYBOOK_KEYS, _OPTIONAL_KEYS)
    playbook_id = root.key_name("id")
    if playbook_id != path.stem:
        raise root.error("id", f"{playbook_id!r} must match the file name {path.stem!r}")
    roles = _roles(root)
    tasks = _tasks(root, {need.role for need in roles})
    return Playbook(
        id=playbook_id,
        title=root.text("title"),
        description=root.text("description"),
        roles=roles,
        tasks=tasks,
        evidence=_evidence(root),
        checklist=_checklist(
            root,
            {
                "task": {task.key for task in tasks},
                "obligation": obligation_kinds,
                "document": document_kinds,
            },
        ),
        techniques=_techniques(root, techniques),
    )


def _techniques(root: Node, known: Collection[str] | None) -> tuple[str, ...]:
    if not root.has("techniques"):
        return ()
    ids = root.strings("techniques")
    unknown = [i for i in ids if known is not None and i not in known]
    if unknown:
        listed = ", ".join(unknown)
        raise root.error("techniques", f"not ATT&CK Enterprise techniques: {listed}")
    return ids


def _roles(root: Node) -> tuple[RoleNeed, ...]:
    seen: dict[str, int] = {}
    needs = []
    for node in root.nodes("roles"):
        node.expect_keys(("role", "count", "skills"), ("note",))
        role = node.choice("role", CASE_ROLES)
        unique(node, "role", role, seen)
        needs.append(
            RoleNeed(
                role=role,
                count=node.integer("count", minimum=1, maximum=20),
                skills=node.strings("skills", SKILLS),
                note=node.optional_text("note"),
            )
        )
    return tuple(needs)


def _tasks(root: Node, declared_roles: set[str]) -> tuple[TaskTemplate, ...]:
    seen: dict[str, int] = {}
    tasks = []
    for node in root.nodes("tasks"):
        node.expect_keys(("key", "title", "phase", "due", "role", "required"), ("description",))
        key = node.key_name("key")
        unique(node, "key", key, seen)
        role = node.choice("role", CASE_ROLES)
        if role not in declared_roles:
            raise node.error("role", f"{role!r} is not declared under roles")
        try:
            due = parse_offset(node.data["due"])
        except ValueError as exc:
            raise node.error("due", str(exc)) from exc
        if not isinstance(node.data["required"], bool):
            raise node.error("required", "must be true or false")
        tasks.append(
            TaskTemplate(
                key=key,
                title=node.text("title"),
                phase=node.choice("phase", PHASES),
                due=due,
                role=role,
                required=node.data["required"],
                description=node.optional_text("description"),
            )
        )
    return tuple(tasks)


def _evidence(root: Node) -> tuple[EvidenceItem, ...]:
    seen: dict[str, int] = {}
    items = []
    for node in root.nodes("evidence"):
        node.expect_keys(("key", "label"), ("required",))
        key = node.key_name("key")
        unique(node, "key", key, seen)
        items.append(
            EvidenceItem(key=key, label=node.text("label"), required=node.boolean("required", True))
        )
    return tuple(items)


def _checklist(
    root: Node, known_refs: dict[str, Collection[str] | None]
) -> tuple[ChecklistItem, ...]:
    seen: dict[str, int] = {}
    items = []
    for node in root.nodes("checklist"):
        node.expect_keys(("key", "label", "kind"), ("ref",))
        key = node.key_name("key")
        unique(node, "key", key, seen)
        kind = node.choice("kind", CHECKLIST_KINDS)
        ref: str | None = None
        if kind == "manual":
            if node.has("ref"):
                raise node.error("ref", "a manual item has no ref")
        else:
            if not node.has("ref"):
                raise node.error("ref", f"is required (a {kind} item names what it checks)")
            ref = node.key_name("ref")
            known = known_refs[kind]
            if known is not None and ref not in known:
                what = "a task of this playbook" if kind == "task" else f"a known {kind} kind"
                raise node.error("ref", f"{ref!r} is not {what}")
        items.append(ChecklistItem(key=key, label=node.text("label"), kind=kind, ref=ref))
    return tuple(items)
