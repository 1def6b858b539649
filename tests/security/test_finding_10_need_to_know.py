"""Finding 10: PR and committee listed every case through the measures form and the documents
index; a paged person who was not a member could assign people to a case."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.creation import create_case
from csirt.cases.models import CaseMember
from csirt.teams.models import AckKind, Acknowledgement
from tests.conftest import csrf_from, login
from tests.factories import UserFactory, assign_to_case


def _two_cases(db_session: Session, users: UserFactory):
    lead = users.create(roles=["lead"]).user
    mine = create_case(db_session, title="PR担当の事案", actor=lead)
    other = create_case(db_session, title="関係のない秘密の事案", actor=lead)
    db_session.commit()
    return mine, other


def test_pr_and_committee_see_only_cases_they_are_assigned_to(
    app: Flask, users: UserFactory, db_session: Session
):
    mine, other = _two_cases(db_session, users)
    for role, page in (("pr", "/console/documents/"), ("committee", "/console/measures/new")):
        created = users.create(roles=[role])
        db_session.commit()
        client = app.test_client()
        assert login(client, created.user.username, created.password).status_code == 302
        before = client.get(page)
        assert before.status_code == 200
        assert other.reference not in before.text
        assert other.title not in before.text
        assert mine.reference not in before.text
        assign_to_case(db_session, created.user, mine.id, role)
        after = client.get(page)
        assert mine.reference in after.text
        assert other.reference not in after.text
        assert other.title not in after.text
        assert client.get(f"/console/cases/{other.id}/documents").status_code == 404
    measures = client.get("/console/measures/new")
    assert other.title not in measures.text


def _assign(client: FlaskClient, case_id: int, username: str, role: str = "investigator"):
    page = client.get(f"/console/cases/{case_id}/team")
    assert page.status_code == 200
    return client.post(
        f"/console/cases/{case_id}/team/assign",
        data={"csrf_token": csrf_from(page.text), "username": username, "role": role},
    )


def test_a_paged_outsider_cannot_assign_others(app: Flask, users: UserFactory, db_session: Session):
    mine, _other = _two_cases(db_session, users)
    paged = users.create(roles=["responder"])
    friend = users.create(roles=["responder"])
    db_session.add(Acknowledgement(case_id=mine.id, user_id=paged.user.id, kind=AckKind.PAGE.value))
    db_session.commit()
    client = app.test_client()
    assert login(client, paged.user.username, paged.password).status_code == 302
    refused = _assign(client, mine.id, friend.user.username)
    assert refused.status_code == 403
    members = db_session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == mine.id))
    assert friend.user.id not in set(members)
    # Taking the case himself is what a page asks for.
    taken = _assign(client, mine.id, paged.user.username)
    assert taken.status_code == 302
    # Now a member, he may assign others.
    assert _assign(client, mine.id, friend.user.username).status_code == 302
