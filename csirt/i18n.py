"""Language choice: the user's setting, else the session's choice, else Accept-Language."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel
from flask_login import current_user

LANGUAGES = ("ja", "en")


def select_locale() -> str:
    # The intake has no login manager at all: reporters have no accounts.
    if (
        hasattr(current_app, "login_manager")
        and current_user.is_authenticated
        and (current_user.lang in LANGUAGES)
    ):
        return str(current_user.lang)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    default = current_app.config["CSIRT"].default_lang
    return request.accept_languages.best_match(LANGUAGES, default=default) or default


def select_timezone() -> str:
    return str(current_app.config["CSIRT"].timezone)


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
