"""Webhooks API (bearer token, admin): configure outgoing webhooks and read their delivery log."""

from __future__ import annotations

from typing import Literal

from flask import Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, Field

from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import ApiModel, ApiOut, IsoTime
from csirt.auth.permissions import Permission
from csirt.db import get_session
from csirt.webhooks import service

api = ApiRoutes.blueprint(
    "api_webhooks", __name__, "/api/v1/webhooks", "webhooks", Permission.WEBHOOK_MANAGE
)
bp = api.bp
Event = Literal[service.EVENTS]  # type: ignore[valid-type]
MaxTlp = Literal[service.TLP_ORDER]  # type: ignore[valid-type]


class WebhookIn(ApiModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=500, description="http:// or https://")
    secret: str = Field(
        min_length=service.MIN_SECRET, max_length=200, description="the HMAC-SHA256 signing key"
    )
    events: list[Event] = Field(min_length=1, max_length=len(service.EVENTS))
    max_tlp: MaxTlp = Field("green", description="cases above this TLP are not described")
    active: bool = True


class WebhookPatch(ApiModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, min_length=1, max_length=500)
    secret: str | None = Field(None, min_length=service.MIN_SECRET, max_length=200)
    events: list[Event] | None = Field(None, min_length=1, max_length=len(service.EVENTS))
    max_tlp: MaxTlp | None = None
    active: bool | None = None


class WebhookOut(ApiOut):
    id: int
    name: str
    url: str
    events: list[str]
    max_tlp: str
    active: bool
    created_at: IsoTime


class DeliveryOut(ApiOut):
    id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: IsoTime
    last_status_code: int | None
    last_error: str
    created_at: IsoTime
    sent_at: IsoTime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


def _secret_key() -> str:
    key: str = current_app.config["CSIRT"].secret_key
    return key


@api.get("", ok={"type": "array", "items": WebhookOut})
def list_webhooks() -> ResponseReturnValue:
    """Outgoing webhooks (never their secrets)."""
    return jsonify([WebhookOut.dump(h) for h in service.list_webhooks(get_session())])


@api.post("", body=WebhookIn, created=WebhookOut)
def create_webhook(body: WebhookIn) -> ResponseReturnValue:
    """Add an outgoing webhook."""
    session = get_session()
    hook = service.create_webhook(
        session,
        service.WebhookInput(
            body.name, body.url, body.events, body.max_tlp, body.secret, body.active
        ),
        current_user,
        secret_key=_secret_key(),
    )
    session.commit()
    return created(WebhookOut.dump(hook), location=f"/api/v1/webhooks/{hook.id}")


@api.patch("/<int:webhook_id>", body=WebhookPatch, ok=WebhookOut)
def patch_webhook(webhook_id: int, body: WebhookPatch) -> ResponseReturnValue:
    """Change an outgoing webhook (a secret left out is kept)."""
    session = get_session()
    hook = service.get_webhook(session, webhook_id)
    data = service.WebhookInput(
        name=body.name if body.name is not None else hook.name,
        url=body.url if body.url is not None else hook.url,
        events=body.events if body.events is not None else hook.events,
        max_tlp=body.max_tlp if body.max_tlp is not None else hook.max_tlp,
        secret=body.secret,
        active=body.active if body.active is not None else hook.active,
    )
    service.update_webhook(session, hook, data, current_user, secret_key=_secret_key())
    session.commit()
    return jsonify(WebhookOut.dump(hook))


@api.delete("/<int:webhook_id>", responses={"204": {"description": "Removed"}})
def delete_webhook(webhook_id: int) -> ResponseReturnValue:
    """Remove an outgoing webhook and its log."""
    session = get_session()
    service.delete_webhook(session, service.get_webhook(session, webhook_id), current_user)
    session.commit()
    return Response(status=204)


@api.get("/<int:webhook_id>/deliveries", query=PageQuery, ok=DeliveryPage)
def list_deliveries(webhook_id: int, query: PageQuery) -> ResponseReturnValue:
    """A webhook's delivery log, newest first."""
    session = get_session()
    hook = service.get_webhook(session, webhook_id)
    rows, next_id = service.deliveries(
        session, hook, limit=query.limit, cursor=query.position("deliveries", row_id)
    )
    return page_response("deliveries", rows, DeliveryOut.dump, next_id)
