"""The public form, receipt confirmation, mailbox, the reporter API and the console pages."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete as sqlalchemy_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.catalog import load_catalog
from csirt.intake import base, disclosure, handling, handoff
from csirt.intake.base import IntakeSettings
from csirt.intake.models import StaffKeySession, Submission
from csirt.yamlfile import playbooks_dir
from tests.conftest import csrf_from, login
from tests.intake.conftest import BASIC_ANSWERS, Staff, submit

RECEIPT_RE = re.compile(r'<span class="group">([0-9A-Z]{4})</span>')


VOCABULARY = load_catalog(playbooks_dir()).vocabulary


def _receipt(html: str) -> str:
    groups = RECEIPT_RE.findall(html)
    assert len(groups) == 6, html
    return "-".join(groups)


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _post_report(client: FlaskClient, **extra: Any) -> Any:
    page = client.get("/report/")
    data: dict[str, Any] = {
        "csrf_token": csrf_from(page.text),
        "step": "submit",
        "what_happened": "名簿がネット上にある",
        "data_items": ["name", "address"],
        "persons_estimate": "１，０００",
        "reporter_is_insider": "no",
        "whistleblower": "yes",
        "when_seen": "2015-06-24",
    }
    data.update(extra)
    return client.post("/report/", data=data, content_type="multipart/form-data")


def test_form_renders_every_field_type_without_scripts(client: FlaskClient) -> None:
    page = client.get("/report/")
    assert page.status_code == 200
    html = page.text
    for marker in ('type="checkbox"', 'type="radio"', 'type="date"', 'type="file"', "<textarea"):
        assert marker in html
    assert 'inputmode="numeric"' in html
    assert 'name="identity.name"' in html
    assert "<script" not in html
    assert "style=" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_full_flow_same_url_receipt_confirm_and_mailbox(
    client: FlaskClient, db_session: Session, officer: Staff
) -> None:
    response = _post_report(
        client,
        attachments=[(io.BytesIO(b"a note"), "note.txt", "text/plain")],
    )
    assert response.status_code == 200
    assert response.request.path == "/report/"
    receipt = _receipt(response.text)
    assert receipt not in response.headers.get("Location", "")
    token = _token(response.text)
    page = client.get("/report/")
    wrong = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "confirm",
            "token": token,
            "last_group": "ZZZZ",
            "kept": "yes",
        },
    )
    assert wrong.status_code == 400
    assert _receipt(wrong.text) == receipt
    unticked = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "confirm",
            "token": token,
            "last_group": receipt[-4:],
        },
    )
    assert unticked.status_code == 400
    done = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "confirm",
            "token": _token(wrong.text),
            "last_group": receipt[-4:].lower(),
            "kept": "yes",
        },
    )
    assert done.status_code == 200
    assert receipt not in done.text
    expired = client.post(
        "/report/",
        data={"csrf_token": csrf_from(page.text), "step": "confirm", "token": "garbage"},
    )
    assert expired.status_code == 400

    row = db_session.scalar(select(Submission))
    assert row is not None
    handling.officer_reply(db_session, officer.user, officer.private, row.id, "担当者からの返信")
    db_session.commit()

    login_page = client.get("/report/mailbox")
    bad = client.post(
        "/report/mailbox",
        data={"csrf_token": csrf_from(login_page.text), "step": "open", "receipt": "nonsense"},
    )
    opened = client.post(
        "/report/mailbox",
        data={"csrf_token": csrf_from(login_page.text), "step": "open", "receipt": receipt},
    )
    assert bad.status_code == 400
    assert opened.status_code == 200
    assert "担当者からの返信" in opened.text
    assert "note.txt" in opened.text
    reply = client.post(
        "/report/mailbox",
        data={
            "csrf_token": csrf_from(opened.text),
            "step": "reply",
            "token": _token(opened.text),
            "body": "ありがとうございます",
            "attachments": [(io.BytesIO(b"more"), "more.txt", "text/plain")],
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 200
    assert "ありがとうございます" in reply.text
    # The status follows the conversation: the handler replied, then the reporter answered.
    assert "担当者から返信があります" in opened.text
    assert "あなたのメッセージを受け付けました" in reply.text
    empty = client.post(
        "/report/mailbox",
        data={"csrf_token": csrf_from(opened.text), "step": "reply", "token": _token(opened.text)},
    )
    assert empty.status_code == 400
    stale = client.post(
        "/report/mailbox",
        data={"csrf_token": csrf_from(opened.text), "step": "reply", "token": "x"},
    )
    assert stale.status_code == 400
    no_csrf = client.post("/report/mailbox", data={"step": "open", "receipt": receipt})
    assert no_csrf.status_code == 400


def test_form_errors_keep_answers_and_say_400(client: FlaskClient) -> None:
    response = _post_report(client, what_happened="", persons_estimate="many")
    assert response.status_code == 400
    assert 'href="#q-what_happened-wrap"' in response.text
    assert "1,000" not in response.text
    assert 'value="many"' in response.text
    bad_file = _post_report(
        client, attachments=[(io.BytesIO(b"MZ"), "x.exe", "application/x-msdownload")]
    )
    assert bad_file.status_code == 400
    no_csrf = client.post("/report/", data={"what_happened": "x"})
    assert no_csrf.status_code == 400


def test_busy_hasher_gives_429_not_500(
    app: Flask, client: FlaskClient, settings: IntakeSettings
) -> None:
    settings.hasher.wait_timeout = 0
    for _ in range(settings.hasher.max_concurrent):
        settings.hasher._slots.acquire()
    try:
        response = _post_report(client)
        assert response.status_code == 429
        assert response.headers["Retry-After"]
        api = client.post("/api/v1/reports", json={"answers": {"what_happened": "x"}})
        assert api.status_code == 429
        mailbox = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": "A" * 24})
        assert mailbox.status_code in (401, 429)
    finally:
        for _ in range(settings.hasher.max_concurrent):
            settings.hasher._slots.release()


def test_api_submit_mailbox_and_identical_401(
    client: FlaskClient, db_session: Session, officer: Staff
) -> None:
    created = client.post(
        "/api/v1/reports",
        json={
            "answers": {"what_happened": "API tip", "whistleblower": False},
            "identity": {"name": "匿名希望"},
            "lang": "en",
        },
    )
    assert created.status_code == 201, created.json
    receipt = created.json["receipt"]
    assert set(created.json) == {"receipt", "answer_due"}
    read = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt})
    assert read.status_code == 200
    assert read.json["identity"]["given"] is True
    wrong = client.get(
        "/api/v1/reports/mailbox", headers={"X-Receipt": "7KQ2-M9XD-0000-0000-0000-0000"}
    )
    malformed = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": "hello"})
    missing = client.get("/api/v1/reports/mailbox")
    assert wrong.status_code == malformed.status_code == missing.status_code == 401
    assert wrong.data == malformed.data == missing.data
    posted = client.post(
        "/api/v1/reports/mailbox", headers={"X-Receipt": receipt}, json={"body": "追記"}
    )
    assert posted.status_code == 201
    multipart = client.post(
        "/api/v1/reports/mailbox",
        headers={"X-Receipt": receipt},
        data={"body": "file", "attachments": [(io.BytesIO(b"x"), "x.txt", "text/plain")]},
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 201
    empty = client.post(
        "/api/v1/reports/mailbox", headers={"X-Receipt": receipt}, json={"body": ""}
    )
    assert empty.status_code == 422
    assert "body" in empty.json["errors"]
    not_string = client.post(
        "/api/v1/reports/mailbox", headers={"X-Receipt": receipt}, json={"body": 3}
    )
    assert not_string.status_code == 422
    bad_reply = client.post(
        "/api/v1/reports/mailbox", headers={"X-Receipt": "x"}, json={"body": "a"}
    )
    assert bad_reply.status_code == 401
    assert bad_reply.data == wrong.data
    read = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt})
    assert [m["body"] for m in read.json["messages"]] == ["追記", "file"]
    assert read.json["messages"][1]["attachments"] == ["x.txt"]


def test_api_validation_names_fields(client: FlaskClient) -> None:
    bad = client.post(
        "/api/v1/reports",
        json={"answers": {"persons_estimate": "lots", "nope": 1}, "identity": {"age": "3"}},
    )
    assert bad.status_code == 422
    assert {"what_happened", "persons_estimate", "nope", "identity.age"} <= set(bad.json["errors"])
    assert client.post("/api/v1/reports", data="x", content_type="text/plain").status_code == 422
    shape = client.post("/api/v1/reports", json={"answers": [], "identity": "x", "lang": "fr"})
    assert set(shape.json["errors"]) == {"answers", "identity", "lang"}
    multipart = client.post(
        "/api/v1/reports",
        data={
            "document": '{"answers": {"what_happened": "multipart tip"}}',
            "attachments": [(io.BytesIO(b"hello"), "a.txt", "text/plain")],
        },
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 201
    broken = client.post(
        "/api/v1/reports", data={"document": "{"}, content_type="multipart/form-data"
    )
    assert broken.status_code == 422
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/reports" in spec["paths"]
    assert "/api/v1/reports/mailbox" in spec["paths"]


def test_intake_interface_serves_only_public_routes(make_app: Any) -> None:
    intake = make_app("intake")
    endpoints = set(intake.view_functions)
    assert "intake.index" in endpoints
    assert "api_intake.create_report" in endpoints
    assert not any(e.startswith("intake_console") for e in endpoints)
    intake_client = intake.test_client()
    assert intake_client.get("/report/").status_code == 200
    created = intake_client.post("/api/v1/reports", json={"answers": {"what_happened": "x"}})
    assert created.status_code == 201
    mailbox = intake_client.get(
        "/api/v1/reports/mailbox", headers={"X-Receipt": created.json["receipt"]}
    )
    assert mailbox.status_code == 200


def test_console_flow_login_open_reply_promote(
    client: FlaskClient, db_session: Session, users: Any, settings: IntakeSettings
) -> None:
    created = users.create(roles=["intake_officer"], totp=True)
    db_session.commit()
    assert created.user.public_key is None
    assert (
        login(client, created.user.username, created.password, created.totp_seed).status_code == 302
    )
    db_session.refresh(created.user)
    assert created.user.public_key is not None  # enrolled at first sign-in
    inbox = client.get("/console/intake/")
    # The inbox stays the inbox (the contract an outside check relies on) and points to the
    # one-time recovery key (it used to redirect to the key page).
    assert inbox.status_code == 200
    assert 'id="recovery-waiting"' in inbox.text
    key_page = client.get("/console/intake/key")
    assert "recovery-key" in key_page.text
    recovery = re.search(r'class="recovery-key">([^<]+)<', key_page.text).group(1)  # type: ignore[union-attr]
    assert "recovery-key" not in client.get("/console/intake/key").text  # shown once
    result = submit(db_session, settings, dict(BASIC_ANSWERS, **{"identity.name": "N"}))
    db_session.commit()
    inbox = client.get("/console/intake/")
    assert inbox.status_code == 200
    assert f"#{result.submission_id}" in inbox.text
    page = client.get(f"/console/intake/{result.submission_id}")
    assert page.status_code == 200
    assert BASIC_ANSWERS["what_happened"] in page.text
    csrf = csrf_from(page.text)
    assert (
        client.post(
            f"/console/intake/{result.submission_id}/reply", data={"csrf_token": csrf, "body": ""}
        ).status_code
        == 400
    )
    replied = client.post(
        f"/console/intake/{result.submission_id}/reply",
        data={"csrf_token": csrf, "body": "受け付けました"},
    )
    assert replied.status_code == 302
    requested = client.post(
        f"/console/intake/{result.submission_id}/identity/request",
        data={
            "csrf_token": csrf,
            "reason": "連絡を取り、証拠の提出方法を相談するため",
            "justification": "受付番号の返信がなく、調査の継続に通報者への確認が不可欠なため",
        },
    )
    assert requested.status_code == 302
    assert (
        client.post(
            f"/console/intake/{result.submission_id}/identity", data={"csrf_token": csrf}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/console/intake/{result.submission_id}/attach",
            data={"csrf_token": csrf, "case_id": "999999"},
        ).status_code
        == 400
    )
    promoted = client.post(
        f"/console/intake/{result.submission_id}/promote",
        data={"csrf_token": csrf, "title": "名簿の掲載"},
    )
    assert promoted.status_code == 302
    row = db_session.get(Submission, result.submission_id)
    db_session.refresh(row)
    assert row is not None
    assert row.case_id is not None
    # Password change re-wraps the key; the recovery key restores it after a reset.
    account = client.get("/console/account")
    changed = client.post(
        "/console/account/password",
        data={
            "csrf_token": csrf_from(account.text),
            "current": created.password,
            "new": "a brand new passphrase 42",
            "confirm": "a brand new passphrase 42",
        },
    )
    assert changed.status_code == 302, changed.text
    db_session.refresh(created.user)
    from csirt import vault

    vault.unwrap_private_key(created.user.wrapped_private_key, "a brand new passphrase 42")
    restore_page = client.get("/console/intake/key")
    bad = client.post(
        "/console/intake/key",
        data={
            "csrf_token": csrf_from(restore_page.text),
            "recovery_key": recovery,
            "password": "wrong",
        },
    )
    assert bad.status_code == 400
    restored = client.post(
        "/console/intake/key",
        data={
            "csrf_token": csrf_from(restore_page.text),
            "recovery_key": recovery,
            "password": "a brand new passphrase 42",
        },
    )
    assert restored.status_code == 200
    assert "recovery-key" in restored.text
    logout = client.post("/console/logout", data={"csrf_token": csrf_from(restored.text)})
    assert logout.status_code == 302
    db_session.expire_all()
    assert (
        db_session.scalars(
            select(StaffKeySession).where(StaffKeySession.user_id == created.user.id)
        ).all()
        == []
    )


def test_responder_gets_403_on_every_intake_console_page(
    client: FlaskClient, login_as: Any, db_session: Session, settings: IntakeSettings
) -> None:
    result = submit(db_session, settings)
    db_session.commit()
    login_as("responder")
    for path in (
        "/console/intake/",
        f"/console/intake/{result.submission_id}",
        "/console/intake/identity-requests",
    ):
        assert client.get(path).status_code == 403
    denied = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access.denied")
    ).all()
    assert len(denied) >= 3


def test_conflicted_officer_gets_404_and_an_audit_entry(
    client: FlaskClient, login_as: Any, db_session: Session, settings: IntakeSettings
) -> None:
    result = submit(db_session, settings)
    db_session.commit()
    login_as("intake_officer", department="選挙管理委員会事務局", totp=True)
    client.get("/console/intake/key")  # shows the recovery key once
    assert f"#{result.submission_id}" not in client.get("/console/intake/").text
    assert client.get(f"/console/intake/{result.submission_id}").status_code == 404
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "intake.denied")
    ).all()
    assert events
    assert events[-1].details["reason"] == "conflict"


def test_custodian_decides_in_the_console(
    client: FlaskClient,
    login_as: Any,
    db_session: Session,
    settings: IntakeSettings,
    officer: Staff,
) -> None:
    custodian_user = login_as("custodian", totp=True)  # enrolled at sign-in, before the report
    client.get("/console/intake/key")
    result = submit(
        db_session, settings, dict(BASIC_ANSWERS, **{"identity.contact": "x@example.invalid"})
    )
    request = disclosure.request_identity(
        db_session,
        officer.user,
        result.submission_id,
        "need to talk to them",
        justification="the mailbox went unanswered and the facts need the reporter",
    )
    db_session.commit()
    page = client.get("/console/intake/identity-requests")
    assert page.status_code == 200
    assert "need to talk to them" in page.text
    assert (
        client.post(
            f"/console/intake/identity-requests/{request.id}",
            data={"csrf_token": csrf_from(page.text)},
        ).status_code
        == 302
    )
    decided = client.post(
        f"/console/intake/identity-requests/{request.id}",
        data={"csrf_token": csrf_from(page.text), "decision": "approve", "note": "ok"},
    )
    assert decided.status_code == 302
    db_session.expire_all()
    assert disclosure.view_identity(
        db_session, officer.user, officer.private, result.submission_id
    ) == {"identity.contact": "x@example.invalid"}
    assert custodian_user.id != officer.user.id


def test_tampered_blob_is_refused_loudly(
    client: FlaskClient, db_session: Session, settings: IntakeSettings
) -> None:
    result = submit(db_session, settings)
    row = db_session.get(Submission, result.submission_id)
    assert row is not None
    blob = bytearray(row.receipt_wrap)
    blob[-1] ^= 1
    row.receipt_wrap = bytes(blob)
    db_session.commit()
    page = client.get("/report/mailbox")
    response = client.post(
        "/report/mailbox",
        data={"csrf_token": csrf_from(page.text), "step": "open", "receipt": result.receipt},
    )
    assert response.status_code == 500
    assert "完全性の検査" in response.text  # the default language is Japanese
    api = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": result.receipt})
    assert api.status_code == 500
    assert api.json["title"] == "Integrity Check Failed"


def _officer_client(app: Flask, db_session: Session, users: Any, **kwargs: Any) -> Any:
    created = users.create(roles=["intake_officer"], totp=True, **kwargs)
    db_session.commit()
    staff_client = app.test_client()
    login(staff_client, created.user.username, created.password, created.totp_seed)
    staff_client.get("/console/intake/key")  # the one-time recovery key
    return created, staff_client


def test_console_grant_download_identity_and_locks(
    app: Flask, db_session: Session, users: Any, strict: IntakeSettings, custodian: Staff
) -> None:
    # Strict mode: without the organisation key, an officer created later waits for a grant
    # (or for a key holder's sign-in; tests/intake/test_escrow.py).
    settings = strict
    first, first_client = _officer_client(app, db_session, users)
    answers = dict(BASIC_ANSWERS, **{"identity.name": "名前"})
    files = [base.Upload("a.txt", "text/plain", b"attached")]
    result = submit(db_session, settings, answers, files)
    other = submit(db_session, settings)
    db_session.commit()
    second, second_client = _officer_client(app, db_session, users, display_name="Second")
    sid = result.submission_id
    inbox = second_client.get("/console/intake/")
    assert 'data-why="ask_holder"' in inbox.text  # held by the first officer: ask them
    assert first.user.display_name in inbox.text
    assert second_client.get(f"/console/intake/{sid}").status_code == 302  # no key: back to inbox
    page = first_client.get(f"/console/intake/{sid}")
    csrf = csrf_from(page.text)
    attachment_id = re.search(r"/files/(\d+)\"", page.text).group(1)  # type: ignore[union-attr]
    stripped = first_client.get(f"/console/intake/{sid}/files/{attachment_id}")
    original = first_client.get(f"/console/intake/{sid}/files/{attachment_id}?original=1")
    assert stripped.data == original.data == b"attached"
    assert "attachment" in original.headers["Content-Disposition"]
    assert first_client.get(f"/console/intake/{sid}/files/99999").status_code == 404
    assert (
        first_client.post(f"/console/intake/{sid}/grant", data={"csrf_token": csrf}).status_code
        == 302
    )
    granted = first_client.post(
        f"/console/intake/{sid}/grant", data={"csrf_token": csrf, "user_id": second.user.id}
    )
    assert granted.status_code == 302
    assert second_client.get(f"/console/intake/{sid}").status_code == 200
    refused = first_client.post(
        f"/console/intake/{sid}/grant", data={"csrf_token": csrf, "user_id": custodian.user.id}
    )
    assert refused.status_code == 302
    all_granted = first_client.post(
        "/console/intake/grant-all", data={"csrf_token": csrf, "user_id": second.user.id}
    )
    assert all_granted.status_code == 302
    assert second_client.get(f"/console/intake/{other.submission_id}").status_code == 200
    bad_all = first_client.post(
        "/console/intake/grant-all", data={"csrf_token": csrf, "user_id": custodian.user.id}
    )
    assert bad_all.status_code == 302
    request = disclosure.request_identity(
        db_session,
        first.user,
        sid,
        "a reason that is long",
        justification="the mailbox went unanswered and the facts need the reporter",
    )
    private = custodian.private
    disclosure.decide_identity(db_session, custodian.user, private, request.id, approve=True)
    db_session.commit()
    shown = first_client.post(f"/console/intake/{sid}/identity", data={"csrf_token": csrf})
    assert shown.status_code == 200
    assert "名前" in shown.text
    assert first_client.post(f"/console/intake/{sid}/identity", data={}).status_code == 400
    no_identity = first_client.post(
        f"/console/intake/{other.submission_id}/identity/request",
        data={
            "csrf_token": csrf,
            "reason": "a reason that is long enough",
            "justification": "the mailbox went unanswered for weeks",
        },
    )
    assert no_identity.status_code == 302
    assert (
        first_client.post(
            f"/console/intake/{sid}/identity/request", data={"csrf_token": csrf}
        ).status_code
        == 400
    )
    assert (
        first_client.post(f"/console/intake/{sid}/promote", data={"csrf_token": csrf}).status_code
        == 400
    )
    assert (
        first_client.post(f"/console/intake/{sid}/attach", data={"csrf_token": csrf}).status_code
        == 400
    )
    first_private = Staff(first).private
    case_id = handoff.promote(
        db_session, first.user, first_private, other.submission_id, "case", vocabulary=VOCABULARY
    )
    db_session.commit()
    attached = first_client.post(
        f"/console/intake/{sid}/attach", data={"csrf_token": csrf, "case_id": case_id}
    )
    assert attached.status_code == 302
    again = first_client.post(
        f"/console/intake/{sid}/attach", data={"csrf_token": csrf, "case_id": case_id}
    )
    assert again.status_code == 302
    promote_again = first_client.post(
        f"/console/intake/{sid}/promote", data={"csrf_token": csrf, "title": "x"}
    )
    assert promote_again.status_code == 302
    assert first_client.get("/console/intake/?all=1").status_code == 200
    # A session whose key is gone is sent to the key page, for every act that needs the key.
    db_session.execute(sqlalchemy_delete(StaffKeySession))
    db_session.commit()
    for method, path, data in (
        ("get", f"/console/intake/{sid}", None),
        ("post", f"/console/intake/{sid}/reply", {"csrf_token": csrf, "body": "x"}),
        ("post", f"/console/intake/{sid}/promote", {"csrf_token": csrf, "title": "x"}),
        ("post", f"/console/intake/{sid}/identity", {"csrf_token": csrf}),
        ("post", f"/console/intake/{sid}/grant", {"csrf_token": csrf, "user_id": 1}),
        ("post", "/console/intake/grant-all", {"csrf_token": csrf, "user_id": 1}),
        ("get", f"/console/intake/{sid}/files/{attachment_id}", None),
    ):
        response = getattr(first_client, method)(path, data=data)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/console/intake/key"), path
    key_page = first_client.get("/console/intake/key")
    assert "鍵が開いていません" in key_page.text  # "not unlocked in this session"
    assert first_client.post("/console/intake/key", data={"csrf_token": csrf}).status_code == 400


def test_custodian_cannot_decide_own_request_in_console(
    client: FlaskClient, login_as: Any, db_session: Session, settings: IntakeSettings
) -> None:
    both = login_as("custodian", "intake_officer", totp=True)
    client.get("/console/intake/key")
    result = submit(db_session, settings, dict(BASIC_ANSWERS, **{"identity.name": "n"}))
    request = disclosure.request_identity(
        db_session,
        both,
        result.submission_id,
        "my own reason here",
        justification="the mailbox went unanswered and the facts need the reporter",
    )
    db_session.commit()
    page = client.get("/console/intake/identity-requests")
    assert "ご自身の申請です" in page.text  # "This is your own request"
    response = client.post(
        f"/console/intake/identity-requests/{request.id}",
        data={"csrf_token": csrf_from(page.text), "decision": "approve"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(type(request), request.id).status == "pending"  # type: ignore[union-attr]
