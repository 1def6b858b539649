"""Demo data: one user per role and a case modelled on the founding story (Sakai, 2015)."""

from __future__ import annotations

import os
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from config import Config
from csirt import demo_story
from csirt.audit import service as audit
from csirt.auth import service as auth_service
from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.cases.creation import create_case
from csirt.cases.models import Case, CaseCounter, CaseMember, Priority, Task, TimelineEvent
from csirt.cases.playbooks import apply_playbook
from csirt.cases.roles import CaseRole
from csirt.cases.search import rebuild as rebuild_search_index
from csirt.cases.tagging import set_tags
from csirt.catalog import load_catalog
from csirt.db import utcnow
from csirt.intake import staff_keys
from csirt.intake.escrow import Escrow

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


def _enrich_demo_case(session: Session, case: Case, lead: User, config: Config) -> None:
    """The founding story's public facts (playbooks/demo/sakai-2015.yaml: organisation contact,
    timeline, data sets, facts for documents, measures), tags and the internet-leak playbook's
    tasks, so that every document kind exports cleanly from a fresh `make run`."""
    demo_story.seed_story(
        session,
        case,
        lead,
        zone=config.tz,
        org_fallback=config.org_name,
        path=demo_story.story_path(config.playbooks_path),
    )
    set_tags(session, case, ["選挙人名簿", "内部不正", "インターネット掲載"], lead)
    registry = load_catalog(config.playbooks_path).playbooks
    if "internet_leak" in registry:
        apply_playbook(session, case, registry["internet_leak"], lead, "ja")
    session.flush()


BULK_WORDS = ("不正アクセス", "誤送信", "紛失", "ランサムウェア", "流出", "phishing", "USB", "名簿")


def bulk_seed(session: Session, cases: int, events_per_case: int, batch: int = 2000) -> float:
    """Insert many synthetic cases (with a task each, events and their search index) for benchmarks.

    Multi-row INSERTs in batches, explicit ids, no ORM objects: 100,000 cases take seconds.
    Returns the seconds taken.
    """
    started = time.perf_counter()
    rng = random.Random(20150624)  # noqa: S311 - synthetic benchmark data, not security
    now = utcnow()
    year = now.year
    first_id = int(session.scalar(select(func.max(Case.id))) or 0) + 1
    counter = session.get(CaseCounter, year)
    if counter is None:
        counter = CaseCounter(year=year, last=0)
        session.add(counter)
        session.flush()
    first_number = counter.last + 1
    session.execute(
        update(CaseCounter).where(CaseCounter.year == year).values(last=CaseCounter.last + cases)
    )
    lead_id = session.scalar(select(User.id).where(User.username == "lead"))
    next_event_id = int(session.scalar(select(func.max(TimelineEvent.id))) or 0) + 1
    next_task_id = int(session.scalar(select(func.max(Task.id))) or 0) + 1
    phases = ("detect", "analyse", "contain", "eradicate", "recover", "post_incident", "closed")
    for start in range(0, cases, batch):
        case_rows, member_rows, task_rows, event_rows = [], [], [], []
        for offset in range(start, min(start + batch, cases)):
            case_id = first_id + offset
            created = now - timedelta(minutes=(cases - offset) * 5)
            phase = phases[rng.randrange(len(phases))]
            title = f"事案{offset + 1} {rng.choice(BULK_WORDS)}"
            case_rows.append(
                {
                    "id": case_id,
                    "reference": f"CSIRT-{year}-{first_number + offset:04d}",
                    "title": title,
                    "summary": "",
                    "phase": phase,
                    "outcome": "resolved" if phase == "closed" else None,
                    "priority": rng.choice(("P1", "P2", "P3", "P3", "P4", "P4")),
                    "tlp": "amber",
                    "aware_at": created,
                    "insider": False,
                    "wrongful_intent": False,
                    "ongoing": False,
                    "involved": [],
                    "created_by_id": lead_id,
                    "created_at": created,
                    "updated_at": created,
                    "acknowledged_at": created + timedelta(hours=rng.randint(1, 48))
                    if phase != "detect"
                    else None,
                    "closed_at": created + timedelta(days=rng.randint(1, 60))
                    if phase == "closed"
                    else None,
                }
            )
            if lead_id is not None:
                member_rows.append(
                    {"case_id": case_id, "user_id": lead_id, "role": "lead", "added_at": created}
                )
            task_rows.append(
                {
                    "id": next_task_id + offset,
                    "case_id": case_id,
                    "title": "初動対応",
                    "description": "",
                    "phase": "detect",
                    "required": True,
                    "status": "done" if phase != "detect" else "open",
                    "due_at": created + timedelta(hours=4),
                    "created_at": created,
                }
            )
            for n in range(events_per_case):
                event_rows.append(
                    {
                        "id": next_event_id + offset * events_per_case + n,
                        "case_id": case_id,
                        "occurred_at": created + timedelta(minutes=n),
                        "precision": "minute",
                        "recorded_at": created,
                        "source": "bench",
                        "actor": "",
                        "title": f"事象 {n + 1}",
                        "description": "",
                        "category": "event",
                        "visibility": "internal",
                        "automatic": False,
                        "created_by_id": None,
                        "evidence_ids": [],
                    }
                )
        # Core executemany on the connection: no ORM bookkeeping per row.
        connection = session.connection()
        connection.execute(insert(Case), case_rows)
        if member_rows:
            connection.execute(insert(CaseMember), member_rows)
        connection.execute(insert(Task), task_rows)
        for chunk in range(0, len(event_rows), 10000):
            connection.execute(insert(TimelineEvent), event_rows[chunk : chunk + 10000])
        batch_ids = range(first_id + start, first_id + min(start + batch, cases))
        rebuild_search_index(connection, batch_ids)  # titles and events
    if session.get_bind().dialect.name == "postgresql":
        for table in ("cases", "tasks", "timeline_events"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    session.flush()
    return time.perf_counter() - started


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
            email=f"{username}@demo.example.jp",  # so that mail notifications reach someone
            department=department,
        )
        # Intake officers and custodians hold a key pair from the start, so that a tip sent
        # before anyone signs in is sealed to them (csirt.intake.staff_keys).
        staff_keys.provide_keypair(
            session,
            users[role],
            password,
            actor=actor,
            escrow=Escrow.from_config(config),
            testing=config.testing,
        )
        logins.append(DemoLogin(role, username, password))
    Escrow.from_config(config).ensure_public_key(session)
    # A demo is explored by hand: no authenticator app needed. Admin -> Security turns it on.
    auth_service.set_totp_required_roles(session, [], actor=actor)
    tokyo = ZoneInfo("Asia/Tokyo")
    create_case(
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

    session.add(
        CaseMember(case_id=case.id, user_id=users[Role.RESPONDER].id, role=CaseRole.INVESTIGATOR)
    )
    # PR and the committee reach a case's documents only when assigned to it (issue 14).
    session.add(CaseMember(case_id=case.id, user_id=users[Role.PR].id, role=CaseRole.PR))
    session.add(
        CaseMember(case_id=case.id, user_id=users[Role.COMMITTEE].id, role=CaseRole.COMMITTEE)
    )
    _enrich_demo_case(session, case, users[Role.LEAD], config)
    # --- teams (csirt.teams) -------------------------------------------------------------
    from csirt.teams.demo import seed_teams

    seed_teams(session, {u.username: u for u in users.values()}, datetime.now(tokyo).date())
    # --- end teams -----------------------------------------------------------------------
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
