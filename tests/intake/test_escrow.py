"""No tip is ever unreadable: key pairs when the password is known, the organisation key
(escrow), key holders' sign-ins, the inbox's explanations and ``csirt intake doctor``.

Everything goes through real parts: the public API, the real CLI (CliRunner over the app's
commands), the sign-in form, the inbox and report pages.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import demo
from csirt.audit import service as audit
from csirt.audit.models import AuditEvent
from csirt.auth import service as auth_service
from csirt.auth.models import Setting, User
from csirt.auth.permissions import Role
from csirt.db import make_engine
from csirt.intake import escrow as intake_escrow
from csirt.intake.base import IntakeSettings
from csirt.intake.models import IdentityKeyWrap, Submission, SubmissionKeyWrap
from tests.conftest import csrf_from, login
from tests.intake.conftest import BASIC_ANSWERS

PASSWORD = "a sufficiently long passphrase"
TIP_TEXT = "選挙人名簿らしき CSV がレンタルサーバーで公開されている（通報テスト）"


def _tip(app: Flask, text: str = TIP_TEXT, **extra: Any) -> int:
    """Send a tip through the public API the way a script would; return its submission id."""
    answers = dict(BASIC_ANSWERS, what_happened=text, involved="", **extra)
    response = app.test_client().post("/api/v1/reports", json={"answers": answers, "lang": "ja"})
    assert response.status_code == 201, response.text
    return _latest_id(app)


def _latest_id(app: Flask) -> int:
    from csirt.db import get_db

    with get_db(app).session() as session:
        latest = session.scalar(select(Submission.id).order_by(Submission.id.desc()))
    assert latest is not None
    return int(latest)


def _create_user(app: Flask, name: str, *roles: str, department: str | None = None) -> None:
    args = ["user", "create", name, "--password-stdin"]
    for role in roles or ("intake_officer",):
        args += ["--role", role]
    if department:
        args += ["--department", department]
    result = app.test_cli_runner().invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def _signed_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    response = login(client, name, PASSWORD)
    assert response.status_code == 302, response.text
    assert "/login" not in response.headers["Location"]
    return client


def _doctor(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["intake", "doctor"])


def _no_second_factor(db_session: Session) -> None:
    auth_service.set_totp_required_roles(db_session, [], actor=audit.SYSTEM)
    db_session.commit()


def _wrap_holders(db_session: Session, submission_id: int) -> set[int]:
    db_session.expire_all()
    return set(
        db_session.scalars(
            select(SubmissionKeyWrap.user_id).where(
                SubmissionKeyWrap.submission_id == submission_id
            )
        )
    )


def test_contract_demo_then_tip_then_new_officer_opens_it(
    app: Flask, db_session: Session, config: Any
) -> None:
    demo.seed(db_session, app.extensions["csirt.hashing"], config)
    db_session.commit()
    assert _doctor(app).output == ""
    submission_id = _tip(app)
    _create_user(app, "officer2")
    client = _signed_in(app, "officer2")
    inbox = client.get("/console/intake/")
    assert inbox.status_code == 200
    assert f'href="/console/intake/{submission_id}"' in inbox.text
    page = client.get(f"/console/intake/{submission_id}")
    assert page.status_code == 200
    assert TIP_TEXT in page.text
    assert re.search(r'<form[^>]+action="[^"]*/promote"', page.text)
    reply = re.search(r'<form[^>]+action="[^"]*/reply"(.*?)</form>', page.text, re.S)
    assert reply is not None
    assert 'name="body"' in reply.group(1)
    # The demo's own officer holds it too, and the doctor finds nothing to report.
    demo_officer = db_session.scalar(select(User).where(User.username == "intake"))
    assert demo_officer is not None
    assert demo_officer.id in _wrap_holders(db_session, submission_id)
    doctor = _doctor(app)
    assert doctor.exit_code == 0
    assert doctor.output == ""


def test_tip_before_any_officer_is_opened_by_one_created_after(
    app: Flask, db_session: Session, config: Any
) -> None:
    _no_second_factor(db_session)
    submission_id = _tip(app)
    assert _wrap_holders(db_session, submission_id) == set()
    # The organisation key was made on first need; its KEK is a 0600 file outside the database.
    kek_file = config.escrow_key_path
    assert kek_file.exists()
    assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
    row = db_session.get(Setting, intake_escrow.SETTING_KEY)
    assert row is not None
    assert set(row.value) == {"public", "sealed"}
    kek_text = kek_file.read_text().strip()
    assert kek_text not in str(row.value)
    # No one can open it yet: the doctor says so (id, hour, status; nothing identifying).
    doctor = _doctor(app)
    assert doctor.exit_code == 1
    assert f"report {submission_id}" in doctor.output
    assert TIP_TEXT not in doctor.output
    _create_user(app, "late-officer")
    late = db_session.scalar(select(User).where(User.username == "late-officer"))
    assert late is not None
    assert late.public_key is not None
    assert late.recovery_wrapped_key is None  # made and shown at the first sign-in
    assert late.id in _wrap_holders(db_session, submission_id)
    client = _signed_in(app, "late-officer")
    inbox = client.get("/console/intake/")
    assert 'id="recovery-waiting"' in inbox.text
    assert "recovery-key" in client.get("/console/intake/key").text
    page = client.get(f"/console/intake/{submission_id}")
    assert page.status_code == 200
    assert TIP_TEXT in page.text
    assert _doctor(app).output == ""


def test_officer_gets_a_key_pair_from_the_admin_form(
    app: Flask, db_session: Session, login_as: Any, client: FlaskClient
) -> None:
    submission_id = _tip(app)
    login_as("admin", totp=True)
    form = client.get("/console/admin/users/new")

    created = client.post(
        "/console/admin/users/new",
        data={
            "csrf_token": csrf_from(form.text),
            "username": "by-admin",
            "password": PASSWORD,
            "roles": ["intake_officer"],
        },
    )
    assert created.status_code == 302, created.text
    db_session.expire_all()
    user = db_session.scalar(select(User).where(User.username == "by-admin"))
    assert user is not None
    assert user.public_key is not None
    assert user.id in _wrap_holders(db_session, submission_id)


def test_strict_mode_holder_sign_in_rewraps_and_doctor_lists_the_lost(
    app: Flask, db_session: Session, strict: IntakeSettings, config: Any
) -> None:
    _no_second_factor(db_session)
    lost = _tip(app, "誰も鍵を持たない通報")
    assert not config.escrow_key_path.exists()  # strict: no organisation key at all
    assert db_session.get(Setting, intake_escrow.SETTING_KEY) is None
    _create_user(app, "first")
    kept = _tip(app)
    _create_user(app, "second")
    first = db_session.scalar(select(User).where(User.username == "first"))
    second = db_session.scalar(select(User).where(User.username == "second"))
    assert first is not None
    assert second is not None
    assert _wrap_holders(db_session, kept) == {first.id}
    assert _wrap_holders(db_session, lost) == set()
    # The second officer cannot open the report yet; the inbox says who holds it.
    second_client = _signed_in(app, "second")
    inbox = second_client.get("/console/intake/")
    assert re.search(rf'#{kept} <span class="badge">.*?data-why="ask_holder"', inbox.text, re.S)
    assert re.search(rf'#{lost} <span class="badge">.*?data-why="lost"', inbox.text, re.S)
    assert second_client.get(f"/console/intake/{kept}").status_code == 302
    # The key holder signs in: the report is sealed to the colleague who lacks it.
    _signed_in(app, "first")
    assert _wrap_holders(db_session, kept) == {first.id, second.id}
    page = second_client.get(f"/console/intake/{kept}")
    assert page.status_code == 200
    assert TIP_TEXT in page.text
    grants = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "intake.grant")).all()
    assert any(g.details.get("via") == "sign-in" and kept in g.details["reports"] for g in grants)
    # The report that arrived before anyone had a key stays lost: the doctor lists it.
    doctor = _doctor(app)
    assert doctor.exit_code == 1
    assert doctor.output.count("report ") == 1
    assert f"report {lost}\t" in doctor.output
    assert "誰も鍵を持たない通報" not in doctor.output


def test_a_conflicted_officer_never_receives_a_wrap(
    app: Flask, db_session: Session, config: Any
) -> None:
    _no_second_factor(db_session)
    _create_user(app, "holder")
    answers = dict(BASIC_ANSWERS, what_happened=TIP_TEXT, involved="総務課の職員")
    response = app.test_client().post("/api/v1/reports", json={"answers": answers, "lang": "ja"})
    assert response.status_code == 201
    submission_id = _latest_id(app)
    _create_user(app, "suspect", department="総務課")
    suspect = db_session.scalar(select(User).where(User.username == "suspect"))
    assert suspect is not None
    assert suspect.public_key is not None
    assert suspect.id not in _wrap_holders(db_session, submission_id)  # not from the escrow
    _signed_in(app, "holder")
    assert suspect.id not in _wrap_holders(db_session, submission_id)  # nor from a holder
    client = _signed_in(app, "suspect")
    assert f"#{submission_id}" not in client.get("/console/intake/").text
    assert client.get(f"/console/intake/{submission_id}").status_code == 404
    assert _doctor(app).output == ""


def test_identity_stays_out_of_the_escrow_and_reaches_later_custodians(
    app: Flask, db_session: Session
) -> None:
    _no_second_factor(db_session)
    _create_user(app, "keeper", "custodian")
    response = app.test_client().post(
        "/api/v1/reports",
        json={
            "answers": dict(BASIC_ANSWERS, involved=""),
            "identity": {"name": "山田 太郎"},
            "lang": "ja",
        },
    )
    assert response.status_code == 201
    submission_id = _latest_id(app)
    _create_user(app, "keeper2", "custodian")
    keeper = db_session.scalar(select(User).where(User.username == "keeper"))
    keeper2 = db_session.scalar(select(User).where(User.username == "keeper2"))
    assert keeper is not None
    assert keeper2 is not None

    def identity_holders() -> set[int]:
        db_session.expire_all()
        return set(
            db_session.scalars(
                select(IdentityKeyWrap.user_id).where(
                    IdentityKeyWrap.submission_id == submission_id
                )
            )
        )

    assert identity_holders() == {keeper.id}  # never from the escrow
    _signed_in(app, "keeper")
    assert identity_holders() == {keeper.id, keeper2.id}  # from the custodian's sign-in


def test_missing_key_file_is_explained_and_reported(
    app: Flask, db_session: Session, config: Any
) -> None:
    _no_second_factor(db_session)
    submission_id = _tip(app)
    config.escrow_key_path.unlink()  # e.g. a server restored from a database backup only
    _create_user(app, "officer3")
    officer = db_session.scalar(select(User).where(User.username == "officer3"))
    assert officer is not None
    assert officer.id not in _wrap_holders(db_session, submission_id)
    client = _signed_in(app, "officer3")
    assert 'data-why="escrow_file"' in client.get("/console/intake/").text
    doctor = _doctor(app)
    assert doctor.exit_code == 1
    assert "escrow:" in doctor.output
    assert "missing" in doctor.output
    assert f"report {submission_id}\t" in doctor.output


def test_role_given_later_gets_a_key_pair_at_the_next_sign_in(
    app: Flask, db_session: Session, users: Any
) -> None:
    # An administrator gives the intake role to an existing account (no password at hand): the
    # next sign-in creates the key pair and seals to it every report they may see.
    _no_second_factor(db_session)
    submission_id = _tip(app)
    created = users.create(roles=["responder"])
    db_session.commit()
    assert login(app.test_client(), created.user.username, created.password).status_code == 302
    assert created.user.public_key is None  # a responder holds no intake key
    auth_service.set_roles(
        db_session, created.user, [Role.RESPONDER, Role.INTAKE_OFFICER], actor=audit.SYSTEM
    )
    db_session.commit()
    client = app.test_client()
    assert login(client, created.user.username, created.password).status_code == 302
    opened = client.get(f"/console/intake/{submission_id}")
    assert opened.status_code == 200
    assert TIP_TEXT in opened.text


SECRET = "escrow-test-secret-0123456789abcdefghijklmn"  # config refuses weak keys (issue 14)


@pytest.mark.parametrize("value", ["off", "false", "0"])
def test_strict_mode_setting(value: str, tmp_path: Any) -> None:
    from config import Config

    config = Config.from_env(
        {"CSIRT_INTAKE_ESCROW": value, "CSIRT_SECRET_KEY": SECRET}, instance_path=tmp_path
    )
    assert config.intake_escrow is False
    assert config.escrow_key_path == tmp_path / "intake_escrow.key"
    other = Config.from_env(
        {"CSIRT_INTAKE_ESCROW_KEY_FILE": str(tmp_path / "k"), "CSIRT_SECRET_KEY": SECRET},
        instance_path=tmp_path,
    )
    assert other.intake_escrow is True
    assert other.escrow_key_path == tmp_path / "k"


def test_backups_leave_the_escrow_key_file_out(database_url: str, tmp_path: Path) -> None:
    # The archive holds the database: with the KEK beside it, it would open every report.
    from csirt import backup
    from csirt.migrate import upgrade
    from tests.conftest import make_config
    from tests.test_backup import FAST, _fresh_url

    url = _fresh_url(database_url, tmp_path, "csirt_escrow_backup")
    upgrade(url)
    instance = tmp_path / "instance"
    config = make_config(url, instance)
    with make_session(url) as session:
        assert intake_escrow.Escrow.from_config(config).ensure_public_key(session) is not None
        session.commit()
    assert config.escrow_key_path.exists()
    (instance / "evidence.bin").write_bytes(b"kept")
    archive = tmp_path / "out.backup"
    summary = backup.create_backup(config, archive, "a long enough passphrase", params=FAST)
    assert summary.files == 1  # evidence.bin only
    restored = tmp_path / "restored"
    backup.restore_backup(
        make_config(_fresh_url(database_url, tmp_path, "csirt_escrow_restored"), restored),
        archive,
        "a long enough passphrase",
    )
    assert (restored / "evidence.bin").exists()
    assert not (restored / config.escrow_key_path.name).exists()


@contextmanager
def make_session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_password_reset_then_lost_recovery_key_starts_a_new_key(
    app: Flask, db_session: Session
) -> None:
    _no_second_factor(db_session)
    _create_user(app, "forgetful")
    submission_id = _tip(app)
    officer = db_session.scalar(select(User).where(User.username == "forgetful"))
    assert officer is not None
    old_public = officer.public_key
    # An administrator resets the password: the key stays wrapped under the old one.
    reset = app.test_cli_runner().invoke(
        args=["user", "password", "forgetful", "--password-stdin"],
        input="another long passphrase\n",
    )
    assert reset.exit_code == 0, reset.output
    assert "recovery key" in reset.output
    client = app.test_client()
    assert login(client, "forgetful", "another long passphrase").status_code == 302
    assert (
        client.get(f"/console/intake/{submission_id}")
        .headers["Location"]
        .endswith("/console/intake/key")
    )
    key_page = client.get("/console/intake/key")
    assert 'action="/console/intake/key/new"' in key_page.text
    refused = client.post(
        "/console/intake/key/new",
        data={"csrf_token": csrf_from(key_page.text), "new-password": "another long passphrase"},
    )
    assert refused.status_code == 400  # the checkbox says what is lost
    started = client.post(
        "/console/intake/key/new",
        data={
            "csrf_token": csrf_from(key_page.text),
            "new-password": "another long passphrase",
            "new-confirm": "y",
        },
    )
    assert started.status_code == 200
    assert "recovery-key" in started.text
    db_session.expire_all()
    assert officer.public_key != old_public
    page = client.get(f"/console/intake/{submission_id}")
    assert page.status_code == 200
    assert TIP_TEXT in page.text
    assert _doctor(app).output == ""


def test_password_reset_gives_a_key_pair_to_a_user_without_one(
    app: Flask, db_session: Session, users: Any
) -> None:
    submission_id = _tip(app)
    created = users.create(roles=["intake_officer"])  # made before this change: no key pair
    db_session.commit()
    result = app.test_cli_runner().invoke(
        args=["user", "password", created.user.username, "--password-stdin"],
        input="another long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert created.user.id in _wrap_holders(db_session, submission_id)
    missing = app.test_cli_runner().invoke(
        args=["user", "password", "nobody", "--password-stdin"], input="another long passphrase\n"
    )
    assert missing.exit_code != 0
    weak = app.test_cli_runner().invoke(
        args=["user", "password", created.user.username, "--password-stdin"], input="short\n"
    )
    assert weak.exit_code != 0
    assert "password" in weak.output


def test_admin_password_reset_in_the_console(
    app: Flask, db_session: Session, users: Any, login_as: Any, client: FlaskClient
) -> None:
    _no_second_factor(db_session)
    submission_id = _tip(app)
    keyless = users.create(roles=["intake_officer"])  # e.g. made before key pairs at creation
    db_session.commit()
    login_as("admin", totp=True)
    page = client.get(f"/console/admin/users/{keyless.user.id}")
    assert f'action="/console/admin/users/{keyless.user.id}/password"' in page.text
    weak = client.post(
        f"/console/admin/users/{keyless.user.id}/password",
        data={"csrf_token": csrf_from(page.text), "password": "short"},
    )
    assert weak.status_code == 302
    db_session.expire_all()
    assert keyless.user.public_key is None  # nothing written for a refused password
    done = client.post(
        f"/console/admin/users/{keyless.user.id}/password",
        data={"csrf_token": csrf_from(page.text), "password": "another long passphrase"},
    )
    assert done.status_code == 302
    db_session.expire_all()
    assert keyless.user.public_key is not None
    assert keyless.user.id in _wrap_holders(db_session, submission_id)
    officer_client = app.test_client()
    signed_in = login(officer_client, keyless.user.username, "another long passphrase")
    assert signed_in.headers["Location"].endswith("/console/")
    assert officer_client.get(f"/console/intake/{submission_id}").status_code == 200


def test_the_escrow_primitives_refuse_the_wrong_key() -> None:
    from csirt import vault
    from csirt.vault import escrow as vault_escrow

    kek = vault_escrow.new_escrow_kek()
    public, sealed = vault_escrow.new_organisation_key(kek)
    assert vault_escrow.decode_kek(vault_escrow.encode_kek(kek)) == kek
    assert vault_escrow.open_escrow_private(kek, sealed, public).public == public
    with pytest.raises(vault.TamperedError):
        vault_escrow.open_escrow_private(vault_escrow.new_escrow_kek(), sealed, public)
    other_public, _ = vault_escrow.new_organisation_key(kek)
    with pytest.raises(vault.TamperedError):
        vault_escrow.open_escrow_private(kek, sealed, other_public)
    for garbage in ("not base64 !!", "c2hvcnQ="):
        with pytest.raises(vault.KeyFormatError):
            vault_escrow.decode_kek(garbage)


def test_a_key_file_that_does_not_match_is_reported(
    app: Flask, db_session: Session, config: Any
) -> None:
    from csirt.vault import escrow as vault_escrow

    _no_second_factor(db_session)
    submission_id = _tip(app)
    config.escrow_key_path.write_text(vault_escrow.encode_kek(vault_escrow.new_escrow_kek()))
    _create_user(app, "officer4")
    doctor = _doctor(app)
    assert doctor.exit_code == 1
    assert "does not open" in doctor.output
    assert f"report {submission_id}\t" in doctor.output
    client = _signed_in(app, "officer4")
    assert 'data-why="escrow_file"' in client.get("/console/intake/").text
