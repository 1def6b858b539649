"""A case's console actions (cases.access.case_action): the permission, then the case (404),
then the form (400, or the page again with the form's errors)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import csrf_from


def test_a_missing_case_is_404_before_its_form_is_read(client: FlaskClient, login_as: Any) -> None:
    login_as("lead")
    token = csrf_from(client.get("/console/cases/new").text)
    for action in ("priority", "phase", "close", "checklist", "links/1/delete", "timeline/import"):
        sent = client.post(f"/console/cases/999999/{action}", data={"csrf_token": token})
        assert sent.status_code == 404, action


def test_a_refused_form_answers_400(
    client: FlaskClient, login_as: Any, make_case: Any, db_session: Any
) -> None:
    login_as("lead")
    case = make_case()
    db_session.commit()
    overview = client.get(f"/console/cases/{case.id}")
    assert overview.status_code == 200
    token = csrf_from(overview.text)
    # A priority without its fields, a checklist item the case does not have: a plain 400
    for action in ("priority", "checklist"):
        sent = client.post(f"/console/cases/{case.id}/{action}", data={"csrf_token": token})
        assert sent.status_code == 400, action
    # The overview's own forms come back on the page with their errors
    phase = client.post(f"/console/cases/{case.id}/phase", data={"csrf_token": token})
    assert phase.status_code == 400
    assert case.title in phase.text
    close = client.post(
        f"/console/cases/{case.id}/close", data={"csrf_token": token, "outcome": "no such outcome"}
    )
    assert close.status_code == 400
    assert case.title in close.text
    # The timeline's import without a file: the timeline with the import's error
    timeline = client.post(f"/console/cases/{case.id}/timeline/import", data={"csrf_token": token})
    assert timeline.status_code == 400
    assert "CSV" in timeline.text
