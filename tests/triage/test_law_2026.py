"""The law as in force on 2026-12-01 (issue 15), with the dates of real calendars.

Every expected date below was read off the 2026-2028 Japanese calendar: national holidays per
国民の祝日に関する法律 (海の日 2026-07-20, スポーツの日 2026-10-12, Golden Week, the
2026-09-22 国民の休日), weekends, and the administrative year end 12/29-1/3.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service as auth
from csirt.catalog.current import current_catalog
from csirt.db import utcnow
from csirt.notify.reminders import open_obligations
from csirt.triage import Rules, evaluate, load_rules, service
from csirt.triage.closing import obligations_met
from csirt.triage.deadlines import is_administrative_holiday, next_working_day
from csirt.yamlfile import playbooks_dir
from tests.conftest import csrf_from, login
from tests.factories import FACTORY, UserFactory

from .factories import dataset, make_facts
from .integration import founding_case

TOKYO = ZoneInfo("Asia/Tokyo")
ORG_PERSONS = {"local_government": 101, "business": 1001}


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00").replace(tzinfo=TOKYO)


def _day(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(TOKYO).date().isoformat() if moment is not None else None


# --- the administrative calendar -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        ("2026-12-04", False),  # Friday
        ("2026-12-05", True),  # Saturday
        ("2026-12-06", True),  # Sunday
        ("2026-12-28", False),  # the last working day of the year
        ("2026-12-29", True),  # 12/29-1/3 (行政機関の休日に関する法律1条1項3号)
        ("2026-12-31", True),
        ("2027-01-01", True),
        ("2027-01-03", True),
        ("2027-01-04", False),
        ("2026-05-06", True),  # 振替休日 for Constitution Day on a Sunday
        ("2026-07-20", True),  # 海の日
        ("2026-09-22", True),  # 国民の休日 between 敬老の日 and 秋分の日
        ("2026-10-12", True),  # スポーツの日
        ("2026-11-23", True),  # 勤労感謝の日
        ("2027-03-22", True),  # 振替休日 for 春分の日 on a Sunday
    ],
)
def test_administrative_holidays(day: str, closed: bool) -> None:
    assert is_administrative_holiday(dt.date.fromisoformat(day)) is closed


# --- 確報 to the day: day 1 is the day of awareness; a closed last day rolls forward ------------


@pytest.mark.parametrize("org_kind", ["local_government", "business"])
@pytest.mark.parametrize(
    ("aware", "wrongful", "day_30_or_60", "legal", "target"),
    [
        pytest.param("2026-11-17", False, "2026-12-16", "2026-12-16", None, id="weekday-no-roll"),
        pytest.param("2026-11-20", False, "2026-12-19", "2026-12-21", "2026-12-18", id="weekend"),
        pytest.param(
            "2026-12-01", False, "2026-12-30", "2027-01-04", "2026-12-28", id="year-end-issue"
        ),
        pytest.param(
            "2027-11-30", False, "2027-12-29", "2028-01-04", "2027-12-28", id="year-end-2027"
        ),
        pytest.param(
            "2026-04-03", False, "2026-05-02", "2026-05-07", "2026-05-01", id="golden-week-2026"
        ),
        pytest.param(
            "2027-04-04", False, "2027-05-03", "2027-05-06", "2027-04-30", id="golden-week-2027"
        ),
        pytest.param("2026-06-21", False, "2026-07-20", "2026-07-21", "2026-07-17", id="umi-no-hi"),
        pytest.param(
            "2026-06-19", False, "2026-07-18", "2026-07-21", "2026-07-17", id="weekend-umi-no-hi"
        ),
        pytest.param(
            "2026-09-11", False, "2026-10-10", "2026-10-13", "2026-10-09", id="sports-day"
        ),
        pytest.param(
            "2026-08-21", False, "2026-09-19", "2026-09-24", "2026-09-18", id="silver-week"
        ),
        pytest.param(
            "2026-11-01", True, "2026-12-30", "2027-01-04", "2026-11-30", id="60-days-year-end"
        ),
        pytest.param(
            "2026-08-12", True, "2026-10-10", "2026-10-13", "2026-09-10", id="60-days-sports-day"
        ),
    ],
)
def test_final_report_rolls_forward_past_closed_days(
    rules: Rules,
    org_kind: str,
    aware: str,
    wrongful: bool,
    day_30_or_60: str,
    legal: str,
    target: str | None,
) -> None:
    facts = make_facts(
        dataset("name", persons=ORG_PERSONS[org_kind]),
        org_kind=org_kind,
        aware_at=at(aware),
        wrongful_intent=wrongful,
    )
    final = evaluate(facts, rules, TOKYO).obligation("ppc_final")
    assert final is not None
    days = (dt.date.fromisoformat(day_30_or_60) - dt.date.fromisoformat(aware)).days + 1
    assert days == (60 if wrongful else 30)
    assert next_working_day(dt.date.fromisoformat(day_30_or_60)).isoformat() == legal
    assert final.due_at.isoformat() == f"{legal}T23:59:59+09:00"
    assert final.deadline == "legal"
    # The internal target: day 30 itself, or the working day before it; none when the
    # legal deadline is already that day.
    assert _day(final.target_at) == target
    assert "12月29日" in final.requirement.ja


@pytest.mark.parametrize("org_kind", ["local_government", "business"])
@pytest.mark.parametrize(
    ("aware", "kind", "expected"),
    [
        # 速報 is "promptly" (guidance 3-5 days): no roll-forward, the earlier date stands.
        ("2026-12-30", "ppc_preliminary", "2027-01-02"),
        ("2026-04-29", "ppc_preliminary", "2026-05-02"),
        # Notice to individuals has no legal day: an internal 30 days, not rolled.
        ("2026-12-01", "notify_individuals", "2026-12-30"),
    ],
)
def test_promptly_deadlines_do_not_roll(
    rules: Rules, org_kind: str, aware: str, kind: str, expected: str
) -> None:
    facts = make_facts(
        dataset("name", persons=ORG_PERSONS[org_kind]), org_kind=org_kind, aware_at=at(aware)
    )
    obligation = evaluate(facts, rules, TOKYO).obligation(kind)
    assert obligation is not None
    assert obligation.due_at.isoformat() == f"{expected}T23:59:59+09:00"
    assert obligation.deadline in {"guidance", "internal"}


# --- 民法140条但書: a period that starts at 00:00 counts its first day --------------------------


@pytest.mark.parametrize(
    ("start", "kind", "expected"),
    [
        (at("2026-12-07", "00:00"), "ppc_preliminary", "2026-12-09"),
        (at("2026-12-07", "00:01"), "ppc_preliminary", "2026-12-10"),
        (at("2026-12-07", "00:00"), "wb_investigation_notice", "2026-12-26"),
        (at("2026-12-07", "09:00"), "wb_investigation_notice", "2026-12-27"),
        (at("2026-12-07", "00:00"), "wb_acknowledge", "2026-12-13"),
        (at("2026-12-07", "09:00"), "wb_acknowledge", "2026-12-14"),
        # Midnight in Tokyo given in UTC.
        (dt.datetime(2026, 12, 6, 15, tzinfo=dt.UTC), "ppc_preliminary", "2026-12-09"),
    ],
)
def test_a_period_starting_at_midnight_counts_its_first_day(
    rules: Rules, start: dt.datetime, kind: str, expected: str
) -> None:
    facts = make_facts(
        dataset("medical_history"),
        aware_at=start,
        whistleblower_report=True,
        reported_at=start,
        jurisdictions=frozenset({"JP", "EU"}),
    )
    obligation = evaluate(facts, rules, TOKYO).obligation(kind)
    assert obligation is not None
    assert _day(obligation.due_at) == expected


# --- 規則43条5号: 条例要配慮個人情報 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("org_kind", "ordinance", "reportable"),
    [
        ("local_government", frozenset({"school"}), True),
        ("local_government", frozenset({"salary"}), False),
        ("local_government", frozenset(), False),
        # Ordinances bind local governments only.
        ("business", frozenset({"school"}), False),
    ],
)
def test_ordinance_sensitive_items_make_one_person_reportable(
    rules: Rules, org_kind: str, ordinance: frozenset[str], reportable: bool
) -> None:
    facts = make_facts(
        dataset("name", "school", persons=1), org_kind=org_kind, ordinance_sensitive_items=ordinance
    )
    result = evaluate(facts, rules, TOKYO)
    assert result.reportable is reportable
    final = result.obligation("ppc_final")
    assert (final is not None) is reportable
    if final is not None:
        assert "43条5号" in final.why.ja
        assert "Art. 43(5)" in final.why.en


def test_ordinance_items_from_the_playbook(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "  ordinance_sensitive_items: []", "  ordinance_sensitive_items: [school]")
    rules = load_rules(folder)
    result = evaluate(make_facts(dataset("school", persons=1)), rules, TOKYO)
    assert result.reportable
    # The API's own list replaces the playbook's.
    facts = make_facts(dataset("school", persons=1), ordinance_sensitive_items=frozenset())
    assert not evaluate(facts, rules, TOKYO).reportable


# --- 番号法29条の4 ----------------------------------------------------------------------------


@pytest.mark.parametrize("org_kind", ["local_government", "business"])
@pytest.mark.parametrize(
    ("datasets", "overrides", "due"),
    [
        pytest.param([dataset("my_number", persons=101)], {}, True, id="101-persons"),
        pytest.param([dataset("my_number", persons=100)], {}, False, id="100-persons"),
        pytest.param(
            [dataset("my_number", persons=60), dataset("name", "my_number", persons=41)],
            {},
            True,
            id="summed",
        ),
        pytest.param(
            [dataset("my_number", persons=1, exposure="public_internet")],
            {},
            True,
            id="viewable-by-many",
        ),
        pytest.param(
            [dataset("my_number", persons=1)], {"wrongful_intent": True}, True, id="wrongful"
        ),
        pytest.param(
            [dataset("my_number", persons=5000, encrypted=True)], {}, False, id="encrypted"
        ),
        pytest.param([dataset("name", persons=5000)], {}, False, id="no-my-number"),
    ],
)
def test_my_number_report(
    rules: Rules,
    org_kind: str,
    datasets: list[Any],
    overrides: dict[str, Any],
    due: bool,
) -> None:
    facts = make_facts(*datasets, org_kind=org_kind, aware_at=at("2026-12-01"), **overrides)
    result = evaluate(facts, rules, TOKYO)
    report = result.obligation("mynumber_report")
    assert (report is not None) is due
    assert (result.obligation("mynumber_preliminary") is not None) is due
    if report is not None:
        assert report.regime == "mynumber"
        assert "番号法29条の4" in report.article
        assert "番号法" in report.why.ja
        # Counted and rolled forward like the 確報: day 30 is 2026-12-30 (or day 60 is
        # 2027-01-29 with wrongful intent).
        expected = "2027-01-29" if overrides.get("wrongful_intent") else "2027-01-04"
        assert _day(report.due_at) == expected
        notice = result.obligation("notify_individuals")
        assert notice is not None
        assert "番号法29条の4第2項" in notice.article
        assert "個人情報保護法" in notice.article


def test_my_number_of_150_persons_at_a_business_is_reportable_under_the_my_number_act_only(
    rules: Rules,
) -> None:
    facts = make_facts(dataset("my_number", persons=150), org_kind="business")
    result = evaluate(facts, rules, TOKYO)
    assert result.reportable is False  # APPI: more than 1,000 for a business
    assert result.obligation("ppc_final") is None
    assert result.obligation("mynumber_report") is not None
    assert result.obligation("notify_individuals") is not None


# --- 公益通報者保護法 (令和7年改正) and the EU Directive ------------------------------------------


@pytest.mark.parametrize(
    ("reported", "window_ends"),
    [
        (at("2026-12-10", "14:00"), "2027-12-10"),
        (at("2027-03-31"), "2028-03-31"),
        (at("2028-02-29"), "2029-02-28"),  # no 29 February in 2029
        (at("2026-12-10", "00:00"), "2027-12-09"),  # 民法140条但書
    ],
)
def test_protection_window_is_one_year_after_the_report(
    rules: Rules, reported: dt.datetime, window_ends: str
) -> None:
    facts = make_facts(whistleblower_report=True, reported_at=reported)
    window = evaluate(facts, rules, TOKYO).obligation("wb_protection_window")
    assert window is not None
    assert window.deadline == "window"
    assert window.regime == "whistleblower_jp"
    assert _day(window.due_at) == window_ends
    assert "推定" in window.requirement.ja
    assert "探索" in window.requirement.ja


@pytest.mark.parametrize(
    ("acknowledged", "feedback"),
    [
        # Acknowledged on arrival (the receipt page): three months from then.
        (at("2026-11-20", "09:00"), "2027-02-20"),
        (at("2026-11-23", "12:00"), "2027-02-23"),
        # Not acknowledged: three months from the end of the 7-day period (2026-11-27).
        (None, "2027-02-27"),
        # A late acknowledgement does not push the date out.
        (at("2026-12-10"), "2027-02-27"),
    ],
)
def test_eu_feedback_counts_from_the_acknowledgement(
    rules: Rules, acknowledged: dt.datetime | None, feedback: str
) -> None:
    facts = make_facts(
        whistleblower_report=True,
        reported_at=at("2026-11-20", "09:00"),
        acknowledged_at=acknowledged,
        jurisdictions=frozenset({"JP", "EU"}),
    )
    result = evaluate(facts, rules, TOKYO)
    due = result.obligation("wb_feedback")
    assert due is not None
    assert _day(due.due_at) == feedback


# --- encryption policy ------------------------------------------------------------------------


def test_encrypted_data_is_exempt_by_law_even_with_wrongful_intent(rules: Rules) -> None:
    facts = make_facts(dataset("credit_card", encrypted=True), wrongful_intent=True)
    result = evaluate(facts, rules, TOKYO)
    assert result.reportable is False
    assert any("7条1号" in note.ja and "不正の目的" in note.ja for note in result.notes)


def test_encryption_policy_report_if_wrongful_intent(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "  encryption: exempt", "  encryption: report_if_wrongful_intent")
    rules = load_rules(folder)
    facts = make_facts(dataset("credit_card", encrypted=True), wrongful_intent=True)
    result = evaluate(facts, rules, TOKYO)
    assert result.reportable is True
    final = result.obligation("ppc_final")
    assert final is not None
    assert "当組織の方針" in final.why.ja
    assert "own policy" in final.why.en
    assert any("own policy" in note.en for note in result.notes)


# --- contractor notice (法26条1項ただし書, 規則9条) ---------------------------------------------


def test_contractor_notice_moves_awareness_to_it_at_the_latest(rules: Rules) -> None:
    base = make_facts(dataset("medical_history"), aware_at=at("2026-12-10"))
    earlier = make_facts(
        dataset("medical_history"),
        aware_at=at("2026-12-10"),
        contractor_notice_at=at("2026-12-01"),
    )
    later = make_facts(
        dataset("medical_history"),
        aware_at=at("2026-12-10"),
        contractor_notice_at=at("2026-12-15"),
    )
    due = {
        name: evaluate(facts, rules, TOKYO).obligation("ppc_final")
        for name, facts in (("base", base), ("earlier", earlier), ("later", later))
    }
    assert _day(due["base"].due_at if due["base"] else None) == "2027-01-08"
    assert _day(due["earlier"].due_at if due["earlier"] else None) == "2027-01-04"
    assert _day(due["later"].due_at if due["later"] else None) == "2027-01-08"


def test_contractor_notice_recorded_on_a_case_moves_its_deadlines(
    app: Flask, client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    lead = login_as("lead")
    case = founding_case(app, db_session, lead)
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}/triage", headers={"Accept-Language": "en"})
    assert "Record a contractor notice" in page.text
    token = csrf_from(page.text)
    url = f"/console/cases/{case.id}/triage/contractor-notice"
    # Missing fields and a future time are form errors, nothing is written.
    assert client.post(url, data={"csrf_token": token}).status_code == 400
    future = {
        "csrf_token": token,
        "contractor": "Contractor K.K.",
        "notified": "Elections office",
        "notice_at": "2099-01-01T10:00",
    }
    assert client.post(url, data=future).status_code == 400
    assert service.triage_state(db_session, case).contractor_notice_at is None
    # Aware 2015-06-24 10:00; the contractor told the elections office on 2015-06-20.
    response = client.post(url, data={**future, "notice_at": "2015-06-20T16:30"})
    assert response.status_code == 302
    db_session.expire_all()
    state = service.triage_state(db_session, case)
    assert state.contractor_name == "Contractor K.K."
    assert state.contractor_notified == "Elections office"
    due = {o.kind: o for o in service.obligations_of(db_session, case)}
    # 2015-06-20 is day 1: day 30 is Sunday 2015-07-19, 海の日 is Monday 07-20 -> 07-21.
    assert _day(due["ppc_final"].due_at) == "2015-07-21"
    assert _day(due["ppc_final"].target_at) == "2015-07-17"
    assert _day(due["ppc_preliminary"].due_at) == "2015-06-23"
    page = client.get(f"/console/cases/{case.id}/triage", headers={"Accept-Language": "en"})
    assert "Contractor K.K." in page.text
    assert "Internal target" in page.text


# --- the black box: POST /api/v1/triage/evaluate ----------------------------------------------


def _bearer(session: Session, users: UserFactory) -> dict[str, str]:
    created = users.create(roles=["responder"])
    _token, plain = auth.create_token(session, created.user, actor=FACTORY)
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization": {"kind": "local_government", "jurisdictions": ["JP"]},
        "aware_at": "2026-12-01T10:00:00+09:00",
        "datasets": [{"items": ["name"], "persons": 101}],
        "exposure": "lost",
        "insider": False,
        "wrongful_intent": False,
        "ongoing": False,
        "whistleblower_report": False,
        "reported_at": None,
    }
    body.update(overrides)
    return body


def test_evaluate_api_black_box(
    client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    headers = _bearer(db_session, users)

    def post(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        response = client.post("/api/v1/triage/evaluate?lang=ja", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return {o["kind"]: o for o in response.json["obligations"]}

    # Legal deadlines after the roll-forward, in CSIRT_TIMEZONE, with the internal target.
    out = post(_payload())
    assert out["ppc_final"]["due_at"] == "2027-01-04T23:59:59+09:00"
    assert out["ppc_final"]["target_at"] == "2026-12-28T23:59:59+09:00"
    assert out["ppc_final"]["deadline"] == "legal"
    assert out["ppc_final"]["source"]
    assert out["ppc_preliminary"]["deadline"] == "guidance"
    assert out["ppc_preliminary"]["target_at"] is None

    # One person; the ordinance makes an item sensitive.
    one = [{"items": ["name", "school"], "persons": 1}]
    assert post(_payload(datasets=one)) == {}
    ordinance = {
        "kind": "local_government",
        "jurisdictions": ["JP"],
        "ordinance_sensitive_items": ["school"],
    }
    out = post(_payload(datasets=one, organization=ordinance))
    assert {"ppc_preliminary", "ppc_final"} <= set(out)
    assert "43条5号" in out["ppc_final"]["reason"]
    bad = {**ordinance, "ordinance_sensitive_items": ["no_such_item"]}
    refused = client.post(
        "/api/v1/triage/evaluate", json=_payload(organization=bad), headers=headers
    )
    assert refused.status_code == 422
    assert "organization.ordinance_sensitive_items.0" in refused.json["errors"]

    # My Number of more than 100 persons.
    out = post(_payload(datasets=[{"items": ["my_number"], "persons": 101}]))
    assert out["mynumber_report"]["due_at"] == "2027-01-04T23:59:59+09:00"
    assert out["mynumber_report"]["regime"] == "mynumber"

    # A whistleblower report: the protection window one year after it.
    out = post(
        _payload(
            datasets=[],
            whistleblower_report=True,
            reported_at="2026-12-10T14:00:00+09:00",
            organization={"kind": "business", "jurisdictions": ["JP", "EU"]},
            acknowledged_at="2026-12-10T14:00:00+09:00",
        )
    )
    assert out["wb_protection_window"]["due_at"] == "2027-12-10T23:59:59+09:00"
    assert out["wb_protection_window"]["deadline"] == "window"
    assert out["wb_feedback"]["due_at"] == "2027-03-10T23:59:59+09:00"
    refused = client.post(
        "/api/v1/triage/evaluate",
        json=_payload(acknowledged_at="yesterday"),
        headers=headers,
    )
    assert refused.status_code == 422


# --- the protection window on the board and at closing --------------------------------------


def test_protection_window_is_on_the_board_and_does_not_hold_a_case_open(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    created = users.create(roles=["lead"])
    case = founding_case(app, db_session, created.user, aware_at=utcnow() - dt.timedelta(days=1))
    service.run_triage(
        db_session,
        case,
        config=app.config["CSIRT"],
        catalog=current_catalog(app),
        actor=created.user,
        whistleblower_report=True,
    )
    db_session.commit()
    rows = {o.kind: o for o in service.obligations_of(db_session, case)}
    assert rows["wb_protection_window"].deadline == "window"
    login(client, created.user.username, created.password)
    board = client.get("/console/deadlines", headers={"Accept-Language": "en"})
    assert "Reporter protection period" in board.text
    assert "needs the CSIRT and legal to review" in board.text
    # The window runs on after the case is closed: it never holds a case open.
    missing = {item.key for item in obligations_met(db_session, case)}
    assert f"obligation:{rows['ppc_final'].id}" in missing
    assert f"obligation:{rows['wb_protection_window'].id}" not in missing


# --- sources and check dates ------------------------------------------------------------------


def test_every_legal_rule_has_a_source_and_a_recent_check() -> None:
    rules = load_rules(playbooks_dir())
    today = dt.date.today()
    checks: list[tuple[str, dt.date, str]] = [
        ("appi_reportable", rules.appi_reportable.checked, rules.appi_reportable.source),
    ]
    if rules.mynumber_reportable is not None:
        checks.append(
            (
                "mynumber_reportable",
                rules.mynumber_reportable.checked,
                rules.mynumber_reportable.source,
            )
        )
    checks += [(f"obligation {o.kind}", o.checked, o.source) for o in rules.obligations]
    for name, checked, source in checks:
        assert source.strip(), f"{name} names no source"
        # Checked against the law in force on 2026-12-01 (令和7年法律第62号).
        assert checked >= dt.date(2026, 12, 1), f"{name} was checked before the 2026 law"
        # A rule not re-checked for a year may be out of date: check it again.
        assert (today - checked).days <= 365, f"{name} was last checked on {checked}"


# --- helpers ----------------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    for name in ("vocabulary.yaml", "triage.yaml", "legal.yaml"):
        shutil.copy(playbooks_dir() / name, tmp_path / name)
    return tmp_path


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "legal.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_ended_protection_window_leaves_the_board_and_my_work(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    created = users.create(roles=["lead"])
    case = founding_case(app, db_session, created.user)  # aware 2015: the window ended 2016
    service.run_triage(
        db_session,
        case,
        config=app.config["CSIRT"],
        catalog=current_catalog(app),
        actor=created.user,
        whistleblower_report=True,
    )
    db_session.commit()
    window = {o.kind: o for o in service.obligations_of(db_session, case)}["wb_protection_window"]
    assert window.status == "pending"
    assert _day(window.due_at) == "2016-06-24"
    login(client, created.user.username, created.password)
    board = client.get("/console/deadlines", headers={"Accept-Language": "en"})
    assert "Final report to the PPC" in board.text  # overdue, still on the board
    assert "Reporter protection period" not in board.text
    assert "wb_protection_window" not in {
        o.kind for o, _ in open_obligations(db_session, [case.id])
    }
