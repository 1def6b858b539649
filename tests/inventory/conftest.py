"""Fixtures of the inventory: a lead with an API token, a register CSV."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from tests.factories import FACTORY, UserFactory
from tests.records.conftest import Api
from tests.teams.conftest import mail_app, sink, smtp_sink  # noqa: F401 - shared fixtures

REGISTER = (
    "個人情報ファイルの名称,ファイル簿の番号,事務をつかさどる組織の名称,利用目的,記録項目,本人の数,"
    "本人の数の区分,本人の数の基準日,保存場所（システム・媒体）,持出しを許可できる者,保存期間\r\n"
    "選挙人名簿,SEN-001,選挙管理委員会事務局,選挙人名簿の調製,氏名、住所、生年月日、性別,"
    "680000,実数,2015-06-01,選挙システム、USBメモリ,事務局長,永年\r\n"
    "期日前投票者名簿,SEN-002,選挙管理委員会事務局,期日前投票の管理,氏名、生年月日,"
    "120000,概数,2015-04-12,選挙システム,事務局長,5年\r\n"
    "職員名簿,JIN-001,人事課,人事管理,氏名、電話番号,15000,実数,2015-04-01,人事給与システム,"
    '人事課長,=HYPERLINK("x")\r\n'
)


@pytest.fixture
def register_csv() -> bytes:
    return ("\ufeff" + REGISTER).encode("utf-8")


@pytest.fixture
def lead_api(app: Any, db_session: Session, users: UserFactory) -> Api:
    """A lead with a read/write/export token (own client, no cookies)."""
    user = users.create(roles=["lead"]).user
    _token, plain = auth_service.create_token(
        db_session, user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    api = Api(app.test_client(), plain)
    api.user = user  # type: ignore[attr-defined]
    return api
