"""Ranked suggestions of who should take each role of a case (pure), with reasons in ja/en.

Score: skill match up to 60, on call now 25, minus 5 per open item of work (at most 30),
minus the part-time share (up to 20), minus 80 when on leave today. People in conflict with the
case are never suggested: they go to ``excluded`` with the reason (shown to admins only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from csirt.catalog import LocalText
from csirt.teams.conflicts import conflict_of

# Skills each role needs when no playbook on the case says otherwise.
DEFAULT_ROLE_SKILLS: Mapping[str, tuple[str, ...]] = {
    "lead": ("management", "forensics"),
    "investigator": ("forensics", "systems"),
    "privacy_officer": ("privacy",),
    "pr": ("pr",),
    "legal": ("legal",),
}
SKILL_LABELS: Mapping[str, LocalText] = {
    "forensics": LocalText(ja="フォレンジック", en="forensics"),
    "privacy": LocalText(ja="個人情報保護", en="privacy"),
    "legal": LocalText(ja="法務", en="legal"),
    "pr": LocalText(ja="広報", en="PR"),
    "systems": LocalText(ja="情報システム", en="systems"),
    "management": LocalText(ja="マネジメント", en="management"),
}
# Who may take each case role, by account role (``auth.permissions.Role`` values): case roles
# are filled from responders and leads, PR staff only for the PR role. Custodians, committee
# members, auditors, intake officers and admins are never suggested (they cannot work a case;
# an account with several roles qualifies through any of them).
CASE_ROLE_ACCOUNTS: Mapping[str, frozenset[str]] = {
    "lead": frozenset({"lead", "responder"}),
    "investigator": frozenset({"lead", "responder"}),
    "privacy_officer": frozenset({"lead", "responder"}),
    "pr": frozenset({"lead", "responder", "pr"}),
    "legal": frozenset({"lead", "responder"}),
}
RESPONDING_ACCOUNTS = frozenset({"lead", "responder"})
SKILL_POINTS = 60
ON_CALL_POINTS = 25
WORK_ITEM_PENALTY = 5
MAX_WORK_PENALTY = 30
PART_TIME_PENALTY = 20
LEAVE_PENALTY = 80


@dataclass(frozen=True)
class Candidate:
    """One active staff member as the ranking sees them."""

    user_id: int
    username: str
    display_name: str
    department: str | None
    skills: frozenset[str]
    on_call: bool = False
    open_tasks: int = 0
    open_cases: int = 0
    availability_percent: int = 100
    on_leave: bool = False
    roles: frozenset[str] = frozenset()  # account roles (``auth.permissions.Role`` values)


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    score: int
    reasons: tuple[LocalText, ...]


@dataclass(frozen=True)
class Exclusion:
    candidate: Candidate
    reason: LocalText


@dataclass(frozen=True)
class Suggestions:
    """Per role, the ranked suggestions; and who was excluded for a conflict, and why."""

    by_role: dict[str, list[Suggestion]]
    excluded: list[Exclusion] = field(default_factory=list)


def _skill_names(skills: Iterable[str]) -> LocalText:
    names = [SKILL_LABELS[s] for s in skills if s in SKILL_LABELS]
    return LocalText(ja="・".join(n.ja for n in names), en=", ".join(n.en for n in names))


def exclusion_reason(kind: str, entry: str) -> LocalText:
    """Why a conflicted person is excluded (for admins)."""
    if kind == "subject":
        return LocalText(
            ja=f"事案の関係者（「{entry}」）として挙げられています",
            en=f"named as involved in the case ({entry!r})",
        )
    return LocalText(
        ja=f"関係部署（「{entry}」）に所属しています",
        en=f"belongs to an involved department ({entry!r})",
    )


def score(candidate: Candidate, skills: Sequence[str]) -> Suggestion:
    """The score of one candidate for a role needing ``skills``, with the reasons."""
    reasons: list[LocalText] = []
    points = 0
    matched = [s for s in skills if s in candidate.skills]
    if skills:
        points += round(SKILL_POINTS * len(matched) / len(skills))
    if matched:
        names = _skill_names(matched)
        reasons.append(LocalText(ja=f"スキル: {names.ja}", en=f"skills: {names.en}"))
    elif skills:
        names = _skill_names(skills)
        reasons.append(
            LocalText(ja=f"必要なスキル（{names.ja}）なし", en=f"lacks the skills ({names.en})")
        )
    if candidate.on_call:
        points += ON_CALL_POINTS
        reasons.append(LocalText(ja="現在オンコール当番", en="on call now"))
    load = candidate.open_tasks + candidate.open_cases
    points -= min(MAX_WORK_PENALTY, WORK_ITEM_PENALTY * load)
    reasons.append(
        LocalText(
            ja=f"未完了のタスク {candidate.open_tasks} 件・担当事案 {candidate.open_cases} 件",
            en=f"{candidate.open_tasks} open tasks, {candidate.open_cases} open cases",
        )
    )
    if candidate.availability_percent < 100:
        points -= round(PART_TIME_PENALTY * (100 - candidate.availability_percent) / 100)
        reasons.append(
            LocalText(
                ja=f"短時間勤務（{candidate.availability_percent}%）",
                en=f"part time ({candidate.availability_percent}%)",
            )
        )
    if candidate.on_leave:
        points -= LEAVE_PENALTY
        reasons.append(LocalText(ja="本日休暇中", en="on leave today"))
    return Suggestion(candidate, points, tuple(reasons))


def suggest(
    candidates: Iterable[Candidate],
    role_skills: Mapping[str, Sequence[str]],
    involved: Sequence[str],
    *,
    assigned: Mapping[str, set[int]] | None = None,
    limit: int = 5,
) -> Suggestions:
    """Rank candidates for each role; conflicted people never appear in any ranking, and a
    role lists only people whose account may take it (:data:`CASE_ROLE_ACCOUNTS`)."""
    assigned = assigned or {}
    eligible: list[Candidate] = []
    excluded: list[Exclusion] = []
    for candidate in candidates:
        conflict = conflict_of(candidate, involved)
        if conflict is not None:
            excluded.append(Exclusion(candidate, exclusion_reason(conflict.kind, conflict.entry)))
        else:
            eligible.append(candidate)
    by_role: dict[str, list[Suggestion]] = {}
    for role, skills in role_skills.items():
        taken = assigned.get(role, set())
        accounts = CASE_ROLE_ACCOUNTS.get(role, RESPONDING_ACCOUNTS)
        ranked = [
            score(c, skills) for c in eligible if c.user_id not in taken and c.roles & accounts
        ]
        ranked.sort(key=lambda s: (-s.score, s.candidate.username))
        by_role[role] = ranked[:limit]
    return Suggestions(by_role, excluded)
