"""A demo-like case (the Sakai 2015 founding case) written into the database through the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.creation import create_case
from csirt.cases.models import AffectedDataset, Case, TimelineEvent
from csirt.catalog.current import current_catalog
from csirt.demo_story import founding_facts
from csirt.documents import service, snapshot
from csirt.documents.facts import CaseFacts
from csirt.documents.models import PreventionMeasure
from tests.factories import UserFactory

JST = timezone(timedelta(hours=9))
PUBLIC_PHONE = "072-000-0000"
PUBLIC_EMAIL = "jinji@city.example.lg.jp"

# (name, holder, items, persons, estimated) — the city's published figures.
DATASETS = (
    (
        "選挙人名簿（市内全有権者）",
        "北区選挙管理委員会事務局",
        ["name", "sex", "birth_date", "address"],
        680_000,
        True,
    ),
    (
        "放課後児童対策事業所の短時間勤務職員",
        "（公財）堺市教育スポーツ振興事業団",
        ["name", "sex", "birth_date", "address", "phone", "salary"],
        1_000,
        True,
    ),
    (
        "アルバイト応募者",
        "（公財）堺市産業振興センター",
        ["name", "age", "address", "phone"],
        11,
        False,
    ),
)
INTERNAL_ACTOR = "内部 太郎"


@dataclass
class DemoCase:
    case: Case
    lead: User
    facts_demo: CaseFacts
    public_events: int
    internal_events: int


def _at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST).astimezone(UTC)


def make_demo_case(session: Session, creator: User, *, extra_events: int = 0) -> DemoCase:
    """The founding case in the database: public and internal events, data sets, context."""
    demo = founding_facts()
    case = create_case(
        session,
        title="職員の不祥事案の発生について",
        actor=creator,
        summary="本市職員が業務上取り扱う個人情報を持ち出し、インターネット上で閲覧可能な状態にしていた。",
        aware_at=_at(2015, 6, 24, 20, 0),
        insider=True,
        # The creator works on the case, so is not named in it (a named person is kept out).
        involved=["北区選挙管理委員会事務局"],
    )
    for event in demo.events:
        session.add(
            TimelineEvent(
                case_id=case.id,
                occurred_at=event.occurred_at,
                precision=event.precision.value,
                title=event.title,
                description=event.description,
                visibility="public",
            )
        )
    for n in range(extra_events):
        session.add(
            TimelineEvent(
                case_id=case.id,
                occurred_at=_at(2015, 10, 1) + timedelta(minutes=n),
                precision="minute",
                title=f"公表済みの経過 {n + 1}",
                visibility="public",
            )
        )
    # Internal events never reach a document.
    session.add(
        TimelineEvent(
            case_id=case.id,
            occurred_at=_at(2015, 6, 26),
            title="内部メモ：当該職員への聞取り",
            description="聞取り担当の記録（非公開）",
            actor=INTERNAL_ACTOR,
            visibility="internal",
        )
    )
    for name, holder, items, persons, estimated in DATASETS:
        session.add(
            AffectedDataset(
                case_id=case.id,
                name=name,
                holder=holder,
                items=items,
                persons=persons,
                persons_estimated=estimated,
                exposure="public_internet",
                exposed_from=_at(2015, 4, 1),
                exposed_until=_at(2015, 6, 25),
            )
        )
    service.save_context(
        session,
        creator,
        case,
        {
            "public_title": "職員の不祥事案の発生について",
            "causes": ["個人情報の持ち出しに関する規程が守られていなかった。"],
            "findings": ["当該職員は選挙システムを複数回持ち出していた。"],
            "notice_to_individuals": "対象者へ個別に通知した。",
            "takedown": "検索サイトへキャッシュの削除を依頼した。",
            "police": "警察署に告訴状を提出した。",
            "staff_department": "会計室",
            "staff_post": "課長補佐級",
            "staff_age": 59,
            "first_report_at": _at(2015, 6, 24, 20, 0),
            "first_contact_at": _at(2015, 9, 24, 10, 0),
            "committee": {
                "name": "堺市個人情報漏えい事案等検証委員会",
                "mandate": "事案の検証と再発防止策の提言",
                "independence": "市と利害関係のない外部有識者で構成した。",
                "scope": "事案の経過と市の対応",
                "method": "関係者への聞取り",
                "period_start": "2015-12-01",
                "period_end": "2016-06-30",
                "members": [
                    {"name": "委員長 甲", "affiliation": "大学教授", "role": "委員長"},
                    {"name": "委員 乙", "affiliation": "弁護士", "role": ""},
                ],
            },
            "recommendations": [
                {
                    "number": 1,
                    "title": "持出し管理",
                    "text": "記録媒体の持出しを管理する。",
                    "owner": "総務局",
                },
                {
                    "number": 2,
                    "title": "通報対応",
                    "text": "通報者へ速やかに連絡する。",
                    "owner": "市政情報課",
                },
            ],
        },
    )
    session.add(
        PreventionMeasure(
            case_id=case.id,
            title="USBメモリの使用制限",
            owner="情報システム課",
            status="done",
            evidence="全庁で設定済み",
        )
    )
    session.add(
        PreventionMeasure(
            case_id=None, title="全職員への研修", owner="人事課", status="in_progress"
        )
    )
    snapshot.save_organisation_settings(
        session,
        snapshot.OrganisationSettings(
            name="堺市",
            department="総務局 人事部 人事課",
            contact_department="総務局 人事部 人事課",
            phone=PUBLIC_PHONE,
            email=PUBLIC_EMAIL,
            public_body=True,
        ),
    )
    session.flush()
    return DemoCase(case, creator, demo, len(demo.events) + extra_events, 1)


@pytest.fixture
def env(app: Flask, tmp_path: Path) -> service.Environment:
    config = app.config["CSIRT"]
    return service.Environment(
        "Test City", config.timezone, config.instance_path, current_catalog(app).vocabulary
    )


@pytest.fixture
def lead(users: UserFactory) -> User:
    return users.create(roles=["lead"], username="lead-a").user


@pytest.fixture
def lead_b(users: UserFactory) -> User:
    return users.create(roles=["lead"], username="lead-b").user


@pytest.fixture
def demo(db_session: Session, lead: User) -> DemoCase:
    return make_demo_case(db_session, lead)


def full_access(demo_case: DemoCase) -> service.CaseAccess:
    return service.CaseAccess(demo_case.case, True, frozenset(service.KINDS))


def as_user(value: Any) -> User:
    user: User = value
    return user
