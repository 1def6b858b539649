"""Demo teams: the standard six, with the demo users as members, skills and a rotation."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.teams.oncall import set_rotation
from csirt.teams.people import add_member, create_team

# (slug, name, first response, [(username, skills)])
DEMO_TEAMS: tuple[tuple[str, str, bool, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    (
        "csirt-core",
        "CSIRT（コア）",
        True,
        (("lead", ("management", "forensics")), ("responder", ("forensics", "systems"))),
    ),
    ("privacy-office", "個人情報保護担当", False, (("intake", ("privacy",)),)),
    ("information-systems", "情報システム", False, (("admin", ("systems",)),)),
    ("pr", "広報", False, (("pr", ("pr",)),)),
    ("legal", "法務", False, (("custodian", ("legal",)),)),
    ("outside-experts", "外部専門家", False, (("committee", ("forensics", "legal")),)),
)


def seed_teams(session: Session, users: dict[str, User], today: date) -> None:
    """Create the standard teams; the CSIRT core rotation starts on this week's Monday."""
    for slug, name, first_response, members in DEMO_TEAMS:
        team = create_team(session, name=name, slug=slug, actor=None, first_response=first_response)
        for username, skills in members:
            if username in users:
                add_member(session, team, users[username], actor=None, skills=skills)
        monday = today - timedelta(days=today.weekday())
        set_rotation(session, team, start=monday, order=[m.id for m in team.members], actor=None)
