"""Fixtures for the case records: a case the signed-in responder works on, an API token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.cases.models import Case, CaseMember
from csirt.records.blobs import EvidenceBlob, store_for
from csirt.records.storage import FileEvidenceStore
from tests.factories import FACTORY, CaseFactory, UserFactory


@pytest.fixture
def responder(login_as: Any) -> Any:
    """A signed-in responder (CASE_VIEW + CASE_EDIT, member of ``case`` only)."""
    return login_as("responder")


@pytest.fixture
def case(cases: CaseFactory, responder: Any) -> Case:
    made: Case = cases.create(title="名簿の流出", actor=responder, commit=True)
    return made


@pytest.fixture
def other_case(cases: CaseFactory) -> Case:
    """A case the responder is not a member of (created by a new lead)."""
    made: Case = cases.create(title="Other", commit=True)
    return made


class Api:
    """A bearer-token client for one user."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kwargs)


@pytest.fixture
def api(app: Any, db_session: Session, users: UserFactory, case: Case) -> Api:
    """A responder with a token who is a member of ``case`` (own client, no cookies)."""
    user = users.create(roles=["responder"]).user
    db_session.add(CaseMember(case_id=case.id, user_id=user.id, role="investigator"))
    _token, plain = auth_service.create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    return Api(app.test_client(), plain)


@pytest.fixture
def evidence_dir(app: Any) -> Any:
    return app.config["CSIRT"].instance_path / "evidence"


class Blobs:
    """The app's evidence store as the backend has it (database on PostgreSQL, else folder)."""

    def __init__(self, session: Session, instance: Path) -> None:
        self.session = session
        self.folder = instance / "evidence"
        self.store = store_for(session, instance)

    def read(self, sha: str) -> bytes:
        with self.store.open(f"{sha[:2]}/{sha}") as content:
            return content.read()

    def remove(self, sha: str) -> None:
        if isinstance(self.store, FileEvidenceStore):
            (self.folder / sha[:2] / sha).chmod(0o600)
            (self.folder / sha[:2] / sha).unlink()
        else:
            self.session.execute(delete(EvidenceBlob).where(EvidenceBlob.sha256 == sha))

    def none(self) -> bool:
        files = self.folder.exists() and any(self.folder.rglob("*/*"))
        rows = self.session.scalar(select(func.count()).select_from(EvidenceBlob))
        return not files and not rows


@pytest.fixture
def blobs(app: Any, db_session: Session) -> Blobs:
    return Blobs(db_session, app.config["CSIRT"].instance_path)
