"""Fixtures of the audit-review tests: people signed in through the real forms, doing real work.

Every audit event these tests look at is written by a real request through the Flask test client
(a case page, a report opened, an attachment, an identity, evidence, an export). Only the audit
log's clock is chosen by the test (:class:`AuditClock`), so that a day's pattern (30 cases in an
hour, a view at 23:00, four weeks of history) can be replayed in a second.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config
from csirt.audit import service as audit_service
from csirt.auth.models import User
from csirt.cases.creation import create_case
from csirt.cases.models import Case, CaseMember
from csirt.db import utcnow
from csirt.intake import reporter as intake_reporter
from csirt.intake import web as intake_web
from csirt.intake.models import IdentityRequest
from tests.conftest import csrf_from, login, make_config
from tests.factories import CreatedUser, UserFactory

TOKYO = ZoneInfo("Asia/Tokyo")
# A Tuesday: 10:00 in Tokyo is inside the default working hours.
DAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=TOKYO)

TIP: dict[str, Any] = {
    "what_happened": "有権者名簿らしきファイルがレンタルサーバーに置かれている",
    "where_seen": "https://example.invalid/list.csv",
    "when_seen": "2015-06-24",
    "data_items": ["name", "address"],
    "persons_estimate": 680000,
    "reporter_is_insider": False,
    "whistleblower": True,
}


@pytest.fixture
def config(database_url: str, tmp_path) -> Config:
    # English pages, so that the tests read the source strings.
    return make_config(database_url, tmp_path / "instance", default_lang="en")


class AuditClock:
    """The time the audit log stamps on events; ``None`` means the real time."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now if self.now is not None else utcnow()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> AuditClock:
    chosen = AuditClock()
    monkeypatch.setattr(audit_service, "utcnow", chosen)
    return chosen


@dataclass
class Person:
    """A staff member signed in through the login form, with their own browser (client)."""

    created: CreatedUser
    client: FlaskClient

    @property
    def user(self) -> User:
        return self.created.user

    @property
    def username(self) -> str:
        return self.created.user.username

    def get(self, url: str, status: int = 200) -> Any:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code)
        return response

    def post_form(self, page: str, action: str, data: dict[str, Any], **kwargs: Any) -> Any:
        token = csrf_from(self.client.get(page).text)
        return self.client.post(action, data={"csrf_token": token, **data}, **kwargs)


class World:
    """Real people, cases and reports; every watched action happens through a real request."""

    def __init__(
        self, app: Flask, db_session: Session, users: UserFactory, clock: AuditClock
    ) -> None:
        self.app = app
        self.db = db_session
        self.users = users
        self.clock = clock

    def person(self, *roles: str, username: str | None = None) -> Person:
        needs_totp = bool({"intake_officer", "custodian", "admin"} & set(roles))
        created = self.users.create(
            roles=list(roles) or ["responder"], username=username, totp=needs_totp
        )
        self.db.commit()
        client = self.app.test_client()
        signed_in = login(client, created.user.username, created.password, created.totp_seed)
        assert signed_in.status_code == 302, signed_in.text
        person = Person(created, client)
        if {"intake_officer", "custodian"} & set(roles):
            # The key pair made at the first sign-in: its one-time recovery key is shown once.
            person.get("/console/intake/key")
        return person

    def cases(self, count: int, members: Iterable[Person] = ()) -> list[Case]:
        lead = self.users.create(roles=["lead"]).user
        made = [create_case(self.db, title=f"事案 {n}", actor=lead) for n in range(count)]
        self.db.flush()
        for person in members:
            for case in made:
                self.db.add(CaseMember(case_id=case.id, user_id=person.user.id, role="observer"))
        self.db.commit()
        return made

    def tips(self, count: int, **extra: Any) -> list[int]:
        """Reports as the public form stores them (sealed to the officers who hold keys)."""
        settings = intake_web.settings(self.db, self.app)
        uploads = extra.pop("uploads", ())
        ids = [
            intake_reporter.submit(
                self.db, settings, dict(TIP, **extra), "ja", uploads
            ).submission_id
            for _ in range(count)
        ]
        self.db.commit()
        return ids

    def _at(self, start: datetime | None, every: timedelta, n: int) -> None:
        self.clock.now = None if start is None else start + n * every

    def view_cases(
        self,
        who: Person,
        cases: Sequence[Case],
        *,
        start: datetime | None = DAY_10AM,
        every: timedelta = timedelta(minutes=1),
    ) -> None:
        """``who`` opens each case's page in turn (GET /console/cases/<id>)."""
        for n, case in enumerate(cases):
            self._at(start, every, n)
            who.get(f"/console/cases/{case.id}")
        self.clock.now = None

    def export_timelines(
        self,
        who: Person,
        cases: Sequence[Case],
        *,
        start: datetime | None = DAY_10AM,
        every: timedelta = timedelta(minutes=1),
    ) -> None:
        """``who`` downloads each case's timeline as CSV (an export)."""
        for n, case in enumerate(cases):
            self._at(start, every, n)
            who.get(f"/console/cases/{case.id}/timeline.csv")
        self.clock.now = None

    def open_reports(
        self,
        who: Person,
        submission_ids: Sequence[int],
        *,
        start: datetime | None = DAY_10AM,
        every: timedelta = timedelta(minutes=1),
    ) -> None:
        """An intake officer decrypts each report (GET /console/intake/<id>)."""
        for n, submission_id in enumerate(submission_ids):
            self._at(start, every, n)
            who.get(f"/console/intake/{submission_id}")
        self.clock.now = None

    def request_identity(self, officer: Person, submission_id: int) -> IdentityRequest:
        page = f"/console/intake/{submission_id}"
        response = officer.post_form(
            page,
            f"{page}/identity/request",
            {
                "reason": "需要: 事実確認のため、通報者に直接確認したい",
                "justification": "メールボックスでの問い合わせに回答がなく、調査の継続に不可欠",
            },
        )
        assert response.status_code == 302, response.text
        return self.db.scalars(
            select(IdentityRequest)
            .where(IdentityRequest.submission_id == submission_id)
            .order_by(IdentityRequest.id.desc())
        ).first()  # type: ignore[return-value]

    def decide_identity(self, custodian: Person, request_id: int, decision: str) -> None:
        page = "/console/intake/identity-requests"
        response = custodian.post_form(
            page, f"{page}/{request_id}", {"decision": decision, "note": "確認済み"}
        )
        assert response.status_code == 302, response.text

    def upload_evidence(self, who: Person, case: Case, content: bytes) -> int:
        page = f"/console/cases/{case.id}/evidence"
        response = who.post_form(
            page,
            page,
            {
                "kind": "web_capture",
                "url": "https://bbs.example/thread/1",
                "captured_at": "2015-05-01T12:00",
                "file": (io.BytesIO(content), "capture.html"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.text
        match = re.search(r"/evidence/(\d+)", response.headers["Location"])
        assert match is not None
        return int(match.group(1))


@pytest.fixture
def world(app: Flask, db_session: Session, users: UserFactory, clock: AuditClock) -> World:
    return World(app, db_session, users, clock)
