"""Finding 5: the public-text guard let disguised contacts and receipts pass, refused ordinary
words containing a username, and never said which word. Driven through the documents API."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import CaseMember
from csirt.vault.receipts import new_receipt
from tests.documents.conftest import make_demo_case
from tests.factories import UserFactory
from tests.security.conftest import bearer


class Doc:
    def __init__(self, client: FlaskClient, author: dict[str, str], lead: dict[str, str], url: str):
        self.client, self.author, self.lead, self.url = client, author, lead, url

    def write(self, text: str, section: str = "overview") -> None:
        response = self.client.patch(
            f"{self.url}/sections", json={"sections": {section: text}}, headers=self.author
        )
        assert response.status_code == 200, response.json

    def export(self, headers: dict[str, str] | None = None, override: list[str] | None = None):
        query = "".join(f"&guard_override={o}" for o in override or [])
        return self.client.get(f"{self.url}/docx?x=1{query}", headers=headers or self.author)


@pytest.fixture
def doc(client: FlaskClient, db_session: Session, users: UserFactory) -> Doc:
    lead = users.create(roles=["lead"]).user
    demo = make_demo_case(db_session, lead)
    # Members whose usernames and display names are ordinary words.
    for username, display in (("pr", "広報担当"), ("committee", "検証委員"), ("kaikei", "会計")):
        member = users.create(roles=["responder"], username=username, display_name=display)
        db_session.add(CaseMember(case_id=demo.case.id, user_id=member.user.id, role="member"))
    author = users.create(roles=["pr"]).user
    db_session.add(CaseMember(case_id=demo.case.id, user_id=author.id, role="member"))
    db_session.commit()
    author_h = bearer(db_session, author, "read", "write", "export")
    lead_h = bearer(db_session, lead, "read", "write", "export")
    created = client.post(
        f"/api/v1/cases/{demo.case.id}/documents",
        # Japanese: the demo case's public facts exist only in Japanese (an English document is
        # refused for it, issue 16); the guard reads the section text whatever its language.
        json={"kind": "press_release", "lang": "ja"},
        headers=author_h,
    )
    assert created.status_code == 201, created.json
    return Doc(client, author_h, lead_h, f"/api/v1/documents/{created.json['id']}")


DISGUISED = [
    ("090 - 1234 - 5678", "phone"),
    ("090/1234/5678", "phone"),
    ("〇九〇‐一二三四‐五六七八", "phone"),
    ("taro.yamada @ example.jp", "email"),
    ("taro.yamada[at]example.jp", "email"),
    ("taro.yamada (at) example.jp", "email"),
    ("taro.yamada＠example.jp", "email"),
]


@pytest.mark.parametrize(("text", "kind"), DISGUISED)
def test_disguised_contacts_are_refused_naming_text_and_section(doc: Doc, text: str, kind: str):
    doc.write(f"Contact the person at {text} for details.")
    refused = doc.export()
    assert refused.status_code == 422
    findings = refused.json["findings"]
    assert [(f["section"], f["kind"]) for f in findings] == [("overview", kind)]
    assert findings[0]["text"]  # the matched text is named
    assert "overview" in refused.json["detail"]


def test_a_receipt_written_with_spaces_is_refused(doc: Doc):
    receipt = new_receipt()
    spaced = " ".join(receipt.replace("-", "")[i : i + 2] for i in range(0, 24, 2)).lower()
    doc.write(f"受付番号は {spaced} です。")
    refused = doc.export()
    assert refused.status_code == 422
    assert [f["kind"] for f in refused.json["findings"]] == ["receipt"]
    assert refused.json["findings"][0]["override_key"] is None  # never overridable


def test_ordinary_words_containing_usernames_pass(doc: Doc):
    doc.write(
        "In April the city took steps to prevent recurrence. The committee report follows. "
        "会計室と検証委員会が確認しました。"
    )
    exported = doc.export()
    assert exported.status_code == 200, exported.json


def test_a_member_name_as_a_whole_token_is_still_refused(doc: Doc):
    doc.write("検証委員は本件を確認した。Ask pr for more.")
    refused = doc.export()
    assert refused.status_code == 422
    texts = sorted(f["text"] for f in refused.json["findings"])
    assert texts == ["検証委員"]  # "pr" is shorter than the minimum: never matched


def test_lead_override_of_a_false_positive_is_audited(doc: Doc, db_session: Session):
    doc.write("検証委員は本件を確認した。")
    refused = doc.export()
    key = refused.json["findings"][0]["override_key"]
    assert key
    # The author (PR) cannot override; a lead can, and it is audited without the text.
    assert doc.export(override=[key]).status_code == 422
    passed = doc.export(headers=doc.lead, override=[key])
    assert passed.status_code == 200, passed.json
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.guard_override")
    ).one()
    assert event.details["passed"] == [f"overview:sealed_data:{key}"]
    assert "検証委員" not in str(event.details)


def test_must_show_press_release_with_spaced_phone_is_refused(doc: Doc) -> None:
    doc.write("問い合わせ先：090 - 1234 - 5678", section="overview")
    response: Any = doc.export()
    assert response.status_code == 422
    assert response.json["findings"][0]["text"].replace(" ", "") == "090-1234-5678"
