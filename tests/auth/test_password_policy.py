"""One password check (auth.passwords), shown the same way wherever a password is set."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from csirt.auth.passwords import PasswordProblem, password_problems
from tests.conftest import csrf_from


def test_the_rules() -> None:
    assert password_problems("a long unlisted passphrase 7", "someone") == []
    assert password_problems("short", "someone") == [PasswordProblem.TOO_SHORT]
    assert password_problems("aaaa", "someone") == [
        PasswordProblem.TOO_SHORT,
        PasswordProblem.TOO_COMMON,
    ]
    assert PasswordProblem.CONTAINS_USERNAME in password_problems("hanako-is-my-name", "hanako")
    # The list catches a listed word under trailing digits and symbols, too.
    assert password_problems("password1234", "someone") == [PasswordProblem.TOO_COMMON]
    assert password_problems("Sakura2024!!", "someone") == [PasswordProblem.TOO_COMMON]


def test_administration_shows_the_same_translated_messages(
    client: FlaskClient, login_as: Any
) -> None:
    """Creating a user with a weak password: the admin page says why, in the UI language
    (it used to print the policy's English reasons as they were)."""
    login_as("admin", totp=True)
    page = client.get("/console/admin/users/new")
    response = client.post(
        "/console/admin/users/new",
        data={
            "csrf_token": csrf_from(page.text),
            "username": "newcomer",
            "roles": ["responder"],
            "password": "password1234",
        },
        headers={"Accept-Language": "ja"},
    )
    assert response.status_code in (200, 400)
    assert "このパスワードはよく使われているか、単純すぎます。" in response.text
    assert "too common or too simple" not in response.text
