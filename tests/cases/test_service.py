"""Cases: references, need-to-know, the keyset list."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from csirt.cases.creation import create_case
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.listing import list_cases
from csirt.cases.models import CaseMember, Priority
from csirt.cases.need_to_know import get_case_for
from tests.factories import UserFactory


def test_references_are_sequential_per_year(db_session: Session, users: UserFactory):
    actor = users.create(roles=["lead"]).user
    first = create_case(db_session, title="A", actor=actor)
    second = create_case(db_session, title="B", actor=actor)
    year = first.created_at.year
    assert first.reference.startswith(f"CSIRT-{year}-")
    assert int(second.reference[-4:]) == int(first.reference[-4:]) + 1


def test_need_to_know(db_session: Session, users: UserFactory):
    creator = users.create(roles=["intake_officer"]).user
    member = users.create(roles=["responder"]).user
    outsider = users.create(roles=["responder"]).user
    lead = users.create(roles=["lead"]).user
    case = create_case(db_session, title="Leak", actor=creator, priority=Priority.P1)
    db_session.add(CaseMember(case_id=case.id, user_id=member.id, role="investigator"))
    db_session.flush()
    assert get_case_for(db_session, member, case.id) is case
    assert get_case_for(db_session, lead, case.id) is case
    with pytest.raises(CaseNotFoundError):
        get_case_for(db_session, outsider, case.id)
    with pytest.raises(CaseNotFoundError):
        get_case_for(db_session, lead, 10**9)
    assert list_cases(db_session, outsider).items == []
    assert case in list_cases(db_session, member).items


def test_keyset_pagination_and_filters(db_session: Session, users: UserFactory):
    lead = users.create(roles=["lead"]).user
    made = [
        create_case(
            db_session,
            title=f"Case {i}",
            actor=lead,
            priority=Priority.P1 if i % 2 else Priority.P3,
        )
        for i in range(7)
    ]
    seen = []
    cursor = None
    while True:
        page = list_cases(db_session, lead, limit=3, cursor=cursor)
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    ours = [c.id for c in made]
    assert [i for i in seen if i in ours] == sorted(ours, reverse=True)
    p1 = list_cases(db_session, lead, priority="P1", limit=100).items
    assert {c.id for c in p1} >= {c.id for c in made if c.priority == "P1"}
    assert all(c.priority == "P1" for c in p1)
    detect = list_cases(db_session, lead, phase="detect", limit=100).items
    assert all(c.phase == "detect" for c in detect)


def test_case_list_page_filters(client, login_as, db_session: Session):
    user = login_as("lead")
    create_case(db_session, title="ネット上の不審な情報", actor=user, priority=Priority.P1)
    db_session.commit()
    page = client.get("/console/cases/?priority=P1&phase=detect")
    assert page.status_code == 200
    assert "ネット上の不審な情報" in page.text
    assert "ネット上の不審な情報" not in client.get("/console/cases/?priority=P4").text
    assert client.get("/console/cases/?priority=bogus&phase=bogus").status_code == 200
