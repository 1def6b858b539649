"""A committee period that ends before it starts is a form error, and nothing is saved."""

from __future__ import annotations

from sqlalchemy.orm import Session

from csirt.documents.models import DocumentContext
from tests.conftest import csrf_from
from tests.documents.conftest import make_demo_case


def test_reversed_committee_period_is_refused(client, login_as, db_session: Session, users):
    demo = make_demo_case(db_session, users.create(roles=["lead"]).user)
    db_session.commit()
    login_as("lead")
    url = f"/console/cases/{demo.case.id}/documents/facts"
    before = db_session.get(DocumentContext, demo.case.id)
    committee_before = dict(before.committee or {}) if before is not None else None
    page = client.get(url)
    refused = client.post(
        url,
        data={
            "csrf_token": csrf_from(page.text),
            "ppc_stage": "final",
            "committee_name": "検証委員会",
            "committee_period_start": "2016-03-31",
            "committee_period_end": "2015-12-01",
        },
    )
    assert refused.status_code == 400
    assert "committee_period_end-err" in refused.text
    db_session.expire_all()
    after = db_session.get(DocumentContext, demo.case.id)
    assert (dict(after.committee or {}) if after is not None else None) == committee_before
