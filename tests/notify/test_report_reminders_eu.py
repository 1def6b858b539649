"""With the EU directive enabled, the 3-month feedback owed to a reporter is reminded once too."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config
from csirt.intake.models import Submission
from csirt.notify import intake_events
from csirt.notify.service import Channel
from tests.conftest import make_config
from tests.factories import UserFactory
from tests.intake.conftest import BASIC_ANSWERS
from tests.teams.conftest import Sink


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return make_config(database_url, tmp_path / "instance", jurisdictions=frozenset({"JP", "EU"}))


def test_feedback_date_is_reminded_once(
    mail_app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    sink: Sink,
    channel: Channel,
) -> None:
    officer = users.create(roles=["intake_officer"], username="eu").user
    officer.email = "eu@example.jp"
    db_session.commit()
    response = client.post("/api/v1/reports", json={"answers": dict(BASIC_ANSWERS)})
    assert response.status_code == 201
    submission = db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert submission is not None
    assert submission.feedback_due is not None
    feedback_due = submission.feedback_due
    sink.messages.clear()

    def before_feedback() -> datetime:
        return feedback_due - timedelta(days=2)

    assert intake_events.send_report_due(db_session, channel, now=before_feedback) == 1
    db_session.commit()
    assert intake_events.send_report_due(db_session, channel, now=before_feedback) == 0
    db_session.commit()
    assert len(sink.messages) == 1
    text = str(sink.messages[0]["Subject"]) + sink.messages[0].get_content()
    assert "対応状況の連絡（3か月以内）" in text
    assert str(BASIC_ANSWERS["what_happened"]) not in text
