"""Console pages and the API of teams, through real requests (CSRF, sign-in, tokens)."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.service import create_token
from csirt.cases.models import CaseMember, Priority
from csirt.notify.models import Notification
from csirt.teams.assignment import assign, pending_for
from csirt.teams.leave import leaves_of
from csirt.teams.models import Team
from tests.conftest import csrf_from
from tests.factories import FACTORY
from tests.teams.conftest import Sink, World


def _token(db_session: Session, user) -> dict[str, str]:
    _row, plain = create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_team_pages_forms_and_feed(
    client: FlaskClient, login_as, world: World, db_session: Session
):
    lead = login_as("lead", username="boss")
    other = world.person("other", ("privacy",))
    db_session.commit()
    page = client.get("/console/teams/")
    assert page.status_code == 200
    token = csrf_from(page.text)
    bad = client.post("/console/teams/", data={"name": "", "slug": "BAD", "csrf_token": token})
    assert bad.status_code == 400
    made = client.post(
        "/console/teams/",
        data={"name": "Core", "slug": "core", "csrf_token": token, "first_response": "y"},
    )
    assert made.status_code == 302
    team = db_session.scalar(select(Team).where(Team.slug == "core"))
    base = f"/console/teams/{team.id}"
    ghost = client.post(f"{base}/members", data={"username": "ghost", "csrf_token": token})
    assert ghost.status_code == 400
    assert "その名前の有効なユーザーはいません。" in ghost.text
    for username in ("boss", "other"):
        added = client.post(
            f"{base}/members",
            data={"username": username, "skills": ["management"], "csrf_token": token},
        )
        assert added.status_code == 302
    db_session.expire_all()
    members = {m.user.username: m.id for m in team.members}
    rotation = client.post(
        f"{base}/rotation",
        data={
            "start": "2026-01-05",
            "csrf_token": token,
            f"position-{members['other']}": "1",
            f"position-{members['boss']}": "2",
        },
    )
    assert rotation.status_code == 302
    bad_position = client.post(
        f"{base}/rotation",
        data={"start": "2026-01-05", "csrf_token": token, f"position-{members['other']}": "x"},
    )
    assert bad_position.status_code == 400
    assert "順番は整数で入力してください。" in bad_position.text
    override = client.post(
        f"{base}/overrides",
        data={
            "username": "boss",
            "starts_at": "2026-02-01T09:00",
            "ends_at": "2026-02-02T09:00",
            "csrf_token": token,
        },
    )
    assert override.status_code == 302
    backwards = client.post(
        f"{base}/overrides",
        data={
            "username": "boss",
            "starts_at": "2026-02-03T09:00",
            "ends_at": "2026-02-02T09:00",
            "csrf_token": token,
        },
    )
    assert backwards.status_code == 400
    assert "終了は開始より後にしてください。" in backwards.text
    swap = client.post(
        f"{base}/swap", data={"week_a": "2026-03-02", "week_b": "2026-03-09", "csrf_token": token}
    )
    assert swap.status_code == 302
    same = client.post(
        f"{base}/swap", data={"week_a": "2026-03-02", "week_b": "2026-03-16", "csrf_token": token}
    )
    assert same.status_code == 400
    assert "当番が異なる2つのローテーション週を選んでください。" in same.text
    detail = client.get(base)
    assert detail.status_code == 200
    assert "other" in detail.text
    ics = client.get(f"{base}/oncall.ics")
    assert ics.status_code == 200
    assert ics.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in ics.text
    assert "other" in ics.text
    assert "@example" not in ics.text
    feed = client.post("/console/teams/feed-token", data={"csrf_token": token})
    assert feed.status_code == 200
    url = feed.text.split(f"/console/teams/{team.id}/oncall.ics?token=")[1].split("<")[0]
    anonymous = client.application.test_client()
    assert anonymous.get(f"{base}/oncall.ics?token={url}").status_code == 200
    assert anonymous.get(f"{base}/oncall.ics?token=nope").status_code == 404
    assert anonymous.get(f"{base}/oncall.ics").status_code == 302
    assert client.get("/console/teams/workload").status_code == 200
    person = client.get(f"/console/teams/people/{other.id}")
    assert person.status_code == 200
    saved = client.post(
        f"/console/teams/people/{other.id}/profile",
        data={
            "skills": ["legal"],
            "department": "法務課",
            "availability_percent": "60",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 302
    assert (
        client.post(
            f"/console/teams/people/{other.id}/profile",
            data={"availability_percent": "0", "csrf_token": token},
        ).status_code
        == 400
    )
    leave = client.post(
        f"/console/teams/people/{other.id}/leave",
        data={"starts_on": "2026-04-01", "ends_on": "2026-04-03", "csrf_token": token},
    )
    assert leave.status_code == 302
    backwards_leave = client.post(
        f"/console/teams/people/{other.id}/leave",
        data={"starts_on": "2026-04-05", "ends_on": "2026-04-03", "csrf_token": token},
    )
    assert backwards_leave.status_code == 400
    assert "最終日は初日以降にしてください。" in backwards_leave.text
    [row] = leaves_of(db_session, other.id)
    assert (
        client.post(
            f"/console/teams/people/{other.id}/leave/{row.id}/delete", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/console/teams/people/{other.id}/leave/{row.id}/delete", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{base}/members/{members['other']}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert client.get("/console/teams/999999").status_code == 404
    assert lead.username == "boss"


def test_first_response_screen_assigns_and_refuses_conflicts(
    client: FlaskClient, login_as, world: World, db_session: Session, mail_app, sink: Sink
):
    lead = login_as("lead", username="boss")
    lead.email = "boss@example.jp"
    helper = world.person("helper", ("forensics",))
    suspect = world.person("suspect", ("forensics", "management"), department="会計室")
    world.team("core", [lead, helper, suspect], first_response=True, start=date(2026, 1, 5))
    case = world.case(priority=Priority.P1, involved=("会計室",), title="CANARY")
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}/team")
    assert page.status_code == 200
    assert "suspect" not in page.text  # not suggested, and the exclusion is for admins only
    token = csrf_from(page.text)
    refused = client.post(
        f"/console/cases/{case.id}/team/assign",
        data={"pick": ["lead:boss", "investigator:suspect"], "csrf_token": token},
    )
    assert refused.status_code == 409
    assert (
        db_session.scalar(
            select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.role == "lead")
        )
        is None
    )
    done = client.post(
        f"/console/cases/{case.id}/team/assign",
        data={"pick": ["lead:boss", "investigator:helper"], "csrf_token": token},
    )
    assert done.status_code == 302
    roles = set(db_session.scalars(select(CaseMember.role).where(CaseMember.case_id == case.id)))
    assert {"lead", "investigator"} <= roles
    single = client.post(
        f"/console/cases/{case.id}/team/assign",
        data={"username": "helper", "role": "legal", "csrf_token": token},
    )
    assert single.status_code == 302
    empty = client.post(f"/console/cases/{case.id}/team/assign", data={"csrf_token": token})
    assert empty.status_code == 400
    unknown = client.post(
        f"/console/cases/{case.id}/team/assign",
        data={"username": "ghost", "role": "legal", "csrf_token": token},
    )
    assert unknown.status_code == 400
    assert (
        client.post(
            f"/console/cases/{case.id}/team/acknowledge", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert client.get("/console/my-work").status_code == 200
    assert client.get("/console/cases/999999/team").status_code == 404
    # Two assignments (investigator, legal): two messages; the lead assigned themselves.
    assert [str(m["To"]) for m in sink.messages] == ["helper@example.jp"] * 2


def test_admin_sees_the_exclusion_and_its_reason(
    client: FlaskClient, login_as, world: World, db_session: Session
):
    login_as("admin", username="root", totp=True)
    suspect = world.person("suspect", ("forensics",), department="会計室")
    world.team("core", [suspect])
    case = world.case(involved=("会計室",))
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}/team")
    assert "suspect" in page.text
    assert "会計室" in page.text


def test_second_person_acknowledges_from_my_work(
    client: FlaskClient, login_as, world: World, db_session: Session, channel
):
    second = login_as("responder", username="second")
    lead = world.person("boss", roles=("lead",))
    case = world.case(priority=Priority.P1, actor=lead)
    assign(db_session, channel, case, second, "investigator", actor=lead)
    db_session.commit()
    work = client.get("/console/my-work")
    assert case.reference in work.text
    ack = client.post(
        f"/console/cases/{case.id}/team/acknowledge",
        data={"csrf_token": csrf_from(work.text), "next": "/console/my-work"},
    )
    assert ack.status_code == 302
    assert ack.headers["Location"].endswith("/console/my-work")
    assert pending_for(db_session, case.id) == []
    notes = client.get("/console/notifications/")
    assert case.reference in notes.text
    note = db_session.scalar(select(Notification).where(Notification.user_id == second.id))
    opened = client.post(
        f"/console/notifications/{note.id}/open", data={"csrf_token": csrf_from(notes.text)}
    )
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/cases/{case.id}/team")
    team_page = client.get(opened.headers["Location"])  # built from the route the views serve
    assert team_page.status_code == 200
    assert case.reference in team_page.text
    assert (
        client.post(
            "/console/notifications/999999/open", data={"csrf_token": csrf_from(notes.text)}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/console/notifications/read", data={"csrf_token": csrf_from(notes.text)}
        ).status_code
        == 302
    )
    prefs = client.get("/console/notifications/preferences")
    assert prefs.status_code == 200
    saved = client.post(
        "/console/notifications/preferences",
        data={"email": ["page"], "csrf_token": csrf_from(prefs.text)},
    )
    assert saved.status_code == 302
    assert client.post("/console/notifications/preferences", data={}).status_code == 400


def test_api(client: FlaskClient, world: World, db_session: Session, users, mail_app):
    lead = users.create(roles=["lead"], username="apilead").user
    responder = users.create(roles=["responder"], username="apiresp").user
    world.person("suspect", ("forensics",), department="会計室")
    world.person("expert", ("forensics", "systems"))
    headers = _token(db_session, lead)
    bad = client.post("/api/v1/teams", json={"name": 3}, headers=headers)
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"name", "slug"}
    assert client.post("/api/v1/teams", data="x", headers=headers).status_code == 422
    made = client.post(
        "/api/v1/teams",
        json={"name": "Core", "slug": "core", "first_response": True},
        headers=headers,
    )
    assert made.status_code == 201
    team_id = made.json["id"]
    taken = client.post("/api/v1/teams", json={"name": "Core", "slug": "core"}, headers=headers)
    assert taken.status_code == 422
    assert taken.json["errors"]["slug"] == "already taken"
    url = f"/api/v1/teams/{team_id}/members"
    wrong = client.post(
        url, json={"username": "ghost", "skills": ["cooking"], "department": 5}, headers=headers
    )
    assert wrong.status_code == 422
    assert set(wrong.json["errors"]) == {
        "username",
        "skills",
        "department",
    }
    # A blank name is a 422 on the field, not a 500 (found by the API fuzz on PostgreSQL).
    blank = client.post(url, json={"username": " "}, headers=headers)
    assert blank.status_code == 422
    assert blank.json["errors"] == {"username": "must not be blank"}
    for username in ("expert", "suspect"):
        assert client.post(url, json={"username": username}, headers=headers).status_code == 201
    added = client.post(
        url,
        json={"username": "apiresp", "skills": ["privacy"], "department": "情報政策課"},
        headers=headers,
    )
    assert added.status_code == 201
    assert {
        "username": "apiresp",
        "display_name": "apiresp",
        "department": "情報政策課",
        "skills": ["privacy"],
    } in added.json["members"]
    named = {"username": "expert"}  # a valid body: a bad one is a 422 before the team is loaded
    assert client.post("/api/v1/teams/999/members", json=named, headers=headers).status_code == 404
    listed = client.get("/api/v1/teams", headers=headers)
    assert listed.status_code == 200
    assert listed.json[0]["slug"] == "core"
    case = world.case(involved=("会計室",), actor=lead)
    db_session.commit()
    found = client.get(f"/api/v1/cases/{case.id}/suggestions?lang=en", headers=headers)
    assert found.status_code == 200
    assert set(found.json) == {"lead", "investigator", "privacy_officer", "pr", "legal"}
    assert found.json["investigator"][0]["username"] == "expert"
    assert all(s["username"] != "suspect" for ranked in found.json.values() for s in ranked)
    assert "skills: forensics, systems" in found.json["investigator"][0]["reasons"]
    assignments = f"/api/v1/cases/{case.id}/assignments"
    conflict = client.post(
        assignments, json={"username": "suspect", "role": "investigator"}, headers=headers
    )
    assert conflict.status_code == 409
    assert conflict.json["detail"]
    invalid = client.post(assignments, json={"username": "", "role": "chef"}, headers=headers)
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]) == {"username", "role"}
    assert (
        client.post(
            assignments, json={"username": "ghost", "role": "lead"}, headers=headers
        ).status_code
        == 422
    )
    assert client.post(assignments, data="x", headers=headers).status_code == 422
    spaces = client.post(assignments, json={"username": "  ", "role": "lead"}, headers=headers)
    assert spaces.status_code == 422
    assert spaces.json["errors"] == {"username": "must not be blank"}
    ok = client.post(
        assignments, json={"username": "expert", "role": "investigator"}, headers=headers
    )
    assert ok.status_code == 201
    assert ok.json == {"username": "expert", "role": "investigator"}
    outsider = _token(db_session, responder)
    assert client.get(f"/api/v1/cases/{case.id}/suggestions", headers=outsider).status_code == 404
    assigned = {"username": "expert", "role": "investigator"}  # valid: a bad body is a 422 first
    assert client.post(assignments, json=assigned, headers=outsider).status_code == 404
    spec = client.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/api/v1/teams",
        "/api/v1/teams/{team_id}/members",
        "/api/v1/cases/{case_id}/suggestions",
        "/api/v1/cases/{case_id}/assignments",
    } <= set(spec)


def test_api_admin_sees_exclusions(client: FlaskClient, world: World, db_session: Session, users):
    admin = users.create(roles=["admin"], username="apiadmin").user
    suspect = world.person("suspect", ("forensics",), department="会計室")
    world.team("core", [suspect])
    case = world.case(involved=("会計室",))
    found = client.get(f"/api/v1/cases/{case.id}/suggestions", headers=_token(db_session, admin))
    assert found.json["excluded"] == [
        {"username": "suspect", "reason": "関係部署（「会計室」）に所属しています"}
    ]
