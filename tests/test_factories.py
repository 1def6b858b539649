"""The factories' traits build what they say, through the services that own the rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.models import AffectedDataset, CaseMember
from csirt.triage.models import TriageRun
from tests.factories import CaseFactory, UserFactory


def test_a_plain_case_is_in_detect_with_its_creator(cases: CaseFactory, db_session: Session):
    case = cases.create(title="素の事案")
    assert case.phase == "detect"
    assert case.title == "素の事案"
    assert db_session.scalars(select(AffectedDataset).filter_by(case_id=case.id)).all() == []


def test_traits_members_datasets_phase(cases: CaseFactory, users: UserFactory, db_session: Session):
    alice = users.create(roles=["responder"]).user
    case = cases.create(members=[alice], with_datasets=4, phase="contain", commit=True)
    assert case.phase == "contain"
    roles = {
        (m.user_id, m.role)
        for m in db_session.scalars(select(CaseMember).filter_by(case_id=case.id))
    }
    assert (alice.id, "investigator") in roles
    names = db_session.scalars(
        select(AffectedDataset.name).filter_by(case_id=case.id).order_by(AffectedDataset.id)
    ).all()
    assert len(names) == 4
    assert len(set(names)) == 4


def test_triaged_runs_the_real_triage(cases: CaseFactory, db_session: Session):
    case = cases.create(triaged=True)
    run = db_session.scalars(select(TriageRun).filter_by(case_id=case.id)).first()
    assert run is not None
    # 680,000 voters' names and addresses on the internet: not a quiet case.
    assert case.priority in {"P1", "P2"}
