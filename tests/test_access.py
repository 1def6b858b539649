"""Deny by default: every rule of every interface, for every role and for nobody."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from csirt.auth.access import PUBLIC_ENDPOINTS, required_permission
from csirt.auth.permissions import ROLE_PERMISSIONS, Role
from tests.conftest import login
from tests.factories import UserFactory

RECEIPT_ENDPOINTS = {"api_intake.read_mailbox", "api_intake.reply_mailbox"}
OK_WHEN_ALLOWED = {200, 201, 204, 302, 400, 404, 405, 409, 422}


def _url(rule: Rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x")
        url = url.replace(f"<path:{arg}>", "x/y").replace(f"<string:{arg}>", "x")
    return url


def _rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_endpoint_is_public_or_declares_a_permission(app: Flask):
    undeclared = [
        r.endpoint
        for r in _rules(app)
        if r.endpoint not in PUBLIC_ENDPOINTS and required_permission(app, r.endpoint) is None
    ]
    assert undeclared == []


def test_public_list_names_only_real_endpoints(app: Flask):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS


def test_anonymous_reaches_only_public_endpoints(app: Flask):
    client = app.test_client()
    for rule in _rules(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method)
            if rule.endpoint in RECEIPT_ENDPOINTS:
                # Public, but the reporter authenticates with a receipt: none given -> 401.
                assert response.status_code == 401, rule.rule
                assert response.mimetype == "application/problem+json"
            elif rule.endpoint in PUBLIC_ENDPOINTS:
                assert response.status_code not in {401, 403}, rule.rule
            elif rule.rule.startswith("/api/"):
                assert response.status_code == 401, (rule.rule, method)
                assert response.mimetype == "application/problem+json"
            else:
                assert response.status_code == 302, (rule.rule, method)
                assert "/console/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
def test_permission_matrix(app: Flask, users: UserFactory, db_session: Session, role: Role):
    created = users.create(roles=[role.value], totp=True)
    db_session.commit()
    browser = app.test_client()
    login(browser, created.user.username, created.password, created.totp_seed)
    from csirt.auth.service import create_token
    from tests.factories import FACTORY

    _token, plain = create_token(
        db_session, created.user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    api = app.test_client()
    granted = ROLE_PERMISSIONS[role]
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "auth.logout":
            continue
        needed = required_permission(app, rule.endpoint)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if rule.rule.startswith("/api/"):
                response = api.open(
                    _url(rule), method=method, headers={"Authorization": f"Bearer {plain}"}
                )
            else:
                # Without a CSRF token a POST that is allowed stops at 400, never changes data.
                response = browser.open(_url(rule), method=method)
            where = (role.value, method, rule.rule, response.status_code)
            if needed in granted:
                assert response.status_code in OK_WHEN_ALLOWED, where
            else:
                assert response.status_code == 403, where


def test_explicit_expectations(app: Flask, users: UserFactory, db_session: Session):
    """A few rules spelled out, so the matrix above is not only checked against itself."""
    expectations = {
        "/console/admin/users": {"admin"},
        "/console/admin/security": {"admin"},
        "/console/cases/": {"admin", "intake_officer", "responder", "lead"},
    }
    for role in Role:
        created = users.create(roles=[role.value], totp=True)
        db_session.commit()
        client = app.test_client()
        login(client, created.user.username, created.password, created.totp_seed)
        for url, allowed in expectations.items():
            status = client.get(url).status_code
            assert (status == 200) == (role.value in allowed), (url, role, status)


def test_intake_interface_has_no_staff_routes(make_app):
    intake = make_app("intake")
    rules = {r.rule for r in intake.url_map.iter_rules()}
    assert not any(r.startswith("/console") for r in rules)
    assert "/api/v1/me" not in rules
    client = intake.test_client()
    assert client.get("/console/login").status_code == 404
    assert client.get("/report/").status_code == 200
    assert client.get("/").headers["Location"].endswith("/report/")


def test_console_interface_has_no_public_intake(make_app):
    console = make_app("console")
    rules = {r.rule for r in console.url_map.iter_rules()}
    assert not any(r.startswith("/report") for r in rules)
    client = console.test_client()
    assert client.get("/report/").status_code == 404
    assert client.get("/console/login").status_code == 200


def test_unknown_interface_is_refused(config):
    from csirt import create_app

    with pytest.raises(ValueError, match="interface"):
        create_app(config, interface="everything")  # type: ignore[arg-type]


def test_security_headers_on_pages(client):
    response = client.get("/console/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_denials_are_audited(client, login_as, db_session: Session):
    from sqlalchemy import select

    from csirt.audit.models import AuditEvent

    login_as("pr")
    assert client.get("/console/admin/users").status_code == 403
    actions = list(db_session.scalars(select(AuditEvent.action)))
    assert "access.denied" in actions
