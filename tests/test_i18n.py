"""Language: user setting, else the session's choice, else Accept-Language, else the default."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy.orm import Session

from tests.conftest import csrf_from

CATALOGS = Path(__file__).resolve().parents[1] / "csirt" / "translations"


def test_accept_language_picks_english(client):
    page = client.get("/console/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text


def test_default_is_japanese(client):
    page = client.get("/console/login")
    assert '<html lang="ja">' in page.text
    assert "サインイン" in page.text


def test_switch_is_remembered_for_the_session(client):
    page = client.get("/console/login")
    response = client.post(
        "/language",
        data={"lang": "en", "next": "/console/login", "csrf_token": csrf_from(page.text)},
    )
    assert response.headers["Location"].endswith("/console/login")
    assert "Sign in" in client.get("/console/login").text


def test_switch_refuses_open_redirects(client):
    page = client.get("/console/login")
    response = client.post(
        "/language",
        data={"lang": "en", "next": "//evil.example/", "csrf_token": csrf_from(page.text)},
    )
    assert response.headers["Location"] == "/"


def test_users_setting_wins_over_accept_language(client, login_as, db_session: Session):
    user = login_as("responder")
    page = client.get("/console/account")
    client.post(
        "/language", data={"lang": "en", "next": "/console/", "csrf_token": csrf_from(page.text)}
    )
    db_session.refresh(user)
    assert user.lang == "en"
    page = client.get("/console/", headers={"Accept-Language": "ja"})
    assert "Dashboard" in page.text


def test_intake_follows_accept_language(make_app):
    intake = make_app("intake").test_client()
    english = intake.get("/report/", headers={"Accept-Language": "en"}).text
    japanese = intake.get("/report/", headers={"Accept-Language": "ja"}).text
    assert "Report a concern" in english
    assert '<html lang="en">' in english
    assert "情報提供・公益通報窓口" in japanese
    assert '<html lang="ja">' in japanese


def test_japanese_catalog_is_complete():
    with (CATALOGS / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    with (CATALOGS / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    missing = {m.id for m in template if m.id} - {m.id for m in catalog if m.id}
    assert missing == set(), "run `make translations` and translate the new strings"


def test_template_holds_every_string_in_the_code():
    from babel.messages.extract import extract_from_dir

    root = CATALOGS.parents[1]
    method_map = [("csirt/**.py", "python"), ("csirt/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root),
        method_map=method_map,
        keywords=keywords,
    ):
        found.add(message if isinstance(message, str) else message[0])
    with (CATALOGS / "messages.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert found - template == set(), "run `make translations` and translate the new strings"
