"""Every request reads who is asking afresh (issue 21 item 2): the statements that load the
token, the user and the roles are built once and cached, their answers never. A token that was
accepted a moment ago and is then revoked or expires, a user who is deactivated or whose roles
change, and a signed-in user whose sessions are ended: each shows on the very next request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from csirt.auth import service
from csirt.auth.models import UserRole
from csirt.auth.permissions import Role
from csirt.db import utcnow
from tests.factories import FACTORY, UserFactory

ME = "/api/v1/me"
LEAD_ONLY_PAGE = "/console/inventory"  # INVENTORY_VIEW: a lead has it, a responder not


def _bearer(users: UserFactory, db_session: Session) -> tuple[Any, Any, dict[str, str]]:
    user = users.create(roles=["lead"]).user
    token, plain = service.create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    return user, token, {"Authorization": f"Bearer {plain}"}


def _revoke(db_session: Session, token: Any) -> None:
    service.revoke_token(db_session, token, actor=FACTORY)


def _expire(_db_session: Session, token: Any) -> None:
    token.expires_at = utcnow() - timedelta(seconds=1)


@pytest.mark.parametrize("end", [_revoke, _expire], ids=["revoked", "expired"])
def test_a_token_ended_after_use_is_refused_on_the_next_request(
    client: FlaskClient,
    users: UserFactory,
    db_session: Session,
    end: Callable[[Session, Any], None],
) -> None:
    _user, token, headers = _bearer(users, db_session)
    token.expires_at = utcnow() + timedelta(hours=1)  # valid until then
    db_session.commit()
    assert client.get(ME, headers=headers).status_code == 200
    end(db_session, token)
    db_session.commit()
    assert client.get(ME, headers=headers).status_code == 401


def test_a_token_follows_its_users_roles_and_active_flag_request_by_request(
    client: FlaskClient, users: UserFactory, db_session: Session
) -> None:
    user, _token, headers = _bearer(users, db_session)
    assert "inventory:view" in client.get(ME, headers=headers).json["permissions"]
    service.set_roles(db_session, user, [Role.RESPONDER], actor=FACTORY)
    db_session.commit()
    assert "inventory:view" not in client.get(ME, headers=headers).json["permissions"]
    service.set_roles(db_session, user, [Role.LEAD], actor=FACTORY)
    db_session.commit()
    assert "inventory:view" in client.get(ME, headers=headers).json["permissions"]
    user.active = False
    db_session.commit()
    assert client.get(ME, headers=headers).status_code == 401
    user.active = True
    db_session.commit()
    assert client.get(ME, headers=headers).status_code == 200


def test_a_signed_in_users_role_change_shows_on_the_next_page(
    client: FlaskClient, login_as: Any, db_session: Session
) -> None:
    user = login_as("lead", "responder")
    assert client.get(LEAD_ONLY_PAGE).status_code == 200
    # The roles' rows as they are now are read on every page, even when the change did not go
    # through set_roles (which also ends the user's sessions: see the next test).
    db_session.execute(delete(UserRole).where(UserRole.user_id == user.id, UserRole.role == "lead"))
    db_session.commit()
    assert client.get(LEAD_ONLY_PAGE).status_code == 403
    assert client.get("/console/cases/").status_code == 200  # still a responder
    db_session.add(UserRole(user_id=user.id, role="lead"))
    db_session.commit()
    assert client.get(LEAD_ONLY_PAGE).status_code == 200


def _new_roles(user: Any, db_session: Session) -> None:
    service.set_roles(db_session, user, [Role.RESPONDER], actor=FACTORY)


def _deactivate(user: Any, _db_session: Session) -> None:
    user.active = False


def _end_sessions(user: Any, _db_session: Session) -> None:
    service.end_sessions(user)


@pytest.mark.parametrize(
    "change", [_new_roles, _deactivate, _end_sessions], ids=["roles", "inactive", "ended"]
)
def test_the_user_is_signed_out_on_the_next_page(
    client: FlaskClient,
    login_as: Any,
    db_session: Session,
    change: Callable[[Any, Session], None],
) -> None:
    # Roles changed through the service, a deactivated account, sessions ended (logout
    # everywhere, a password change): the very next page is the sign-in page.
    user = login_as("lead")
    assert client.get(LEAD_ONLY_PAGE).status_code == 200
    change(user, db_session)
    db_session.commit()
    response = client.get(LEAD_ONLY_PAGE)
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]
