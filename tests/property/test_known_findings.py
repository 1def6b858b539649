"""Faults the fuzzers found, now fixed: each stays as a regression test."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import BACKEND
from tests.property.conftest import Targets


def test_a_control_character_in_a_case_title_does_not_break_the_docx_export(
    client: FlaskClient, targets: Targets
) -> None:
    auth = {"Authorization": f"Bearer {targets.token}"}
    patched = client.patch(
        f"/api/v1/cases/{targets.case_id}", json={"title": "Leak\x01"}, headers=auth
    )
    assert patched.status_code in {200, 422}
    response = client.get(f"/api/v1/documents/{targets.document_id}/docx", headers=auth)
    response.close()
    assert response.status_code < 500


# SQLite's driver refuses ints beyond 64 bits; PostgreSQL's integer columns end at 2**31 - 1.
TOO_BIG = 2**40 if BACKEND == "postgres" else 2**64


def test_an_id_beyond_the_id_columns_is_a_404(client: FlaskClient, targets: Targets) -> None:
    auth = {"Authorization": f"Bearer {targets.token}"}
    response = client.get(f"/api/v1/cases/{TOO_BIG}", headers=auth)
    assert response.status_code == 404
