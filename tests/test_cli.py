"""The CLI contract: db upgrade, user create, token create, demo seed, audit verify."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth import service
from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.cases.models import Case


def test_user_create_with_password_on_stdin(runner, db_session: Session):
    result = runner.invoke(
        args=["user", "create", "carol", "--role", "lead", "--role", "pr", "--password-stdin"],
        input="a sufficiently long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = service.get_user(db_session, "carol")
    assert user is not None
    assert user.role_set == {Role.LEAD, Role.PR}
    assert user.password_hash.startswith("$argon2id$")


def test_user_create_rejects_weak_password_and_duplicates(runner):
    weak = runner.invoke(
        args=["user", "create", "dave", "--role", "pr", "--password-stdin"], input="short\n"
    )
    assert weak.exit_code != 0
    assert "password" in weak.output
    ok = runner.invoke(
        args=["user", "create", "dave", "--role", "pr", "--password-stdin"],
        input="a sufficiently long passphrase\n",
    )
    assert ok.exit_code == 0
    again = runner.invoke(
        args=["user", "create", "dave", "--role", "pr", "--password-stdin"],
        input="a sufficiently long passphrase\n",
    )
    assert again.exit_code != 0
    assert "exists" in again.output


def test_token_create_prints_only_the_token(runner, client):
    runner.invoke(
        args=["user", "create", "erin", "--role", "responder", "--password-stdin"],
        input="a sufficiently long passphrase\n",
    )
    result = runner.invoke(args=["token", "create", "erin"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("csirt_")
    assert "\n" not in token
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["username"] == "erin"
    missing = runner.invoke(args=["token", "create", "nobody"])
    assert missing.exit_code != 0


def test_demo_seed_creates_every_role_and_the_founding_case(runner, db_session: Session, app):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    usernames = set(db_session.scalars(select(User.username)))
    roles = {r for u in db_session.scalars(select(User)) for r in u.role_set}
    assert roles == set(Role)
    for line in result.output.splitlines()[2:10]:
        assert line.split()[1] in usernames
    case = db_session.scalar(select(Case).where(Case.priority == "P1"))
    assert case is not None
    assert "選挙人名簿" in case.title
    assert case.insider
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0
    assert again.output == result.output  # idempotent: same logins, nothing new
    assert db_session.scalar(select(User).where(User.username == "admin")) is not None


def test_help_lists_the_contract(runner):
    result = runner.invoke(args=["--help"])
    for command in ("db", "user", "token", "demo", "audit"):
        assert command in result.output


def test_bulk_demo_seed_fills_cases_events_and_search(runner, db_session: Session, client):
    from sqlalchemy import func

    from csirt.cases.models import Task, TimelineEvent

    before = db_session.scalar(select(func.count()).select_from(Case)) or 0
    result = runner.invoke(args=["demo", "seed", "--cases", "30", "--events-per-case", "3"])
    assert result.exit_code == 0, result.output
    assert "30 cases" in result.output
    assert db_session.scalar(select(func.count()).select_from(Case)) == before + 31  # + founding
    bulk = db_session.scalars(select(Case).order_by(Case.id.desc()).limit(30)).all()
    ids = [c.id for c in bulk]
    events = db_session.scalar(
        select(func.count()).select_from(TimelineEvent).where(TimelineEvent.case_id.in_(ids))
    )
    assert events == 90
    assert (
        db_session.scalar(select(func.count()).select_from(Task).where(Task.case_id.in_(ids))) == 30
    )
    references = {c.reference for c in bulk}
    assert len(references) == 30  # dense, unique references
