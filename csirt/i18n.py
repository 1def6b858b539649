"""Language choice: one rule for pages, the API, mails and documents.

A request's language is, in order: ``?lang=`` on an API request, the signed-in user's setting,
the session's choice, the browser's Accept-Language, then ``CSIRT_DEFAULT_LANG``.
:func:`current_lang` is the only way code asks for it; bilingual catalog text is a
``LocalText`` read with ``.get(current_lang())``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from babel import Locale
from babel.dates import get_month_names
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_login import current_user

from csirt.lang import LANGUAGES, Lang, as_lang, is_lang

__all__ = [
    "LANGUAGES",
    "Lang",
    "Moments",
    "as_lang",
    "current_lang",
    "default_lang",
    "format_day",
    "format_month",
    "format_time",
    "is_lang",
]

# One written form of a moment per language, with the zone's abbreviation (JST, UTC, CET):
# 2026年12月6日 23:00 JST / 6 Dec 2026 23:00 JST. Babel's CLDR patterns name the zone
# differently per language (日本標準時, GMT+09:00): the abbreviation reads the same in both.
_TIME = {"ja": "y年M月d日 HH:mm", "en": "d MMM y HH:mm"}
_DAY = {"ja": "y年M月d日", "en": "d MMM y"}
_MONTH = {"ja": "y年M月", "en": "MMM y"}


def default_lang() -> Lang:
    """The deployment's default language (``CSIRT_DEFAULT_LANG``; no app: Japanese)."""
    return as_lang(current_app.config["CSIRT"].default_lang) if has_app_context() else "ja"


def select_locale() -> str:
    if request.path.startswith("/api/"):
        asked = request.args.get("lang")
        if is_lang(asked):
            return asked
    # The intake has no login manager at all: reporters have no accounts.
    if hasattr(current_app, "login_manager"):
        user = current_user._get_current_object()
        if user.is_authenticated and is_lang(user.lang):
            return str(user.lang)
    chosen = session.get("lang")
    if is_lang(chosen):
        return chosen
    default = default_lang()
    return request.accept_languages.best_match(LANGUAGES, default=default) or default


# The app context's ``g`` itself: Flask-Babel reaches its namespace through ``flask.g``'s proxy
# three times per call (a page asks for the locale and the translations some 50 times).
_app_globals: Callable[[], Any] = g._get_current_object


def babel_space() -> Any | None:
    """Flask-Babel's namespace of this app context (``g._flask_babel``), or None."""
    try:
        return getattr(_app_globals(), "_flask_babel", None)
    except RuntimeError:  # outside an app context
        return None


def request_locale() -> Locale | None:
    """``flask_babel.get_locale()``: once Flask-Babel has chosen the locale of this context (its
    ``refresh()`` forgets it), read from its namespace directly."""
    locale: Locale | None = getattr(babel_space(), "babel_locale", None)
    return locale if locale is not None else get_locale()


def current_lang() -> Lang:
    """The language of this request (outside a request: the deployment's default)."""
    if not has_request_context():
        return default_lang()
    locale = request_locale()
    return as_lang(locale.language if locale is not None else None, default_lang())


def _zone_name(value: datetime) -> str:
    zone = g.get("_csirt_zone")
    if zone is None:
        zone = g._csirt_zone = current_app.config["CSIRT"].tz
    return value.astimezone(zone).tzname() or ""


# The two patterns of _TIME written directly: Babel's format_datetime costs ~50 us a call and a
# list page formats a time on every row (tests/test_perf.py checks both against Babel's output).
_MONTHS_EN = get_month_names("abbreviated", locale="en")


def _ja_time(t: datetime) -> str:
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"


def _en_time(t: datetime) -> str:
    return f"{t.day} {_MONTHS_EN[t.month]} {t.year} {t.hour:02d}:{t.minute:02d}"


_FAST_TIME = {"ja": _ja_time, "en": _en_time}


def _time_context() -> tuple[Lang, tzinfo]:
    """The reader's language and the configured zone, looked up once per request."""
    cached: tuple[Lang, tzinfo] | None = g.get("_csirt_time_context")
    if cached is None:
        cached = g._csirt_time_context = (current_lang(), current_app.config["CSIRT"].tz)
    return cached


def _local(value: datetime, zone: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # as Babel reads a naive time
    return value.astimezone(zone)


def _ja_day(t: date) -> str:
    return f"{t.year}年{t.month}月{t.day}日"


def _en_day(t: date) -> str:
    return f"{t.day} {_MONTHS_EN[t.month]} {t.year}"


def _ja_month(t: date) -> str:
    return f"{t.year}年{t.month}月"


def _en_month(t: date) -> str:
    return f"{_MONTHS_EN[t.month]} {t.year}"


_FAST_DAY = {"ja": _ja_day, "en": _en_day}
_FAST_MONTH = {"ja": _ja_month, "en": _en_month}


class Moments:
    """:func:`format_time`, :func:`format_day` and :func:`format_month` for the many values of
    one page: the reader's language and the zone are read once, not through ``flask.g`` per
    value (the same text: tests/test_perf_pages.py checks it against Babel)."""

    def __init__(self) -> None:
        lang, self.zone = _time_context()
        self._time, self._day, self._month = _FAST_TIME[lang], _FAST_DAY[lang], _FAST_MONTH[lang]

    def time(self, value: datetime) -> str:
        """A moment with the zone (2026年12月6日 23:00 JST)."""
        local = _local(value, self.zone)
        return f"{self._time(local)} {local.tzname() or ''}"

    def day(self, value: date) -> str:
        """A day (a datetime read in the zone)."""
        return self._day(_local(value, self.zone) if isinstance(value, datetime) else value)

    def month(self, value: date) -> str:
        """A month (a datetime read in the zone)."""
        return self._month(_local(value, self.zone) if isinstance(value, datetime) else value)


def format_time(value: datetime | str | None, _style: str = "") -> str:
    """A moment in the configured zone, in the reader's language, with the zone: the one
    form every page uses (the ``dt`` filter; ``_style`` is accepted for old call sites). An
    ISO 8601 text (a stored JSON result) is read first."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if _style not in ("", "short", "medium", "long", "full"):
        return str(format_datetime(value, _style))  # an explicit pattern: documents, exports
    if has_request_context():
        lang, zone = _time_context()
        local = _local(value, zone)
        return f"{_FAST_TIME[lang](local)} {local.tzname() or ''}"
    text = str(format_datetime(value, _TIME[current_lang()]))
    return f"{text} {_zone_name(value)}"


def format_day(value: date | datetime | None) -> str:
    """A day in the reader's language (2026年12月6日 / 6 Dec 2026); a datetime is read in the
    configured zone."""
    if value is None:
        return ""
    if has_request_context():
        return Moments().day(value)
    if not isinstance(value, datetime):
        return str(format_date(value, _DAY[current_lang()]))
    return str(format_datetime(value, _DAY[current_lang()]))


def format_month(value: date | datetime | None) -> str:
    """A month in the reader's language (2026年12月 / Dec 2026)."""
    if value is None:
        return ""
    if has_request_context():
        return Moments().month(value)
    if not isinstance(value, datetime):
        return str(format_date(value, _MONTH[current_lang()]))
    return str(format_datetime(value, _MONTH[current_lang()]))


def select_timezone() -> str:
    return str(current_app.config["CSIRT"].timezone)


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["month"] = format_month
