"""Per-request cost of the case list (issue 21), through real requests: what every request
pays (user, roles, token) is one statement; an unchanged session cookie is not sent again;
a role change still shows at once; the API's JSON is what Flask's encoder would write."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.testing import FlaskClient
from flask_babel import format_datetime
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from csirt import i18n
from csirt.auth import service
from csirt.auth.access import SEEN_AT_GRANULARITY
from csirt.auth.permissions import Role
from csirt.cases.creation import create_case
from csirt.cases.timeline import EventInput, add_events
from csirt.db import utcnow
from tests.conftest import login
from tests.factories import FACTORY, UserFactory
from tests.test_scale import statements

CASE_API = "/api/v1/cases?limit=50"


def _token(users: UserFactory, db_session: Session, *roles: str) -> tuple[Any, str]:
    created = users.create(roles=list(roles))
    _t, plain = service.create_token(db_session, created.user, actor=FACTORY)
    db_session.commit()
    return created.user, plain


def test_an_api_request_loads_token_user_and_roles_in_one_statement(
    client: FlaskClient, users: UserFactory, db_session: Session, connection: Connection
) -> None:
    _user, plain = _token(users, db_session, "lead")
    for n in range(3):
        create_case(db_session, title=f"perf {n}", actor=None)
    db_session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get(CASE_API, headers=headers).status_code == 200  # records the first use
    with statements(connection) as seen:
        response = client.get(CASE_API, headers=headers)
    assert response.status_code == 200
    assert len(response.json["items"]) >= 3
    selects = [s for s, _p in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # token + user + roles, then the page
    assert "api_tokens" in selects[0]
    assert "user_roles" in selects[0]


def test_a_page_loads_the_signed_in_user_and_roles_in_one_statement(
    client: FlaskClient, login_as: Any, connection: Connection
) -> None:
    login_as("lead")
    with statements(connection) as seen:
        assert client.get("/console/cases/").status_code == 200
    user_selects = [s for s, _p in seen if "FROM users" in s and "user_roles" in s]
    assert len(user_selects) == 1, [s for s, _p in seen]
    assert not [s for s, _p in seen if s.lstrip().startswith("SELECT user_roles")]


def test_an_unchanged_session_is_not_signed_and_sent_again(
    client: FlaskClient, login_as: Any
) -> None:
    login_as("lead")
    first = client.get("/console/cases/")
    assert first.status_code == 200
    again = client.get("/console/cases/")
    assert again.status_code == 200
    assert "Set-Cookie" not in again.headers  # seen_at is still fresh: nothing to re-sign


def test_seen_at_is_refreshed_once_it_is_older_than_the_granularity(
    client: FlaskClient, login_as: Any
) -> None:
    login_as("lead")
    stale = (utcnow() - SEEN_AT_GRANULARITY - timedelta(seconds=1)).isoformat()
    with client.session_transaction() as session:
        session["seen_at"] = stale
    assert client.get("/console/cases/").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] > stale


def test_an_idle_session_still_ends(client: FlaskClient, login_as: Any, app: Flask) -> None:
    login_as("lead")
    idle = app.config["CSIRT"].session_idle_minutes
    with client.session_transaction() as session:
        session["seen_at"] = (utcnow() - timedelta(minutes=idle, seconds=1)).isoformat()
    response = client.get("/console/cases/")
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]


def test_a_role_change_shows_on_the_next_request(
    client: FlaskClient, users: UserFactory, db_session: Session
) -> None:
    user, plain = _token(users, db_session, "lead")
    headers = {"Authorization": f"Bearer {plain}"}
    assert "case:view-all" in client.get("/api/v1/me", headers=headers).json["permissions"]
    service.set_roles(db_session, user, [Role.RESPONDER], actor=FACTORY)
    db_session.commit()
    assert "case:view-all" not in client.get("/api/v1/me", headers=headers).json["permissions"]
    user.active = False
    db_session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_json_is_what_flasks_encoder_writes(
    client: FlaskClient, users: UserFactory, db_session: Session, app: Flask
) -> None:
    _user, plain = _token(users, db_session, "lead")
    create_case(db_session, title="日本語の事案 \u2028 <b>", actor=None)
    db_session.commit()
    response = client.get(CASE_API, headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_data()
    assert "日本語の事案".encode() in body  # UTF-8, not \\u escapes
    with app.app_context():
        reference = DefaultJSONProvider(app).dumps(response.json)
    assert json.loads(body) == json.loads(reference)
    assert list(response.json["items"][0]) == sorted(response.json["items"][0])  # keys sorted


def test_the_per_request_translations_follow_a_language_change(
    client: FlaskClient, login_as: Any
) -> None:
    login_as("lead")
    page = client.get("/console/cases/").text
    assert "サインアウト" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post("/language", data={"lang": "en", "csrf_token": token.group(1)})
    assert answer.status_code == 302
    page = client.get("/console/cases/").text
    assert "Sign out" in page
    assert "サインアウト" not in page


def test_dates_on_pages_read_exactly_as_babel_writes_them(app: Flask) -> None:
    zone = app.config["CSIRT"].tz
    moments = [
        datetime(2026, month, day, hour, minute, tzinfo=UTC)
        for month in range(1, 13)
        for day, hour, minute in ((1, 0, 0), (9, 14, 59), (28, 23, 5))
    ]
    moments += [datetime(2026, 3, 29, 1, 30), datetime(1999, 12, 31, 15, 0, tzinfo=zone)]
    for lang in ("ja", "en"):
        with app.test_request_context("/console/", headers={"Accept-Language": lang}):
            assert i18n.current_lang() == lang
            for moment in moments:
                babel = format_datetime(moment, i18n._TIME[lang])
                zone_name = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(
                    zone
                )
                assert i18n.format_time(moment) == f"{babel} {zone_name.tzname()}", moment


def test_the_api_list_from_rows_is_the_same_as_from_case_objects(
    client: FlaskClient, users: UserFactory, db_session: Session, app: Flask
) -> None:
    from csirt.cases import listing
    from csirt.cases.api import CaseOut

    user, plain = _token(users, db_session, "lead")
    for n in range(4):
        case = create_case(db_session, title=f"行 {n}", actor=None)
        case.involved = ["総務課"]
        case.persons_total = 10 * n
    db_session.commit()
    response = client.get("/api/v1/cases?limit=3", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    with app.test_request_context("/"):
        objects = listing.list_cases(db_session, user, limit=3).items
        expected = [json.loads(app.json.dumps(CaseOut.dump(c))) for c in objects]
    assert response.json["items"] == expected
    assert response.json["next_cursor"]


def test_the_rows_query_uses_the_same_index_as_the_object_query(
    users: UserFactory, db_session: Session, connection: Connection
) -> None:
    from csirt.cases import listing
    from tests.test_scale import make_cases, plan_of

    user = users.create(roles=["responder"]).user
    make_cases(db_session, user, 30, member=True)
    newest = listing.list_case_rows(db_session, user, limit=1).items[0].id
    plans = []
    for page in (listing.list_cases, listing.list_case_rows):
        with statements(connection) as seen:
            page(db_session, user, cursor=newest - 5)
        (statement, parameters), *_ = [(s, p) for s, p in seen if "FROM cases" in s]
        plans.append(plan_of(connection, statement, parameters))
    assert plans[0] == plans[1]
    if connection.dialect.name == "sqlite":
        assert "SEARCH cases USING INTEGER PRIMARY KEY" in plans[1], plans[1]
        assert "TEMP B-TREE" not in plans[1]
    else:
        assert "Seq Scan on cases" not in plans[1], plans[1]


def test_the_navigation_follows_the_readers_permissions(
    client: FlaskClient, users: UserFactory, db_session: Session
) -> None:
    # The nav's HTML is kept per permission set (csirt/nav.py): each set has its own entry.
    def nav_links(*roles: str) -> list[str]:
        created = users.create(roles=list(roles))
        db_session.commit()
        client.delete_cookie("csirt_session")
        assert login(client, created.user.username, created.password).status_code == 302
        page = client.get("/console/account").get_data(as_text=True)
        nav = page[page.index('<nav class="main-nav"') : page.index("</nav>")]
        return re.findall(r'href="([^"]+)"', nav)

    as_lead = nav_links("lead")
    assert "/console/cases/" in as_lead
    assert as_lead[-1] == "/console/account"
    as_responder = nav_links("responder")
    assert set(as_responder) < set(as_lead)
    assert nav_links("lead") == as_lead


def test_the_dashboard_charts_are_kept_per_language(client: FlaskClient, login_as: Any) -> None:
    # The charts are drawn once per Trends object and language (cases.dashboard.DashboardCache).
    login_as("lead")
    page = client.get("/console/").text
    assert "優先度別の対応中事案（直近12週）" in page
    assert "優先度別の対応中事案（直近12週）" in client.get("/console/").text  # from the cache
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post("/language", data={"lang": "en", "csrf_token": token.group(1)})
    assert answer.status_code == 302
    page = client.get("/console/").text
    assert "Open cases by priority, last 12 weeks" in page
    assert "直近12週" not in page


def test_the_timeline_page_shows_50_events_and_the_cursor_reaches_every_one(
    client: FlaskClient, login_as: Any, db_session: Session
) -> None:
    user = login_as("lead")
    case = create_case(db_session, title="long timeline", actor=user)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        EventInput(
            occurred_at=start + timedelta(minutes=n // 2), precision="minute", title=f"ev{n:03d}"
        )
        for n in range(120)  # pairs share a minute: the cursor's tie on id is exercised
    ]
    add_events(db_session, case, user, items)
    db_session.commit()
    seen: list[str] = []
    path: str | None = f"/console/cases/{case.id}/timeline"
    pages = 0
    while path:
        page = client.get(path)
        assert page.status_code == 200
        titles = list(dict.fromkeys(re.findall(r"ev\d{3}", page.text)))  # title, labels
        assert len(titles) <= 50
        seen += titles
        pages += 1
        link = re.search(r'href="([^"]*cursor=[^"]+)"', page.text)
        path = link.group(1).replace("&amp;", "&") if link else None
    assert pages == 3
    assert seen == [f"ev{n:03d}" for n in range(120)]
    first = client.get(f"/console/cases/{case.id}/timeline").text
    edit = re.search(rf'href="(/console/cases/{case.id}/timeline/\d+/edit)"', first)
    assert edit is not None  # the edit links, built from one base per page, still lead there
    assert client.get(edit.group(1)).status_code == 200


def test_the_dashboard_reads_obligations_first_then_cases_by_key(
    users: UserFactory, db_session: Session, connection: Connection
) -> None:
    # SQLite planned the join as a scan of every case probing obligations per case (7 ms at
    # 100,000 cases with no obligation at all); obligations must drive.
    from csirt.cases import dashboard
    from tests.test_scale import make_cases, plan_of

    user = users.create(roles=["lead"]).user
    make_cases(db_session, user, 30, member=True)
    if connection.dialect.name == "sqlite":
        db_session.execute(text("ANALYZE"))  # as bench.seed does: cases known, obligations empty
    with statements(connection) as seen:
        dashboard.dashboard(db_session, user)
    (statement, parameters), *_ = [(s, p) for s, p in seen if "FROM obligations JOIN cases" in s]
    plan = plan_of(connection, statement, parameters)
    if connection.dialect.name == "sqlite":
        assert "SCAN cases" not in plan, plan
        assert "SEARCH cases USING INTEGER PRIMARY KEY" in plan, plan
    else:
        assert "Seq Scan on cases" not in plan, plan


def test_the_case_list_statement_is_built_once_and_runs_with_each_calls_values(
    users: UserFactory, db_session: Session
) -> None:
    # Built once per shape (csirt/cases/listing.py _statement), the values bound at execution:
    # another page, phase, priority or viewer gets its own rows, never the previous call's.
    from csirt.cases import listing

    lead = users.create(roles=["lead"]).user
    member = users.create(roles=["responder"]).user
    other = users.create(roles=["responder"]).user
    made = [create_case(db_session, title=f"shape {n}", actor=member) for n in range(6)]
    made[0].phase, made[1].phase = "contain", "contain"
    made[2].priority = "P1"
    db_session.commit()
    ids = [c.id for c in made]

    def page(user: Any, **kwargs: Any) -> list[int]:
        return [c.id for c in listing.list_case_rows(db_session, user, **kwargs).items]

    first = page(lead, limit=2)
    assert first == sorted(ids, reverse=True)[:2]
    assert page(lead, limit=2, cursor=first[-1]) == sorted(ids, reverse=True)[2:4]
    assert page(lead, limit=2, cursor=ids[2]) == [ids[1], ids[0]]
    for phase, expected in (("contain", [ids[1], ids[0]]), ("detect", ids[5:1:-1])):
        filters = listing.CaseFilters(phase=phase)
        assert [i for i in page(lead, filters=filters, limit=100) if i in ids] == expected
    for priority in ("P1", "P3"):
        filters = listing.CaseFilters(priority=priority)
        found = {i for i in page(lead, filters=filters, limit=100) if i in ids}
        assert found == {c.id for c in made if c.priority == priority}
    assert page(other) == []  # a viewer's statement is their own (need-to-know binds their id)
    assert set(ids) <= set(page(member, limit=100))
    statements = listing._STATEMENTS
    assert statements, "the statements are kept"
    shapes = len(statements)
    page(lead, limit=3, cursor=ids[4])
    assert len(statements) == shapes  # the same shape as an earlier page: no new statement
