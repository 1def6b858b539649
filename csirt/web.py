"""What every response gets: security headers, error pages, template helpers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import orjson
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    has_request_context,
    render_template,
    request,
)
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_translations
from flask_babel import gettext as _
from itsdangerous import URLSafeTimedSerializer
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from csirt.api.problems import problem
from csirt.i18n import babel_space, request_locale

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


# Built once: every response gets these (set, replacing whatever a view put there).
STATIC_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
HSTS = "max-age=63072000; includeSubDomains"
# Case data and tips must not linger in browser or proxy caches.
NO_STORE: tuple[tuple[str, str], ...] = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


_SET_HERE = frozenset(
    name.lower() for name, _ in (*STATIC_HEADERS, ("Strict-Transport-Security", HSTS), *NO_STORE)
)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    wanted = [*STATIC_HEADERS]
    if request.is_secure:
        wanted.append(("Strict-Transport-Security", HSTS))
    if request.endpoint != "static":
        wanted.extend(NO_STORE)
    if any(name.lower() in _SET_HERE for name, _value in headers.items()):
        for name, value in wanted:
            headers[name] = value  # replacing what the view put there
    else:
        headers.extend(wanted)  # none there yet: appended in the same order, one pass
    return response


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with responses encoded by orjson (several times faster).

    The output is the same JSON as Flask's (keys sorted; dates, dataclasses and the rest through
    Flask's own ``default``), only UTF-8 instead of ``\\u`` escapes. Calls with ``json.dumps``
    options, and values orjson refuses (integers beyond 64 bits), go to Flask's encoder.
    """

    OPTIONS = (
        orjson.OPT_SORT_KEYS
        | orjson.OPT_NON_STR_KEYS
        | orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_SUBCLASS
    )

    def _encode(self, obj: Any) -> bytes | None:
        try:
            return orjson.dumps(obj, default=self.default, option=self.OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            return None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        encoded = None if kwargs else self._encode(obj)
        return super().dumps(obj, **kwargs) if encoded is None else encoded.decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        encoded = self._encode(obj)
        if encoded is None:
            return cast(Response, super().response(obj))
        return Response(encoded + b"\n", mimetype=self.mimetype)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per app and keys.

    Flask builds the serializer (and, in itsdangerous' constructor, a JSON round trip to probe
    it) on every request: a quarter of reading the cookie. The cookie is verified, aged and
    written exactly as before; a changed ``SECRET_KEY`` or fallback list builds a new one.
    """

    def __init__(self) -> None:
        self._built: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, app.config["SECRET_KEY_FALLBACKS"])
        built = self._built
        if built is not None and built[0] == keys:
            return built[1]
        serializer = super().get_signing_serializer(app)
        self._built = (copy.deepcopy(keys), serializer)
        return serializer


def handle_http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if request.path.startswith("/api/"):
        detail = error.description if code < 500 else ""
        response = problem(code, error.name, detail or "")
        if code == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response
    return render_template("error.html", code=code, title=error.name), code


@contextmanager
def missing_is_404(*errors: type[Exception], detail: str | None = None) -> Iterator[None]:
    """A service's not-found error raised inside is a 404 (the console's page, the API's
    problem with ``detail``)."""
    try:
        yield
    except errors:
        abort(404, detail)


def handle_unexpected(error: Exception) -> Any:
    # Never echo the exception: it could carry user content. The traceback goes to the log.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.endpoint)
    if request.path.startswith("/api/"):
        return problem(500, "Internal Server Error")
    return render_template("error.html", code=500, title=_("Something went wrong")), 500


def request_translations() -> Any:
    """The request's translations, looked up once per request and locale.

    Flask-Babel resolves the context, the locale and its cache on every ``_()`` (a page calls
    it some 40 times). Its ``refresh()`` drops the request's locale, and with it this entry.
    """
    space = babel_space()
    if space is not None:
        locale = getattr(space, "babel_locale", None)
        cached = getattr(space, "csirt_translations", None)
        if cached is not None and locale is not None and cached[0] is locale:
            return cached[1]
    translations = get_translations()
    space = babel_space()
    if space is not None:
        space.csirt_translations = (getattr(space, "babel_locale", None), translations)
    return translations


@pass_context
def _gettext(context: Context, string: str, **variables: Any) -> str:
    """Jinja's new-style ``gettext`` (and ``_``) with the request's translations: the same text
    (Markup under autoescape, always %-formatted), in one call instead of three through
    ``Context.call`` (``_`` -> ``gettext`` -> the translations)."""
    text = request_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (a translated message, escaped by % below)
    if variables or "%" in text:
        text = text % variables
    return cast(str, text)


def _install_gettext(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["gettext"] = app.jinja_env.globals["_"] = _gettext


def _install_url_for(app: Flask) -> None:
    """Templates' ``url_for``: a URL that takes no values, or only a static file's name, is the
    same for every request under one application root, so it is built once per app, root and
    arguments (the layout builds seven on every page, ~35 Python calls each). Relative
    endpoints, other values and builds outside a request go to Flask's ``url_for`` every time.
    """
    if app.url_map.host_matching or app.subdomain_matching:
        return  # a URL could then depend on the request's host
    build = app.url_for
    built: dict[tuple[str, str | None, str], str] = {}

    def url_for(endpoint: str, /, **values: Any) -> str:
        filename = values.get("filename")
        if (
            endpoint[:1] == "."
            or (values and (len(values) != 1 or not isinstance(filename, str)))
            or not has_request_context()
        ):
            return build(endpoint, **values)
        key = (endpoint, filename, request.script_root)
        url = built.get(key)
        if url is None:
            url = build(endpoint, **values)
            if len(built) < MAX_BUILT_URLS:
                built[key] = url
        return url

    app.jinja_env.globals["url_for"] = url_for


MAX_BUILT_URLS = 1024  # endpoints x static files x roots: a few dozen in practice


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
    _install_gettext(app)  # after Babel's own (i18n.init_app): the same, with the cache above
    _install_url_for(app)
    app.json = FastJSONProvider(app)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, handle_http_error)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
    from csirt import i18n, labels
    from csirt.auth.permissions import Permission
    from csirt.db import utcnow

    app.jinja_env.filters["dt"] = i18n.format_time
    labels.init_app_filters(app.jinja_env)
    app.jinja_env.globals["Permission"] = Permission
    app.jinja_env.globals["get_locale"] = request_locale
    app.jinja_env.globals["role_label"] = labels.role_label
    app.jinja_env.globals["phase_label"] = labels.phase_label
    app.jinja_env.globals["now"] = utcnow
    from csirt.cases.sections import case_sections

    app.jinja_env.globals["case_sections"] = case_sections
    from csirt.nav import reader_fragment

    app.jinja_env.globals["reader_fragment"] = reader_fragment
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.globals["interface"] = lambda: current_app.config["CSIRT_INTERFACE"]
    app.jinja_env.globals["org_name"] = lambda: current_app.config["CSIRT"].org_name
