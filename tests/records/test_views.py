"""Console pages: forms with good and bad input, downloads, need-to-know."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import (
    AffectedDataset,
    CustodyEntry,
    Evidence,
    Inquiry,
    LiaisonEntry,
    Note,
    TakedownRequest,
)
from tests.conftest import csrf_from


def base(case: Any) -> str:
    return f"/console/cases/{case.id}"


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, Any], **kw: Any) -> Any:
    token = csrf_from(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, **kw)


def test_every_tab_shows_and_hides_other_cases(client: FlaskClient, case, other_case):
    for tab in ("datasets", "evidence", "notes", "liaison", "inquiries"):
        page = client.get(f"{base(case)}/{tab}")
        assert page.status_code == 200
        assert 'aria-current="page"' in page.text
        assert client.get(f"{base(other_case)}/{tab}").status_code == 404
    assert client.get("/console/cases/999999/datasets").status_code == 404


def test_add_edit_delete_dataset(client: FlaskClient, case, db_session: Session):
    page = f"{base(case)}/datasets"
    assert "(要配慮)" in client.get(page).text
    response = post_form(
        client,
        page,
        page,
        {
            "name": "選挙人名簿 北区",
            "holder": "選挙管理委員会",
            "items": ["name", "address", "medical_history"],
            "persons": "68000",
            "persons_estimated": "y",
            "exposure": "public_internet",
            "exposed_from": "2015-04-01T10:00",
        },
    )
    assert response.status_code == 302
    row = db_session.scalars(
        select(AffectedDataset).where(AffectedDataset.case_id == case.id)
    ).one()
    assert row.items == ["name", "address", "medical_history"]
    assert row.persons_estimated
    listing = client.get(page).text
    assert "選挙人名簿 北区" in listing
    assert "68,000" in listing
    edit = f"{page}/{row.id}/edit"
    form_page = client.get(edit)
    assert form_page.status_code == 200
    assert 'value="2015-04-01T10:00"' in form_page.text
    bad = post_form(
        client,
        edit,
        edit,
        {
            "name": "x",
            "persons": "10",
            "exposure": "public_internet",
            "exposed_from": "2015-05-01T00:00",
            "exposed_until": "2015-04-01T00:00",
        },
    )
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text
    good = post_form(client, edit, edit, {"name": "住民票", "persons": "10", "exposure": "lost"})
    assert good.status_code == 302
    db_session.refresh(row)
    assert row.name == "住民票"
    assert row.items == []
    assert row.exposure == "lost"
    assert client.get(f"{page}/999999/edit").status_code == 404
    row_id = row.id
    confirm = f"{page}/{row_id}/delete"
    assert client.get(confirm).status_code == 200  # a confirmation page first
    assert post_form(client, confirm, confirm, {}).status_code == 400  # a reason is needed
    gone = post_form(client, confirm, confirm, {"reason": "重複登録"})
    assert gone.status_code == 302
    db_session.expire_all()
    assert db_session.scalars(select(AffectedDataset.id)).all() == []
    assert client.post(f"{page}/{row_id}/delete", data={}).status_code == 400
    again = post_form(client, page, f"{page}/{row_id}/delete", {"reason": "x"})
    assert again.status_code == 404
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.case_id == case.id, AuditEvent.action.like("dataset.%")
        )
    ).all()
    assert actions == ["dataset.create", "dataset.update", "dataset.delete"]


def test_bad_dataset_form_writes_nothing(client: FlaskClient, case, db_session: Session):
    page = f"{base(case)}/datasets"
    response = post_form(
        client, page, page, {"name": "", "persons": "-3", "exposure": "nowhere", "items": ["zzz"]}
    )
    assert response.status_code == 400
    assert response.text.count('class="errors"') >= 3
    assert db_session.scalars(select(AffectedDataset)).all() == []


def test_upload_download_custody(
    client: FlaskClient, case, db_session: Session, evidence_dir, blobs
):
    page = f"{base(case)}/evidence"
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    response = post_form(
        client,
        page,
        page,
        {
            "kind": "web_capture",
            "url": "https://bbs.example/thread/1",
            "captured_at": "2015-05-01T12:00",
            "file": (io.BytesIO(html), "../../etc/passwd"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    row = db_session.scalars(select(Evidence).where(Evidence.case_id == case.id)).one()
    assert row.filename == "passwd"
    assert row.content_type == "text/html"
    stored = list(evidence_dir.rglob("*"))
    assert all(p.resolve().is_relative_to(evidence_dir.resolve()) for p in stored)
    assert blobs.read(row.sha256) == html
    detail = client.get(f"{page}/{row.id}")
    assert row.sha256 in detail.text
    assert "https://bbs.example/thread/1" in detail.text
    download = client.get(f"{page}/{row.id}/download")
    assert download.status_code == 200
    assert download.data == html
    download.close()
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    custody = post_form(
        client,
        f"{page}/{row.id}",
        f"{page}/{row.id}/custody",
        {"action": "transferred", "note": "handed to 府警 on USB"},
    )
    assert custody.status_code == 302
    bad_custody = post_form(
        client, f"{page}/{row.id}", f"{page}/{row.id}/custody", {"action": "collected"}
    )
    assert bad_custody.status_code == 400
    actions = db_session.scalars(
        select(CustodyEntry.action)
        .where(CustodyEntry.evidence_id == row.id)
        .order_by(CustodyEntry.id)
    ).all()
    assert actions == ["collected", "downloaded", "transferred"]
    audited = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "evidence.download")
    ).all()
    assert len(audited) == 1
    assert "handed to 府警 on USB" in client.get(f"{page}/{row.id}").text
    assert client.get(f"{page}/999999").status_code == 404
    assert client.get(f"{page}/999999/download").status_code == 404


def test_png_downloads_keep_their_type_and_missing_files_are_gone(
    client: FlaskClient, case, db_session: Session, blobs
):
    page = f"{base(case)}/evidence"
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    post_form(
        client,
        page,
        page,
        {"kind": "file", "title": "スクリーンショット", "file": (io.BytesIO(png), "shot.png")},
        content_type="multipart/form-data",
    )
    row = db_session.scalars(select(Evidence).where(Evidence.case_id == case.id)).one()
    download = client.get(f"{page}/{row.id}/download")
    assert download.headers["Content-Type"] == "image/png"
    assert "shot.png" in download.headers["Content-Disposition"]
    download.close()
    blobs.remove(row.sha256)
    assert client.get(f"{page}/{row.id}/download").status_code == 410


def test_bad_uploads(client: FlaskClient, case, db_session: Session, blobs):
    page = f"{base(case)}/evidence"
    missing = post_form(client, page, page, {"kind": "web_capture"})
    assert missing.status_code == 400
    assert missing.text.count('class="errors"') >= 3
    exe = post_form(
        client,
        page,
        page,
        {
            "kind": "web_capture",
            "url": "https://x.example",
            "captured_at": "2015-05-01T12:00",
            "file": (io.BytesIO(b"MZ\x90"), "x.exe"),
        },
        content_type="multipart/form-data",
    )
    assert exe.status_code == 400
    assert db_session.scalars(select(Evidence)).all() == []
    assert blobs.none()


def test_takedown_requests(client: FlaskClient, case, db_session: Session):
    page = f"{base(case)}/evidence"
    action = f"{base(case)}/takedowns"
    ok = post_form(
        client,
        page,
        action,
        {"td-kind": "cache_removal", "td-recipient": "Google", "td-url": "https://bbs.example/t/1"},
    )
    assert ok.status_code == 302
    row = db_session.scalars(select(TakedownRequest)).one()
    bad = post_form(
        client, page, action, {"td-kind": "takedown", "td-recipient": "", "td-url": "nope"}
    )
    assert bad.status_code == 400
    wrong_evidence = post_form(
        client,
        page,
        action,
        {"td-recipient": "X", "td-url": "https://x.example", "td-evidence_id": "999"},
    )
    assert wrong_evidence.status_code == 400
    prefix = f"t{row.id}-"
    answer = post_form(
        client,
        page,
        f"{action}/{row.id}",
        {prefix + "status": "removed", prefix + "answer": "キャッシュ削除済み"},
    )
    assert answer.status_code == 302
    db_session.refresh(row)
    assert row.status == "removed"
    assert row.answered_at is not None
    assert "キャッシュ削除済み" in client.get(page).text
    refused = post_form(client, page, f"{action}/{row.id}", {prefix + "status": "bogus"})
    assert refused.status_code == 400
    early = post_form(
        client,
        page,
        f"{action}/{row.id}",
        {prefix + "status": "refused", prefix + "answered_at": "2000-01-01T00:00"},
    )
    assert early.status_code == 400
    assert (
        post_form(client, page, f"{action}/999999", {"t999999-status": "removed"}).status_code
        == 404
    )


def test_notes_are_sanitised_and_only_authors_edit(
    client: FlaskClient, case, db_session: Session, users, app
):
    page = f"{base(case)}/notes"
    ok = post_form(
        client,
        page,
        page,
        {"body": "**重要** <script>alert(1)</script> [x](javascript:alert(2)) [y](https://e.jp)"},
    )
    assert ok.status_code == 302
    html = client.get(page).text
    assert "<strong>重要</strong>" in html
    assert "<script>alert(1)" not in html
    assert 'href="javascript' not in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert post_form(client, page, page, {"body": ""}).status_code == 400
    note = db_session.scalars(select(Note)).one()
    edit = f"{page}/{note.id}/edit"
    assert client.get(edit).status_code == 200
    assert post_form(client, edit, edit, {"body": ""}).status_code == 400
    assert post_form(client, edit, edit, {"body": "直した"}).status_code == 302
    db_session.refresh(note)
    assert note.body == "直した"
    assert client.get(f"{page}/999999/edit").status_code == 404
    stranger_note = Note(case_id=case.id, author_id=None, body="someone else's")
    db_session.add(stranger_note)
    db_session.commit()
    assert client.get(f"{page}/{stranger_note.id}/edit").status_code == 403


def test_liaison(client: FlaskClient, case, db_session: Session):
    page = f"{base(case)}/liaison"
    ok = post_form(
        client,
        page,
        page,
        {
            "party_kind": "regulator",
            "party": "個人情報保護委員会",
            "contact_at": "2015-06-30T09:30",
            "direction": "out",
            "summary": "速報を報告",
        },
    )
    assert ok.status_code == 302
    assert "個人情報保護委員会" in client.get(page).text
    bad = post_form(client, page, page, {"party_kind": "press", "party": "", "contact_at": ""})
    assert bad.status_code == 400
    assert db_session.scalars(select(LiaisonEntry)).one().party_kind == "regulator"


def test_inquiries_chart_and_answering(client: FlaskClient, case, db_session: Session):
    page = f"{base(case)}/inquiries"
    for day, n in (("2015-06-30", 3), ("2015-07-02", 1)):
        for _ in range(n):
            r = post_form(
                client, page, page, {"channel": "phone", "received_on": day, "topic": "t"}
            )
            assert r.status_code == 302
    html = client.get(page).text
    assert "<svg" in html
    assert 'style="' not in html
    widths = re.findall(r'<rect x="\d+" y="\d+" width="(\d+)" height="\d+" class="total"', html)
    assert widths == ["520", "0", "173"]  # 3, 0 (the gap day) and 1 inquiries
    bad = post_form(client, page, page, {"channel": "fax", "received_on": "tomorrow"})
    assert bad.status_code == 400
    row = db_session.scalars(select(Inquiry)).first()
    done = post_form(client, page, f"{page}/{row.id}/answered", {})
    assert done.status_code == 302
    db_session.refresh(row)
    assert row.answered
    assert client.post(f"{page}/{row.id}/answered", data={}).status_code == 400
    assert post_form(client, page, f"{page}/999999/answered", {}).status_code == 404


def test_read_only_users_see_no_forms(app, db_session: Session, users, case):
    from csirt.cases.models import CaseMember
    from tests.conftest import login

    viewer = users.create(roles=["intake_officer"], totp=True)  # CASE_VIEW without CASE_EDIT
    db_session.add(CaseMember(case_id=case.id, user_id=viewer.user.id, role="observer"))
    db_session.commit()
    other = app.test_client()
    login(other, viewer.user.username, viewer.password, viewer.totp_seed)
    page = other.get(f"{base(case)}/datasets")
    assert page.status_code == 200
    assert "records.add_dataset" not in page.text
    assert f'action="{base(case)}/datasets"' not in page.text
    refused = other.post(f"{base(case)}/datasets", data={"name": "x"})
    assert refused.status_code == 403
