"""The closing checklist: what must be true before a case may close.

Other packages add their own conditions without this package importing them:
``register_closing_check(fn)`` adds a whole-case check (e.g. documents: "every document is
approved"), and ``register_checklist_resolver(kind, fn)`` answers the playbook checklist items
of one ``kind`` (``obligation``, ``document``). A playbook item whose kind has no resolver yet is
not checked (it is listed as skipped), so a case can close before that package exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.models import Case, ChecklistTick, Task, TaskStatus
from csirt.catalog import Playbook
from csirt.lang import LocalText


@dataclass(frozen=True)
class MissingItem:
    """One unmet condition for closing, in both languages."""

    key: str
    message: LocalText

    def text(self, lang: str) -> str:
        """The message in ``lang``."""
        return self.message.get(lang)


@dataclass(frozen=True)
class ChecklistLine:
    """One playbook checklist item with its state: met, missing, or not checkable yet."""

    item: str  # "<playbook_id>:<item key>"
    kind: str
    ref: str | None
    label: LocalText
    state: str  # "met" | "missing" | "unchecked"

    def text(self, lang: str) -> str:
        """The label in ``lang``."""
        return self.label.get(lang)


ClosingCheck = Callable[[Session, Case], list[MissingItem]]
# Answers one playbook checklist item: True (met), False (missing), None (cannot tell).
ChecklistResolver = Callable[[Session, Case, str], bool | None]

_closing_checks: list[ClosingCheck] = []
_resolvers: dict[str, ChecklistResolver] = {}


def register_closing_check(check: ClosingCheck) -> ClosingCheck:
    """Add a whole-case closing check (idempotent; usable as a decorator)."""
    if check not in _closing_checks:
        _closing_checks.append(check)
    return check


def unregister_closing_check(check: ClosingCheck) -> None:
    """Remove a closing check (tests, or a package that is switched off)."""
    if check in _closing_checks:
        _closing_checks.remove(check)


def register_checklist_resolver(kind: str, resolver: ChecklistResolver) -> None:
    """Answer playbook checklist items of ``kind`` ("obligation", "document", ...)."""
    _resolvers[kind] = resolver


def unregister_checklist_resolver(kind: str) -> None:
    """Forget the resolver of ``kind``."""
    _resolvers.pop(kind, None)


def closing_checks() -> tuple[ClosingCheck, ...]:
    """Every registered whole-case check, built-in ones first."""
    return (required_tasks_done, *_closing_checks)


def required_tasks_done(session: Session, case: Case) -> list[MissingItem]:
    """Every required task is done."""
    open_required = session.scalars(
        select(Task)
        .where(
            Task.case_id == case.id,
            Task.required.is_(True),
            Task.status != TaskStatus.DONE.value,
        )
        .order_by(Task.due_at, Task.id)
    ).all()
    return [
        MissingItem(
            f"task:{task.id}",
            LocalText(
                f"必須タスクが完了していません: {task.title}",
                f"Required task not done: {task.title}",
            ),
        )
        for task in open_required
    ]


def checklist_lines(
    session: Session, case: Case, playbooks: Iterable[Playbook]
) -> list[ChecklistLine]:
    """The closing checklist items of the case's playbooks, each with its state."""
    playbooks = list(playbooks)
    if not playbooks:
        return []
    done_keys = {
        (playbook_id, key)
        for playbook_id, key in session.execute(
            select(Task.playbook_id, Task.key).where(
                Task.case_id == case.id,
                Task.status == TaskStatus.DONE.value,
                Task.key.is_not(None),
            )
        )
    }
    ticked = set(
        session.scalars(select(ChecklistTick.item).where(ChecklistTick.case_id == case.id))
    )
    resolvers: Mapping[str, ChecklistResolver] = _resolvers
    lines = []
    for playbook in playbooks:
        for entry in playbook.checklist:
            item = f"{playbook.id}:{entry.key}"
            met: bool | None
            if entry.kind == "task":
                met = (playbook.id, entry.ref) in done_keys
            elif entry.kind == "manual":
                met = item in ticked
            else:
                resolver = resolvers.get(entry.kind)
                met = resolver(session, case, entry.ref or "") if resolver else None
            state = "unchecked" if met is None else ("met" if met else "missing")
            lines.append(ChecklistLine(item, entry.kind, entry.ref, entry.label, state))
    return lines


def missing_for_closing(
    session: Session, case: Case, playbooks: Iterable[Playbook]
) -> list[MissingItem]:
    """Everything that stops the case from closing; empty when it may close."""
    missing: list[MissingItem] = []
    for check in closing_checks():
        missing.extend(check(session, case))
    for line in checklist_lines(session, case, playbooks):
        if line.state == "missing":
            missing.append(
                MissingItem(
                    f"checklist:{line.item}",
                    LocalText(f"チェック項目: {line.label.ja}", f"Checklist: {line.label.en}"),
                )
            )
    return missing
