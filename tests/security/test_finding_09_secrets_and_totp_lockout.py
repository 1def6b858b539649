"""Finding 9: the example secret from deploy/csirt.env.example was accepted; wrong second-factor
codes did not count toward the account's lockout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from config import Config, ConfigError
from csirt.auth.models import User
from tests.conftest import csrf_from
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _example_secret() -> str:
    for line in (ROOT / "deploy" / "csirt.env.example").read_text().splitlines():
        if line.startswith("CSIRT_SECRET_KEY="):
            return line.split("=", 1)[1].strip()
    raise AssertionError("no CSIRT_SECRET_KEY in the example")


@pytest.mark.parametrize(
    "secret",
    [_example_secret(), "x" * 40, "abababababababababababababababababab", "short-but-random-Q9"],
)
def test_known_or_weak_secrets_are_refused(secret: str, tmp_path: Path):
    with pytest.raises(ConfigError, match="CSIRT_SECRET_KEY"):
        Config.from_env({"CSIRT_SECRET_KEY": secret}, instance_path=tmp_path)


def test_the_app_does_not_start_with_the_example_secret(tmp_path: Path):
    env = {
        **os.environ,
        "CSIRT_SECRET_KEY": _example_secret(),
        "CSIRT_INSTANCE_PATH": str(tmp_path),
        "CSIRT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi; wsgi.console"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "CSIRT_SECRET_KEY" in result.stderr


def test_generated_and_test_secrets_still_work(tmp_path: Path):
    generated = Config.from_env({}, instance_path=tmp_path)  # what `make run` does
    assert len(generated.secret_key) >= 32
    again = Config.from_env({"CSIRT_SECRET_KEY": generated.secret_key}, instance_path=tmp_path)
    assert again.secret_key == generated.secret_key


def test_wrong_second_factor_codes_lock_the_account(
    app: Flask, users: UserFactory, db_session: Session
):
    created = users.create(roles=["responder"], totp=True)
    db_session.commit()
    client = app.test_client()
    page = client.get("/console/login")
    client.post(
        "/console/login",
        data={
            "username": created.user.username,
            "password": created.password,
            "csrf_token": csrf_from(page.text),
        },
    )
    right = pyotp.TOTP(created.totp_seed).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    limit = app.config["CSIRT"].login_max_failures
    for _ in range(limit):
        page = client.get("/console/login/verify")
        client.post(
            "/console/login/verify", data={"code": wrong, "csrf_token": csrf_from(page.text)}
        )
    db_session.expire_all()
    user = db_session.get(User, created.user.id)
    assert user.locked_until is not None
    # Now even the right password and code are held off for this browser.
    fresh = app.test_client()
    page = fresh.get("/console/login")
    response = fresh.post(
        "/console/login",
        data={
            "username": created.user.username,
            "password": created.password,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 403
