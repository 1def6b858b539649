"""Intake fixtures: officers and custodians with key pairs, settings, a helper to submit."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session

from csirt import vault
from csirt.auth.models import User
from csirt.intake import base, reporter, web
from csirt.intake.base import IntakeSettings, Upload
from csirt.intake.escrow import Escrow
from tests.factories import CreatedUser, UserFactory


@dataclass
class Staff:
    created: CreatedUser

    @property
    def user(self) -> User:
        return self.created.user

    @property
    def private(self) -> bytes:
        assert self.user.wrapped_private_key is not None
        return vault.unwrap_private_key(self.user.wrapped_private_key, self.created.password)


@pytest.fixture
def settings(app: Flask, db_session: Session) -> IntakeSettings:
    with app.app_context():
        return web.settings(db_session, app)


@pytest.fixture
def strict(app: Flask, settings: IntakeSettings) -> IntakeSettings:
    """Strict mode on this app (CSIRT_INTAKE_ESCROW=off): no organisation key at all."""
    app.config["CSIRT"] = app.config["CSIRT"].with_(intake_escrow=False)
    strict_settings = dataclasses.replace(settings, escrow=Escrow.from_config(app.config["CSIRT"]))
    app.extensions[web.EXTENSION] = strict_settings
    return strict_settings


@pytest.fixture
def staff(users: UserFactory, db_session: Session) -> Any:
    def make(*roles: str, **kwargs: Any) -> Staff:
        created = users.create(roles=list(roles), keypair=True, **kwargs)
        db_session.flush()
        return Staff(created)

    return make


@pytest.fixture
def officer(staff: Any) -> Staff:
    return staff("intake_officer", department="総務課")


@pytest.fixture
def custodian(staff: Any) -> Staff:
    return staff("custodian", department="監査室")


def png_with_exif(comment: str) -> bytes:
    image = Image.new("RGB", (4, 4), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010E] = comment  # ImageDescription
    exif[0x013B] = comment  # Artist
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


def jpeg_with_exif(comment: str) -> bytes:
    image = Image.new("RGB", (8, 8), (10, 200, 10))
    exif = Image.Exif()
    exif[0x013B] = comment
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


BASIC_ANSWERS: dict[str, Any] = {
    "what_happened": "有権者名簿らしきファイルがレンタルサーバーに置かれている",
    "where_seen": "https://example.invalid/list.csv",
    "when_seen": "2015-06-24",
    "data_items": ["name", "address"],
    "persons_estimate": 680000,
    "reporter_is_insider": True,
    "involved": "選挙管理委員会事務局",
    "whistleblower": True,
}


def submit(
    db_session: Session,
    settings: IntakeSettings,
    answers: dict[str, Any] | None = None,
    uploads: list[Upload] | None = None,
    lang: str = "ja",
) -> base.Submitted:
    result = reporter.submit(
        db_session, settings, answers or dict(BASIC_ANSWERS), lang, uploads or []
    )
    db_session.flush()
    return result
