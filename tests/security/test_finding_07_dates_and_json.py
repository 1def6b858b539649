"""Finding 7: out-of-range dates and deeply nested JSON were 500s; now 4xx problems."""

from __future__ import annotations

import pytest

from csirt.api.limits import MAX_DEPTH

OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_case_aware_at_out_of_range_is_422(client, lead_api, value):
    _lead, headers, case_id = lead_api
    created = client.post("/api/v1/cases", json={"title": "x", "aware_at": value}, headers=headers)
    assert created.status_code == 422
    assert "aware_at" in created.json["errors"]
    patched = client.patch(f"/api/v1/cases/{case_id}", json={"aware_at": value}, headers=headers)
    assert patched.status_code == 422


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_every_record_date_out_of_range_is_422(client, lead_api, value):
    _lead, headers, case_id = lead_api
    base = f"/api/v1/cases/{case_id}"
    bodies = {
        "/timeline": ({"occurred_at": value, "title": "t"}, "occurred_at"),
        "/tasks": ({"title": "t", "due_at": value}, "due_at"),
        "/liaison": (
            {"party_kind": "police", "party": "p", "contact_at": value},
            "contact_at",
        ),
        "/takedowns": (
            {"recipient": "r", "url": "https://a.example/x", "requested_at": value},
            "requested_at",
        ),
    }
    for path, (body, field) in bodies.items():
        response = client.post(base + path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.status_code)
        assert field in response.json["errors"], (path, response.json)
    day = client.post(
        base + "/timeline", json={"occurred_at": "0001-01-01", "title": "t"}, headers=headers
    )
    assert day.status_code == 422


def test_triage_evaluate_out_of_range_is_4xx(client, lead_api):
    _lead, headers, _case_id = lead_api
    response = client.post(
        "/api/v1/triage/evaluate",
        json={"aware_at": OUT_OF_RANGE[0], "datasets": []},
        headers=headers,
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/triage/evaluate"])
def test_deeply_nested_json_is_a_problem_not_a_500(client, lead_api, path):
    _lead, headers, _case_id = lead_api
    for depth in (MAX_DEPTH + 1, 100_000):
        body = "[" * depth + "]" * depth
        response = client.post(
            path, data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, (depth, response.status_code)
        assert response.mimetype == "application/problem+json"
    nested = '{"title": "x", "tags": ' + "[" * 20 + "]" * 20 + "}"
    shallow = client.post(
        path, data=nested, headers={**headers, "Content-Type": "application/json"}
    )
    assert shallow.status_code in (400, 422)


def test_oversized_json_is_413(client, lead_api):
    _lead, headers, _case_id = lead_api
    body = '{"title": "' + "x" * (1024 * 1024 + 10) + '"}'
    response = client.post(
        "/api/v1/cases", data=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_console_date_fields_out_of_range_are_form_errors(client, login_as, value):
    from tests.conftest import csrf_from

    login_as("lead")
    page = client.get("/console/cases/new")
    created = client.post(
        "/console/cases/new",
        data={
            "csrf_token": csrf_from(page.text),
            "title": "範囲外",
            "priority": "P3",
            "tlp": "amber",
            "aware_at": value,
        },
    )
    assert created.status_code == 400
    assert "1900-01-01" in created.text


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_triage_evaluate_dates_out_of_range_are_422(client, lead_api, value):
    _lead, headers, _case_id = lead_api
    from tests.triage.test_api import FOUNDING

    for field in ("aware_at", "reported_at", "acknowledged_at"):
        body = {**FOUNDING, field: value}
        response = client.post("/api/v1/triage/evaluate", json=body, headers=headers)
        assert response.status_code == 422, (field, response.status_code)
        assert set(response.json["errors"]) == {field}, response.json
