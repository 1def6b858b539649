"""The templates' gettext and url_for (csirt.web): what Jinja and Flask would give."""

from __future__ import annotations

import re

from flask import Flask, Response, url_for
from flask.testing import FlaskClient

from csirt.web import CSP, HSTS, security_headers


def test_template_gettext_formats_and_escapes_as_jinjas_newstyle_gettext(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        render = app.jinja_env.from_string
        assert render("{{ _('100%% sure') }}").render() == "100% sure"
        assert render("{{ _('a <b>') }}").render() == "a <b>"  # a message is markup
        assert render("{{ _('x %(v)s', v='<i>') }}").render() == "x &lt;i&gt;"
        assert render("{{ gettext('%(count)d unread', count=3) }}").render() == "3 unread"
        assert render("{% trans n=2 %}{{ n }} unread{% endtrans %}").render() == "2 unread"
    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        assert app.jinja_env.from_string("{{ _('%(count)d unread', count=3) }}").render() == (
            "未読 3 件"
        )


def _links(page: str) -> set[str]:
    return set(re.findall(r'(?:href|action|src)="([^"]+)"', page))


def test_the_layouts_links_follow_the_application_root(
    app: Flask, client: FlaskClient, login_as
) -> None:
    login_as("lead")
    plain = _links(client.get("/console/").text)
    rooted = _links(client.get("/console/", base_url="http://localhost/csirt").text)
    again = _links(client.get("/console/").text)
    assert "/console/account" in plain
    assert "/csirt/console/account" in rooted
    assert "/console/account" not in rooted
    assert again == plain
    with app.test_request_context("/", base_url="http://localhost/csirt"):
        css = url_for("static", filename="css/csirt.css")
    assert css.startswith("/csirt/")
    assert css in rooted


def test_the_security_headers_replace_what_a_view_set(app: Flask) -> None:
    with app.test_request_context("/console/", base_url="https://localhost"):
        response = Response("x")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Cache-Control"] = "max-age=60"
        response.headers.add("Pragma", "a")
        response.headers.add("Pragma", "b")
        headers = security_headers(response).headers
        fresh = security_headers(Response("x")).headers
    for sent in (headers, fresh):
        assert sent.getlist("X-Frame-Options") == ["DENY"]
        assert sent.getlist("Cache-Control") == ["no-store"]
        assert sent.getlist("Pragma") == ["no-cache"]
        assert sent.getlist("Strict-Transport-Security") == [HSTS]
        assert sent.getlist("Content-Security-Policy") == [CSP]
    assert [name for name, _value in fresh.items()][-3:] == [
        "Strict-Transport-Security",
        "Cache-Control",
        "Pragma",
    ]


def test_the_session_cookie_follows_the_secret_key_and_its_fallbacks(
    app: Flask, client: FlaskClient, login_as
) -> None:
    login_as("lead")
    assert client.get("/console/").status_code == 200
    old = app.secret_key
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    app.secret_key = f"{old}-rotated"
    assert client.get("/console/").status_code == 200  # signed with a fallback key
    app.config["SECRET_KEY_FALLBACKS"].clear()  # changed in place: still noticed
    assert client.get("/console/").status_code == 302  # no longer a valid session
