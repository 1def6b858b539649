"""Language choice: one rule for pages, the API, mails and documents.

A request's language is, in order: ``?lang=`` on an API request, the signed-in user's setting,
the session's choice, the browser's Accept-Language, then ``CSIRT_DEFAULT_LANG``.
:func:`current_lang` is the only way code asks for it; bilingual catalog text is a
``LocalText`` read with ``.get(current_lang())``.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from csirt.lang import LANGUAGES, Lang, as_lang, is_lang

__all__ = ["LANGUAGES", "Lang", "as_lang", "current_lang", "default_lang", "is_lang"]


def default_lang() -> Lang:
    """The deployment's default language (``CSIRT_DEFAULT_LANG``; no app: Japanese)."""
    return as_lang(current_app.config["CSIRT"].default_lang) if has_app_context() else "ja"


def select_locale() -> str:
    if request.path.startswith("/api/"):
        asked = request.args.get("lang")
        if is_lang(asked):
            return asked
    # The intake has no login manager at all: reporters have no accounts.
    if (
        hasattr(current_app, "login_manager")
        and current_user.is_authenticated
        and is_lang(current_user.lang)
    ):
        return str(current_user.lang)
    chosen = session.get("lang")
    if is_lang(chosen):
        return chosen
    default = default_lang()
    return request.accept_languages.best_match(LANGUAGES, default=default) or default


def current_lang() -> Lang:
    """The language of this request (outside a request: the deployment's default)."""
    if not has_request_context():
        return default_lang()
    locale = get_locale()
    return as_lang(locale.language if locale is not None else None, default_lang())


def select_timezone() -> str:
    return str(current_app.config["CSIRT"].timezone)


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
