"""Issue 16 outside checks, through the API as a client sees it: documents dated as of a day,
frozen on approval, counting persons as the organisation states them, the PPC report naming
the reportable situation, and no internal title in any document."""

from __future__ import annotations

import io
from typing import Any

import docx
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.documents.builders import KINDS
from tests.documents.helpers import body_text
from tests.factories import FACTORY, UserFactory, assign_to_case

INTERNAL_TITLE = "内部件名：会計室職員のUSB持出し疑い（通報者あり）"
Headers = dict[str, str]


def _bearer(db_session: Session, users: UserFactory, role: str) -> Headers:
    user = users.create(roles=[role]).user
    _token, plain = auth_service.create_token(
        db_session, user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}", "X-User": str(user.id)}


def _assign(db_session: Session, headers: Headers, case_id: int, role: str) -> None:
    from csirt.auth.models import User

    user = db_session.get(User, int(headers["X-User"]))
    assert user is not None
    assign_to_case(db_session, user, case_id, role)


@pytest.fixture
def team(db_session: Session, users: UserFactory) -> dict[str, Headers]:
    return {
        "lead": _bearer(db_session, users, "lead"),
        "approver": _bearer(db_session, users, "lead"),
        "pr": _bearer(db_session, users, "pr"),
    }


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.json


def _new_case(
    client: FlaskClient, db_session: Session, team: dict[str, Headers], **facts: Any
) -> int:
    """A local-government case made through the API: data sets, public events, public facts."""
    lead = team["lead"]
    case = _ok(
        client.post(
            "/api/v1/cases",
            json={"title": INTERNAL_TITLE, "summary": "内部の概要（非公開）"},
            headers=lead,
        ),
        201,
    )
    case_id = int(case["id"])
    for role, headers in team.items():
        _assign(db_session, headers, case_id, "pr" if role == "pr" else "lead")
    for name, persons in facts.get("datasets", ()):
        _ok(
            client.post(
                f"/api/v1/cases/{case_id}/datasets",
                json={
                    "name": name,
                    "items": ["name", "address"],
                    "persons": persons,
                    "exposure": "public_internet",
                },
                headers=lead,
            ),
            201,
        )
    for when, title in facts.get("events", ()):
        _event(client, lead, case_id, when, title)
    if "public" in facts:
        _ok(client.put(f"/api/v1/cases/{case_id}/public-facts", json=facts["public"], headers=lead))
    return case_id


def _event(client: FlaskClient, headers: Headers, case_id: int, when: str, title: str) -> None:
    _ok(
        client.post(
            f"/api/v1/cases/{case_id}/timeline",
            json={"occurred_at": when, "title": title, "visibility": "public"},
            headers=headers,
        ),
        201,
    )


def _document(client: FlaskClient, headers: Headers, case_id: int, **body: Any) -> int:
    created = _ok(
        client.post(f"/api/v1/cases/{case_id}/documents", json=body, headers=headers), 201
    )
    return int(created["id"])


def _text(client: FlaskClient, headers: Headers, document_id: int) -> str:
    response = client.get(f"/api/v1/documents/{document_id}/docx", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return body_text(docx.Document(io.BytesIO(response.data)))


PUBLIC = {
    "public_title": "個人情報の漏えいについて",
    "public_summary": "市が保有する個人情報がインターネット上で閲覧可能な状態にあった。",
    "contact": {"department": "総務課", "phone": "072-111-2222"},
}


def test_as_of_leaves_out_later_public_events(client, db_session, team) -> None:
    case_id = _new_case(
        client,
        db_session,
        team,
        datasets=[("選挙人名簿", 1000)],
        events=[("2015-06-24", "匿名の通報を受付"), ("2016-03-02", "刑事告訴")],
        public=PUBLIC,
    )
    pr = team["pr"]
    early = _document(client, pr, case_id, kind="press_release", lang="ja", as_of="2015-12-14")
    assert _ok(client.get(f"/api/v1/documents/{early}", headers=pr))["as_of"] == "2015-12-14"
    text = _text(client, pr, early)
    assert "匿名の通報を受付" in text
    assert "刑事告訴" not in text
    assert "平成27年(2015年)12月14日（月）" in text
    late = _document(client, pr, case_id, kind="press_release", lang="ja", as_of="2016-03-31")
    assert "刑事告訴" in _text(client, pr, late)
    bad = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "as_of": "2015-13-40"},
        headers=pr,
    )
    assert bad.status_code == 422
    assert "as_of" in bad.json["errors"]


def test_approved_export_keeps_its_facts(client, db_session, team) -> None:
    case_id = _new_case(
        client,
        db_session,
        team,
        datasets=[("選挙人名簿", 1000)],
        events=[("2015-06-24", "匿名の通報を受付")],
        public=PUBLIC,
    )
    document = _document(client, team["pr"], case_id, kind="press_release", lang="ja")
    _ok(client.post(f"/api/v1/documents/{document}/approve", json={}, headers=team["approver"]))
    _event(client, team["lead"], case_id, "2015-07-01", "新たに公表した経過")
    text = _text(client, team["pr"], document)
    assert "匿名の通報を受付" in text
    assert "新たに公表した経過" not in text


def test_stated_persons_total_not_the_sum(client, db_session, team) -> None:
    case_id = _new_case(
        client,
        db_session,
        team,
        datasets=[("選挙人名簿", 680_000), ("郵便投票資格者", 1_572)],
        public=PUBLIC,
    )
    patched = _ok(
        client.patch(
            f"/api/v1/cases/{case_id}",
            json={"persons_total": 680_000, "persons_total_note": "重複を除く"},
            headers=team["lead"],
        )
    )
    assert patched["persons_total"] == 680_000
    document = _document(client, team["pr"], case_id, kind="press_release", lang="ja")
    text = _text(client, team["pr"], document)
    assert "680,000人（重複を除く）" in text
    assert "681,572" not in text
    bad = client.patch(f"/api/v1/cases/{case_id}", json={"persons_total": -1}, headers=team["lead"])
    assert bad.status_code == 422


def test_ppc_report_names_the_reportable_situation(client, db_session, team) -> None:
    case_id = _new_case(client, db_session, team, datasets=[("選挙人名簿", 680_000)], public=PUBLIC)
    document = _document(client, team["pr"], case_id, kind="ppc_report", lang="ja")
    text = _text(client, team["pr"], document)
    assert "☑ 本人の数が100人を超える事態（規則43条4号）" in text
    assert "漏えい等報告フォーム" in text  # a working copy for the online form


def test_empty_public_facts_never_print_the_internal_title(client, db_session, team) -> None:
    # A data set named in English: English documents are allowed (nothing public is Japanese).
    case_id = _new_case(client, db_session, team, datasets=[("Voters roll", 10)])
    facts = _ok(client.get(f"/api/v1/cases/{case_id}/public-facts", headers=team["pr"]))
    assert facts["public_title"] == ""
    for kind in KINDS:
        for lang in ("ja", "en"):
            document = _document(client, team["lead"], case_id, kind=kind, lang=lang)
            text = _text(client, team["lead"], document)
            assert INTERNAL_TITLE not in text, (kind, lang)
            assert "内部の概要" not in text, (kind, lang)


def test_public_facts_round_trip_and_validation(client, db_session, team) -> None:
    case_id = _new_case(client, db_session, team, datasets=[("名簿", 10), ("再掲", 3)])
    url = f"/api/v1/cases/{case_id}/public-facts"
    lead = team["lead"]
    facts = _ok(client.get(url, headers=lead))
    assert set(facts) >= {"public_title", "causes", "committee", "recommendations", "contact"}
    body = {
        **PUBLIC,
        "causes": ["持出し承認の仕組みがなかった。"],
        "contact": {"phone": "072-111-2222"},
        "caution": "不審な電話にご注意ください。",
        "committee": {
            "name": "検証委員会",
            "period_start": "2015-12-21",
            "period_end": "2016-02-25",
            "members": [{"name": "委員A", "affiliation": "弁護士", "role": "委員長"}],
            "meetings": [{"day": "2015-12-21", "summary": "第1回"}],
        },
    }
    saved = _ok(client.put(url, json=body, headers=lead))
    assert saved["causes"] == ["持出し承認の仕組みがなかった。"]
    assert saved["contact"] == {"phone": "072-111-2222"}
    assert _ok(client.get(url, headers=lead))["committee"]["name"] == "検証委員会"
    for bad, field in (
        ({"public_title": 5}, "public_title"),
        ({"nonsense": "x"}, "nonsense"),
        ({"committee": {"name": "x", "period_start": "2016-01-01"}}, "committee"),
        ({"datasets": {"999999": {"count": "max"}}}, "datasets"),
        ({"ppc_stage": "later"}, "ppc_stage"),
        ({"ppc_stage": []}, "ppc_stage"),  # found by the API fuzz: was a 500
        ({"datasets": {"1": {"count": []}}}, "datasets"),
    ):
        response = client.put(url, json=bad, headers=lead)
        assert response.status_code == 422, (bad, response.status_code)
        assert field in str(response.json.get("errors", response.json)), response.json
    # A committee report is dated on or after the end of the committee's period.
    early = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "committee_report", "as_of": "2016-01-31"},
        headers=lead,
    )
    assert early.status_code == 422
    assert "as_of" in early.json["errors"]
    paths = client.get("/api/v1/openapi.json", headers=lead).json["paths"]
    operations = next(v for k, v in paths.items() if k.endswith("/cases/{case_id}/public-facts"))
    assert {"get", "put"} <= set(operations)
