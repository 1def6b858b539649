"""Finding 1: a stale session minted a token and exported through the API without re-auth."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth.models import ApiToken
from tests.conftest import csrf_from
from tests.documents.conftest import make_demo_case
from tests.security.conftest import bearer

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _age_session(client: FlaskClient, minutes: int) -> None:
    with client.session_transaction() as sess:
        old = (datetime.fromisoformat(sess["auth_at"]) - timedelta(minutes=minutes)).isoformat()
        sess["auth_at"] = old
        sess.pop("reauth_at", None)


def _mint(client: FlaskClient, *scopes: str):
    page = client.get("/console/account")
    return client.post(
        "/console/account/tokens",
        data={
            "csrf_token": csrf_from(page.text),
            "name": "script",
            "scopes": list(scopes),
            "reauth_next": "/console/account",
        },
    )


def test_stale_session_cannot_mint_a_token(client, login_as, db_session: Session):
    lead = login_as("lead")
    _age_session(client, 60)
    response = _mint(client, "read", "export")
    assert response.status_code == 302
    assert "/console/reauth" in response.headers["Location"]
    assert db_session.scalars(select(ApiToken).where(ApiToken.user_id == lead.id)).all() == []


def test_fresh_session_mints_a_token_with_the_chosen_scopes(client, login_as, db_session):
    lead = login_as("lead")
    response = _mint(client, "export")
    assert response.status_code == 200
    token = db_session.scalars(select(ApiToken).where(ApiToken.user_id == lead.id)).one()
    assert token.scopes == "read export"  # read is implied


def test_export_by_token_needs_the_export_scope(client, users, db_session: Session):
    lead = users.create(roles=["lead"]).user
    case_id = make_demo_case(db_session, lead).case.id
    db_session.commit()
    plain = bearer(db_session, lead)  # default scopes: read, write
    created = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=plain,
    )
    assert created.status_code == 201, created.json
    url = f"/api/v1/documents/{created.json['id']}/docx"
    refused = client.get(url, headers=plain)
    assert refused.status_code == 403
    assert "export" in refused.json["detail"]
    with_export = bearer(db_session, lead, "read", "export")
    allowed = client.get(url, headers=with_export)
    assert allowed.status_code == 200, allowed.json
    assert allowed.mimetype == DOCX
    uses = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "token.scope_use")
    ).all()
    assert [u.details["endpoint"] for u in uses] == ["api_documents.docx"]
    # Writing needs the write scope; the timeline CSV is an export too.
    read_only = bearer(db_session, lead, "read")
    assert client.get(f"/api/v1/cases/{case_id}", headers=read_only).status_code == 200
    patched = client.patch(f"/api/v1/cases/{case_id}", json={"summary": "x"}, headers=read_only)
    assert patched.status_code == 403
    assert client.get(f"/api/v1/cases/{case_id}/timeline.csv", headers=plain).status_code == 403
    csv_ok = client.get(f"/api/v1/cases/{case_id}/timeline.csv", headers=with_export)
    assert csv_ok.status_code == 200


def test_every_file_download_of_the_api_is_an_export(app):
    from csirt.auth.access import is_export

    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule.endswith((".csv", "/docx")):
            assert is_export(app, rule.endpoint), rule.rule


def test_cli_token_create_takes_scopes(runner, users, db_session):
    user = users.create(roles=["lead"]).user
    db_session.commit()
    result = runner.invoke(
        args=["token", "create", user.username, "--scope", "read", "--scope", "export"]
    )
    assert result.exit_code == 0, result.output
    token = db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.scopes == "read export"
    default = runner.invoke(args=["token", "create", user.username])
    assert default.exit_code == 0
    bad = runner.invoke(args=["token", "create", user.username, "--scope", "admin"])
    assert bad.exit_code != 0


def test_tokens_from_before_the_scopes_keep_read_and_write_only(tmp_path, app):
    """Migration 0012: an existing token gets ``read write``, never ``export``."""
    from sqlalchemy import text

    from csirt.db import make_engine
    from csirt.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0011")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, password_hash, password_changed_at,"
                " session_token, totp_enabled, active, failed_logins, created_at)"
                " VALUES ('old', 'old', 'x', '2026-01-01 00:00:00', 't', 0, 1, 0,"
                " '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)"
                " VALUES (1, 'old', 'h', 'csirt_x', '2026-01-01 00:00:00')"
            )
        )
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT scopes FROM api_tokens")).scalar() == "read write"
    engine.dispose()
