"""The documents console's blueprint and what its page modules share (not a view module: the
registered one is `views`, whose `bp` is this blueprint; `settings_pages` adds its routes to it)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVarTuple

from flask import Blueprint, abort, current_app
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.auth.reauth import reauth_required
from csirt.cases.errors import CaseNotFoundError
from csirt.catalog.current import current_catalog
from csirt.db import get_session
from csirt.documents import service
from csirt.documents.models import Document
from csirt.forms import require_action

blueprint = Blueprint("documents", __name__)
Loaded = TypeVarTuple("Loaded")
View = Callable[[Session, *Loaded], ResponseReturnValue]
"""A page's view: the request's session, then what the page's loader gave for its URL's id."""
Register = Callable[[View[*Loaded]], Callable[..., ResponseReturnValue]]


def env() -> service.Environment:
    """The deployment settings the document service needs."""
    config = current_app.config["CSIRT"]
    return service.Environment(
        config.org_name, config.timezone, config.instance_path, current_catalog().vocabulary
    )


def case_access(session: Session, case_id: int) -> service.CaseAccess:
    try:
        return service.get_case_for_documents(session, current_user, case_id)
    except CaseNotFoundError:
        abort(404)


def case_of(session: Session, case_id: int) -> tuple[service.CaseAccess]:
    """The case a page's URL names, with what the user may do there (404 if they may not)."""
    return (case_access(session, case_id),)


def document_of(session: Session, document_id: int) -> tuple[Document, service.CaseAccess]:
    """The document a page's URL names and its case access (404 if the user may not see it)."""
    try:
        return service.get_document_for(session, current_user, document_id)
    except service.DocumentNotFoundError:
        abort(404)


FORM = ("GET", "POST")
"""The methods of a page with a form: shown on GET, submitted by POST."""


def page(
    rule: str,
    permission: Permission,
    load: Callable[[Session, int], tuple[*Loaded]],
    *,
    methods: Sequence[str] = ("GET",),
    reauth: bool = False,
    button: bool = False,
) -> Register[*Loaded]:
    """Register a page of the object its URL names (one id): it needs ``permission`` (and, with
    ``reauth``, a recent sign-in, checked first); the view receives the request's session and
    what ``load`` gives for the id. A ``button`` (see `action`) has its CSRF token checked once
    the object is loaded."""

    def register(view: View[*Loaded]) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def handle(**url_id: int) -> ResponseReturnValue:
            session = get_session()
            loaded = load(session, *url_id.values())
            if button:
                require_action()
            return view(session, *loaded)

        entry = reauth_required(handle) if reauth else handle
        blueprint.route(rule, methods=list(methods))(requires(permission)(entry))
        return entry

    return register


def action(
    rule: str,
    permission: Permission,
    load: Callable[[Session, int], tuple[*Loaded]],
    *,
    reauth: bool = False,
) -> Register[*Loaded]:
    """Register a button's POST on the object its URL names: as `page`, with the button's form
    (its CSRF token) checked."""
    return page(rule, permission, load, methods=("POST",), reauth=reauth, button=True)
