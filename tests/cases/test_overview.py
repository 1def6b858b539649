"""A case's page reads its related cases and linked reports only when it has some: the
overview's one statement counts them (cases.overview), most cases have neither."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from csirt.cases.links import link_cases
from tests.factories import CaseFactory
from tests.test_scale import statements


def test_a_case_page_reads_related_cases_only_when_it_has_some(
    client: FlaskClient,
    login_as: Any,
    db_session: Session,
    cases: CaseFactory,
    connection: Connection,
) -> None:
    lead = login_as("lead")
    case, other = cases.create(actor=lead), cases.create(actor=lead, title="名簿の別件")
    db_session.commit()

    def shown() -> tuple[str, list[str]]:
        with statements(connection) as seen:
            page = client.get(f"/console/cases/{case.id}", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        return page.text, [sql for sql, _params in seen]

    alone, read = shown()
    assert not any("case_links.note" in sql for sql in read)  # the related cases' statement
    assert not any("submission_messages" in sql for sql in read)  # the linked reports'
    assert other.reference not in alone

    link_cases(db_session, case, other, lead, "同一職員による持ち出し")
    db_session.commit()
    linked, read = shown()
    assert any("case_links.note" in sql for sql in read)
    assert other.reference in linked
    assert "同一職員による持ち出し" in linked
