"""The intake hands off: promotion is a fact change, and people are told (content-free).

Everything goes through real requests (the public API, the console forms, the cases API) and a
real SMTP sink; no signal is sent by hand.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth import service as auth
from csirt.cases.models import AffectedDataset, Case, CaseMember, TimelineEvent
from csirt.intake.models import Submission
from csirt.notify.models import Notification
from csirt.triage.models import TriageRun
from tests.conftest import csrf_from, login
from tests.factories import FACTORY, UserFactory
from tests.intake.conftest import BASIC_ANSWERS
from tests.teams import conftest as teams_fixtures
from tests.teams.conftest import Sink, World

# The real SMTP sink and team builders of tests/teams (assigned: fixtures here too).
smtp_sink = teams_fixtures.smtp_sink
mail_app = teams_fixtures.mail_app
sink = teams_fixtures.sink
world = teams_fixtures.world

WEEK = timedelta(days=7)
URL = str(BASIC_ANSWERS["where_seen"])
TIP_TEXT = str(BASIC_ANSWERS["what_happened"])


def _officer(
    app: Flask, db_session: Session, users: UserFactory, name: str, **kwargs: Any
) -> tuple[Any, FlaskClient]:
    """An intake officer (Japanese UI, with email) signed in through the real form."""
    created = users.create(roles=["intake_officer"], totp=True, username=name, **kwargs)
    created.user.email = f"{name}@example.jp"
    created.user.lang = "ja"
    db_session.commit()
    client = app.test_client()
    assert login(client, name, created.password, created.totp_seed).status_code == 302
    client.get("/console/intake/key")  # the one-time recovery key page
    return created.user, client


def _post_tip(client: FlaskClient, **answers: Any) -> str:
    response = client.post(
        "/api/v1/reports", json={"answers": dict(BASIC_ANSWERS, **answers), "lang": "ja"}
    )
    assert response.status_code == 201, response.text
    return str(response.json["receipt"])


def _latest_submission(db_session: Session) -> Submission:
    db_session.expire_all()
    row = db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert row is not None
    return row


def _mails_to(sink: Sink, address: str) -> list[str]:
    return [str(m["Subject"]) + "\n" + m.get_content() for m in sink.messages if m["To"] == address]


def _assert_content_free(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in (TIP_TEXT, URL, *secrets):
            assert secret not in text, text


def _promote(client: FlaskClient, submission_id: int, title: str = "名簿の掲載") -> int:
    page = client.get(f"/console/intake/{submission_id}")
    assert page.status_code == 200
    assert re.search(r'action="[^"]*/promote"', page.text)
    response = client.post(
        f"/console/intake/{submission_id}/promote",
        data={"csrf_token": csrf_from(page.text), "title": title},
    )
    assert response.status_code == 302, response.text
    match = re.search(r"/console/cases/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_new_tip_tells_every_officer_who_may_see_it(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory, sink: Sink
) -> None:
    first = users.create(roles=["intake_officer"], username="first").user
    second = users.create(roles=["intake_officer"], username="second").user
    named = users.create(
        roles=["intake_officer"], username="named", department="選挙管理委員会事務局"
    ).user
    bystander = users.create(roles=["responder"], username="bystander").user
    for user in (first, second, named, bystander):
        user.email = f"{user.username}@example.jp"
    db_session.commit()

    receipt = _post_tip(client)
    submission = _latest_submission(db_session)

    for user in (first, second):
        mails = _mails_to(sink, user.email or "")
        assert len(mails) == 1
        assert f"#{submission.id}" in mails[0]
        assert f"/console/intake/{submission.id}" in mails[0]
        _assert_content_free(mails, receipt, "選挙管理委員会事務局")
    # The officer named as involved is not even told that a report exists; nor is a responder.
    assert _mails_to(sink, "named@example.jp") == []
    assert _mails_to(sink, "bystander@example.jp") == []
    rows = db_session.scalars(
        select(Notification).where(Notification.kind == "report_new").order_by(Notification.id)
    ).all()
    assert [r.user_id for r in rows] == [first.id, second.id]
    for row in rows:
        assert row.link == f"/console/intake/{submission.id}"
        assert (row.created_at.minute, row.created_at.second) == (0, 0)  # the hour only
        assert "http" not in row.body  # the in-app row keeps the path, not the server's address


def test_a_rejected_tip_tells_nobody(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory, sink: Sink
) -> None:
    users.create(roles=["intake_officer"], username="officer").user.email = "o@example.jp"
    db_session.commit()
    response = client.post("/api/v1/reports", json={"answers": {"persons_estimate": "many"}})
    assert response.status_code == 422
    assert sink.messages == []
    assert db_session.scalars(select(Notification)).all() == []


def test_promotion_runs_triage_pages_the_on_call_lead_and_fills_the_data_set_in_japanese(
    mail_app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    sink: Sink,
    world: World,
) -> None:
    on_call = world.person("oncall", roles=("lead",))
    world.team("first-response", [on_call], first_response=True, start=date.today() - WEEK)
    _token, plain = auth.create_token(db_session, on_call, actor=FACTORY)
    db_session.commit()
    officer, officer_client = _officer(mail_app, db_session, users, "handler")

    _post_tip(client)
    submission = _latest_submission(db_session)
    inbox = officer_client.get("/console/intake/")
    assert f"/console/intake/{submission.id}" in inbox.text
    case_id = _promote(officer_client, submission.id)

    db_session.expire_all()
    case = db_session.get(Case, case_id)
    assert case is not None
    assert case.priority == "P1"
    assert case.title == "名簿の掲載"
    assert case.aware_at == submission.received_at
    # The contract: the obligations are tracked at once (PPC preliminary report in 3-5 days).
    listed = client.get(
        f"/api/v1/cases/{case_id}/obligations", headers={"Authorization": f"Bearer {plain}"}
    )
    assert listed.status_code == 200, listed.text
    kinds = {row["kind"] for row in listed.json["obligations"]}
    assert {"ppc_preliminary", "ppc_final", "notify_individuals"} <= kinds
    assert "wb_investigation_notice" in kinds  # the linked whistleblower report counts
    runs = db_session.scalars(select(TriageRun).where(TriageRun.case_id == case_id)).all()
    assert runs
    assert runs[-1].priority == "P1"

    # The data set: structured answers only, named in the officer's language.
    datasets = db_session.scalars(
        select(AffectedDataset).where(AffectedDataset.case_id == case_id)
    ).all()
    assert len(datasets) == 1
    dataset = datasets[0]
    assert dataset.exposure == "public_internet"
    assert dataset.items == ["name", "address"]
    assert dataset.persons == 680_000
    assert dataset.persons_estimated is True
    assert dataset.name.startswith("通報で示された個人データ（")
    assert "約680,000人" in dataset.name
    assert "Reported data set" not in dataset.name

    # The timeline: "report received" at the report's hour.
    events = db_session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)).all()
    received = [e for e in events if e.category == "report"]
    assert len(received) == 1
    assert received[0].occurred_at == submission.received_at
    assert received[0].title == "通報窓口で情報提供を受け付けた"

    # Every step is audited, through the owning services.
    actions = set(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id))
    )
    assert {"case.create", "intake.promote", "timeline.add", "dataset.create"} <= actions

    # The on-call lead was paged: an in-app row and a mail through the real SMTP mailer.
    pages = db_session.scalars(
        select(Notification).where(Notification.user_id == on_call.id, Notification.kind == "page")
    ).all()
    assert len(pages) == 1
    assert pages[0].case_id == case_id
    page_mails = _mails_to(sink, "oncall@example.jp")
    assert len(page_mails) == 1
    assert case.reference in page_mails[0]

    # No tip text, no web address, no identity entered the case anywhere.
    stored = json.dumps(
        [
            case.title,
            case.summary,
            [(d.name, d.holder, d.secondary_damage) for d in datasets],
            [(e.title, e.description, e.source, e.actor) for e in events],
            [
                e.details
                for e in db_session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))
            ],
        ],
        ensure_ascii=False,
    )
    assert TIP_TEXT not in stored
    assert URL not in stored
    assert "example.invalid" not in stored
    _assert_content_free(list(sink.texts()))

    # The officer's case page shows the report's status, not its content.
    page = officer_client.get(f"/console/cases/{case_id}")
    assert page.status_code == 200
    assert 'id="reports"' in page.text
    assert f"#{submission.id}" in page.text
    assert TIP_TEXT not in page.text
    assert officer.id in set(
        db_session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == case_id))
    )


def test_promotion_in_english_and_without_a_web_address(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    officer, officer_client = _officer(mail_app, db_session, users, "english")
    officer.lang = "en"
    db_session.commit()
    _post_tip(client, where_seen="庁舎3階の共有棚", persons_estimate=12)
    submission = _latest_submission(db_session)
    case_id = _promote(officer_client, submission.id, "Binder on a shared shelf")
    dataset = db_session.scalars(
        select(AffectedDataset).where(AffectedDataset.case_id == case_id)
    ).one()
    assert dataset.exposure == "internal"
    assert dataset.name.startswith("Personal data named in a report (")
    assert "about 12 persons" in dataset.name
    event = db_session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.case_id == case_id, TimelineEvent.category == "report"
        )
    ).one()
    assert event.title == "Report received at the intake"


def test_promotion_refuses_a_blank_title_and_writes_nothing(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    _officer_user, officer_client = _officer(mail_app, db_session, users, "blank")
    _post_tip(client)
    submission = _latest_submission(db_session)
    page = officer_client.get(f"/console/intake/{submission.id}")
    response = officer_client.post(
        f"/console/intake/{submission.id}/promote",
        data={"csrf_token": csrf_from(page.text), "title": "   "},
    )
    assert response.status_code == 400
    db_session.expire_all()
    assert db_session.get(Submission, submission.id).case_id is None  # type: ignore[union-attr]
    assert db_session.scalars(select(Case)).all() == []


def test_attaching_a_report_is_a_fact_change_too(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    officer, officer_client = _officer(mail_app, db_session, users, "attacher")
    _post_tip(client)
    first = _latest_submission(db_session)
    case_id = _promote(officer_client, first.id)
    _post_tip(client, persons_estimate=10)
    second = _latest_submission(db_session)
    runs_before = len(
        db_session.scalars(select(TriageRun).where(TriageRun.case_id == case_id)).all()
    )
    page = officer_client.get(f"/console/intake/{second.id}")
    response = officer_client.post(
        f"/console/intake/{second.id}/attach",
        data={"csrf_token": csrf_from(page.text), "case_id": str(case_id)},
    )
    assert response.status_code == 302, response.text
    db_session.expire_all()
    assert db_session.get(Submission, second.id).case_id == case_id  # type: ignore[union-attr]
    titles = db_session.scalars(
        select(TimelineEvent.title).where(
            TimelineEvent.case_id == case_id, TimelineEvent.category == "report"
        )
    ).all()
    assert "通報窓口で関連する情報提供を受け付けた（後から事案に関連付け）" in titles
    runs = db_session.scalars(select(TriageRun).where(TriageRun.case_id == case_id)).all()
    assert len(runs) == runs_before + 1
    assert runs[-1].reason == "report"
    attached = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "intake.attach", AuditEvent.object_id == str(second.id)
        )
    ).one()
    assert attached.case_id == case_id
    assert attached.actor_id == officer.id
    # Nothing from the second tip entered the case either.
    assert (
        len(
            db_session.scalars(
                select(AffectedDataset).where(AffectedDataset.case_id == case_id)
            ).all()
        )
        == 1
    )


def test_the_tip_data_set_uses_structured_answers_only(settings: Any) -> None:
    from csirt.intake.handoff import tip_dataset

    many = ["name", "address", "birth_date", "phone", "email", "voter_number", "no_such_item"]
    answers = {
        "what_happened": "see https://example.invalid/x",  # free text: not where a URL counts
        "where_seen": "庁舎の共有フォルダ",
        "data_items": many,
        "persons_estimate": 5_000_000_000,
    }
    dataset = tip_dataset(answers, "ja", settings.catalog.vocabulary, settings.questionnaire)
    assert dataset is not None
    assert dataset.items == tuple(many[:-1])  # unknown keys are dropped
    assert dataset.exposure == "internal"  # no address in the URL-or-place answer
    assert dataset.persons == 2_000_000_000  # capped like any data set
    assert "ほか" in dataset.name
    assert len(dataset.name) <= 200
    assert "example.invalid" not in dataset.name
    assert "共有フォルダ" not in dataset.name
    online = tip_dataset(
        {"where_seen": "https://example.invalid/list.csv"}, "en", settings.catalog.vocabulary
    )
    assert online is not None
    assert online.exposure == "public_internet"
    assert online.items == ()
    assert online.name == "Personal data named in a report"
    assert (
        tip_dataset(
            {"what_happened": "text only"},
            "ja",
            settings.catalog.vocabulary,
            settings.questionnaire,
        )
        is None
    )
