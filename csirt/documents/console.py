"""The documents console's blueprint and what its page modules share (not a view module: the
registered one is `views`, whose `bp` is this blueprint; `settings_pages` adds its routes to it)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from csirt.cases.errors import CaseNotFoundError
from csirt.catalog.current import current_catalog
from csirt.documents import service

blueprint = Blueprint("documents", __name__)


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
