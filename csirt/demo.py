"""Demo data: one user per role and a case modelled on the founding story (Sakai, 2015)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config
from csirt.audit import service as audit
from csirt.auth import service as auth_service
from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.cases import service as case_service
from csirt.cases.models import Case, Priority

LOGINS_FILE = "demo-logins.txt"
DEMO_CASE_TITLE = "インターネット上の不審な情報（匿名通報）— 選挙人名簿等の流出の疑い"

DEMO_USERS: dict[Role, tuple[str, str, str]] = {
    Role.ADMIN: ("admin", "システム管理者", "情報システム課"),
    Role.INTAKE_OFFICER: ("intake", "通報窓口担当", "コンプライアンス推進室"),
    Role.CUSTODIAN: ("custodian", "通報者情報管理責任者", "法務課"),
    Role.RESPONDER: ("responder", "対応担当", "情報政策課"),
    Role.LEAD: ("lead", "CSIRT責任者", "情報政策課"),
    Role.PR: ("pr", "広報担当", "広報課"),
    Role.COMMITTEE: ("committee", "検証委員", "検証委員会（外部）"),
    Role.AUDITOR: ("auditor", "監査担当", "監査室"),
}

DEMO_SUMMARY = (
    "市政情報課ホームページの通報フォームに「インターネット上に不審な情報がある」との匿名通報。"
    "職員が作成したと思われるメール文書・事務マニュアルが検索サイトのキャッシュに残っている。"
    "職員による選挙システム・有権者データ（約68万人分：氏名、住所、生年月日、性別）の持ち出しと、"
    "個人契約のレンタルサーバー上での公開の疑い。まず個人情報の漏えいを疑い、証拠保全と通報者への連絡を急ぐ。"
)


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    password: str


def _password(username: str) -> str:
    while True:
        candidate = "demo-" + secrets.token_urlsafe(12)
        try:
            auth_service.check_password_policy(candidate, username)
        except auth_service.PasswordPolicyError:
            continue
        return candidate


def seed(session: Session, hashing: auth_service.Hashing, config: Config) -> list[DemoLogin]:
    """Create the demo users and case once; later calls change nothing and return the logins."""
    logins_path = config.instance_path / LOGINS_FILE
    if session.scalar(select(User).where(User.username == "admin")) is not None:
        return _read_logins(logins_path)
    actor = audit.Actor(None, "demo")
    logins: list[DemoLogin] = []
    users: dict[Role, User] = {}
    for role, (username, display_name, department) in DEMO_USERS.items():
        password = _password(username)
        users[role] = auth_service.create_user(
            session,
            hashing,
            username,
            password,
            [role],
            actor=actor,
            display_name=display_name,
            department=department,
        )
        logins.append(DemoLogin(role, username, password))
    # A demo is explored by hand: no authenticator app needed. Admin -> Security turns it on.
    auth_service.set_totp_required_roles(session, [], actor=actor)
    tokyo = ZoneInfo("Asia/Tokyo")
    case_service.create_case(
        session,
        title=DEMO_CASE_TITLE,
        summary=DEMO_SUMMARY,
        actor=users[Role.INTAKE_OFFICER],
        lead=users[Role.LEAD],
        priority=Priority.P1,
        aware_at=datetime(2015, 6, 24, 20, 0, tzinfo=tokyo),
        insider=True,
        ongoing=False,
        involved=["会計室"],
    )
    session.flush()
    case = session.scalar(select(Case).where(Case.title == DEMO_CASE_TITLE))
    assert case is not None
    from csirt.cases.models import CaseMember

    session.add(CaseMember(case_id=case.id, user_id=users[Role.RESPONDER].id, role="investigator"))
    _write_logins(logins_path, logins)
    return logins


def _write_logins(path: Path, logins: list[DemoLogin]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for login in logins:
            handle.write(f"{login.role.value}\t{login.username}\t{login.password}\n")


def _read_logins(path: Path) -> list[DemoLogin]:
    if not path.exists():
        return []
    logins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        role, username, password = line.split("\t")
        logins.append(DemoLogin(Role(role), username, password))
    return logins


def format_logins(logins: list[DemoLogin], config: Config) -> str:
    if not logins:
        return "demo already seeded (the logins file is gone; reset passwords with the CLI)"
    lines = [
        f"Demo logins (also in {config.instance_path / LOGINS_FILE}):",
        f"  console: {config.base_url}/console/   intake: {config.base_url}/report/",
    ]
    lines += [f"  {x.role.value:<15} {x.username:<10} {x.password}" for x in logins]
    lines.append("  Two-step sign-in is off in the demo; turn it on under Admin > Security.")
    return "\n".join(lines)
