"""csirt: incident-response case management for a CSIRT.

``create_app`` builds one of three interfaces from the same code: the public ``intake`` (tips
and the reporter mailbox), the staff ``console``, or ``all`` of them for a one-machine install.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any, Literal

from flask import Flask, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from config import Config
from csirt import cli, db, i18n, web
from csirt.auth import access
from csirt.auth.service import Hashing
from csirt.catalog import current as catalog_current
from csirt.redirects import local_target

Interface = Literal["all", "intake", "console"]
INTERFACES: tuple[Interface, ...] = ("all", "intake", "console")

csrf = CSRFProtect()


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to 1 .. 2**31 - 1, the range of an id column on every backend."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


# Explicit registries of the modules whose ``bp`` each interface serves (a module may also
# define ``init_app(app)``, e.g. to connect signal receivers). Blueprints named ``api*`` are
# CSRF-exempt: they authenticate by bearer token only.
SHARED_MODULES: tuple[str, ...] = ("csirt.api.views",)
INTAKE_MODULES: tuple[str, ...] = (
    "csirt.intake.views",
    "csirt.intake.api",
    "csirt.public_measures.views",
)
CONSOLE_MODULES: tuple[str, ...] = (
    "csirt.auth.views",
    "csirt.auth.admin_views",
    "csirt.console.views",
    "csirt.cases.views",
    "csirt.cases.api",
    "csirt.observables.views",
    "csirt.observables.api",
    "csirt.api.me",
    "csirt.auth.reauth_views",
    "csirt.audit_review.views",
    "csirt.triage.views",
    "csirt.triage.api",
    "csirt.records.views",
    "csirt.records.api",
    "csirt.documents.views",
    "csirt.documents.api",
    "csirt.teams.views",
    "csirt.teams.api",
    "csirt.notify.views",
    "csirt.intake.console",
    "csirt.alerts.views",
    "csirt.alerts.api",
    "csirt.webhooks.views",
    "csirt.webhooks.api",
    "csirt.inventory.views",
    "csirt.inventory.api",
    "csirt.public_measures.console",
    "csirt.public_measures.api",
)


def create_app(config: Config | None = None, interface: Interface = "all") -> Flask:
    """Build the WSGI app for one interface."""
    if interface not in INTERFACES:
        raise ValueError(f"interface must be one of {INTERFACES}, not {interface!r}")
    config = config or Config.from_env()
    app = Flask(__name__, instance_path=str(config.instance_path), instance_relative_config=False)
    app.config.update(
        CSIRT=config,
        CSIRT_INTERFACE=interface,
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        # The intake's cookie only carries the CSRF token and the language; it is Strict.
        SESSION_COOKIE_NAME="csirt_intake" if interface == "intake" else "csirt_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=config.cookie_secure,
        SESSION_COOKIE_SAMESITE="Strict" if interface == "intake" else "Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.session_absolute_hours),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=config.cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=False,  # Referer is never sent (no-referrer); the token suffices
        MAX_CONTENT_LENGTH=config.max_upload_mb * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=config.default_lang,
        BABEL_DEFAULT_TIMEZONE=config.timezone,
        BABEL_TRANSLATION_DIRECTORIES="translations",
        JSON_SORT_KEYS=False,
    )
    if interface == "console" and config.trusted_proxies:
        # Only the console believes X-Forwarded-For/-Proto, and only from this many proxies
        # (CSIRT_TRUSTED_PROXIES); the intake never reads a client address of any kind.
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
        app.extensions["csirt.trusted_proxies"] = n
    # Ids in URLs must fit every backend's integer column (PostgreSQL: 32 bits); larger -> 404.
    app.url_map.converters["int"] = BoundedIntConverter
    app.extensions["csirt.hashing"] = Hashing.create(config.secret_key, fast=config.testing)

    # One catalog (vocabulary, rules, playbooks, questionnaire) from CSIRT_PLAYBOOKS_PATH;
    # a PlaybookError stops the start with the file and line.
    catalog_current.init_app(app)
    db.init_app(app, config.database_url)
    # The access hook runs first: an anonymous request is refused before anything else.
    access.init_app(app, with_login=interface != "intake")
    csrf.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    cli.init_app(app)

    modules = list(SHARED_MODULES)
    if interface in ("all", "intake"):
        modules += INTAKE_MODULES
    if interface in ("all", "console"):
        modules += CONSOLE_MODULES
    for name in modules:
        module = importlib.import_module(name)
        blueprint = module.bp
        app.register_blueprint(blueprint)
        if blueprint.name.startswith("api"):
            csrf.exempt(blueprint)  # the API authenticates by bearer token, never by cookie
        if hasattr(module, "init_app"):
            module.init_app(app)

    from csirt import wiring  # here, not at the top: it imports every domain package

    wiring.connect(app)

    @app.get("/")
    def root() -> ResponseReturnValue:
        if interface == "intake":
            return redirect(url_for("intake.index"))
        return redirect(url_for("console.dashboard"))

    @app.post("/language")
    def set_language() -> ResponseReturnValue:
        lang = request.form.get("lang", "")
        if lang in i18n.LANGUAGES:
            session["lang"] = lang
            _remember_user_language(app, lang)
        # Only local paths: never an open redirect.
        return redirect(local_target(request.form.get("next"), url_for("root")))

    return app


def _remember_user_language(app: Flask, lang: str) -> None:
    if not hasattr(app, "login_manager"):
        return
    from flask_login import current_user

    if current_user.is_authenticated:
        db_session = db.get_session()
        current_user.lang = lang
        db_session.commit()
