"""Legal obligations at every boundary, with due dates in Asia/Tokyo."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from csirt.triage import DatasetFacts, DueObligation, Rules, evaluate

from .factories import dataset, make_facts

APPI = {"ppc_preliminary", "ppc_final", "notify_individuals"}
JST = dt.timezone(dt.timedelta(hours=9))


def kinds(obligations: tuple[DueObligation, ...]) -> set[str]:
    return {o.kind for o in obligations}


@pytest.mark.parametrize(
    ("org_kind", "datasets", "wrongful_intent", "reportable"),
    [
        pytest.param("local_government", [dataset("name", persons=100)], False, False, id="lg-100"),
        pytest.param("local_government", [dataset("name", persons=101)], False, True, id="lg-101"),
        pytest.param("business", [dataset("name", persons=1000)], False, False, id="biz-1000"),
        pytest.param("business", [dataset("name", persons=1001)], False, True, id="biz-1001"),
        pytest.param("business", [dataset("name", persons=101)], False, False, id="biz-101"),
        pytest.param(
            "local_government",
            [dataset("name", persons=60), dataset("email", persons=41)],
            False,
            True,
            id="lg-summed-over-datasets",
        ),
        pytest.param(
            "local_government", [dataset("medical_history")], False, True, id="lg-1-sensitive"
        ),
        pytest.param(
            "business", [dataset("name", "criminal_record")], False, True, id="biz-1-sensitive"
        ),
        pytest.param("business", [dataset("credit_card")], False, True, id="biz-1-financial"),
        pytest.param("business", [dataset("name")], True, True, id="biz-1-wrongful"),
        pytest.param("business", [dataset("name")], False, False, id="biz-1-plain"),
        pytest.param(
            "local_government",
            [dataset("medical_history", encrypted=True)],
            False,
            False,
            id="encrypted-sensitive-exempt",
        ),
        pytest.param(
            "business",
            [dataset("name", persons=50000, encrypted=True)],
            False,
            False,
            id="encrypted-many-exempt",
        ),
        pytest.param(
            "local_government",
            [dataset("name", persons=5000, encrypted=True), dataset("name", persons=100)],
            False,
            False,
            id="encrypted-excluded-from-sum",
        ),
        pytest.param(
            "local_government",
            [dataset("credit_card", encrypted=True)],
            True,
            False,
            id="wrongful-intent-encrypted-exempt-by-law",
        ),
    ],
)
def test_appi_reportability_boundaries(
    rules: Rules,
    tokyo: ZoneInfo,
    org_kind: str,
    datasets: list[DatasetFacts],
    wrongful_intent: bool,
    reportable: bool,
) -> None:
    facts = make_facts(*datasets, org_kind=org_kind, wrongful_intent=wrongful_intent)
    result = evaluate(facts, rules, tokyo)
    assert result.reportable is reportable
    assert (kinds(result.obligations) & APPI) == (APPI if reportable else set())
    assert any(f.key == "reportable" for f in result.factors) is reportable


def test_sensitive_reason_names_the_item(rules: Rules, tokyo: ZoneInfo) -> None:
    result = evaluate(make_facts(dataset("medical_history")), rules, tokyo)
    final = result.obligation("ppc_final")
    assert final is not None
    assert "病歴" in final.why.ja
    assert "Medical history" in final.why.en
    assert final.status == "pending"
    assert final.article.startswith("個人情報保護法68条")


def test_business_basis_cites_article_26(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(dataset("name", persons=1001), org_kind="business")
    result = evaluate(facts, rules, tokyo)
    preliminary = result.obligation("ppc_preliminary")
    assert preliminary is not None
    assert "26条" in preliminary.article
    assert preliminary.basis("en").startswith(preliminary.article + ": ")


@pytest.mark.parametrize(
    ("aware_at", "kind", "wrongful_intent", "expected"),
    [
        # Year end: the first day is not counted for the preliminary report.
        (dt.datetime(2026, 12, 30, 10, tzinfo=JST), "ppc_preliminary", False, "2027-01-02"),
        # Final report: the day of awareness is day 1 (通則編 3-5-3-4); a last day on a
        # weekend moves to the Monday (※2).
        (dt.datetime(2026, 12, 30, 10, tzinfo=JST), "ppc_final", False, "2027-01-28"),
        (dt.datetime(2026, 11, 20, 10, tzinfo=JST), "ppc_final", False, "2026-12-21"),
        (dt.datetime(2026, 11, 20, 10, tzinfo=JST), "ppc_final", True, "2027-01-18"),
        (dt.datetime(2026, 12, 30, 10, tzinfo=JST), "ppc_final", True, "2027-03-01"),
        # Month ends, non-leap and leap February.
        (dt.datetime(2026, 2, 27, 9, tzinfo=JST), "ppc_preliminary", False, "2026-03-02"),
        (dt.datetime(2028, 2, 27, 9, tzinfo=JST), "ppc_preliminary", False, "2028-03-01"),
        (dt.datetime(2026, 4, 29, 9, tzinfo=JST), "ppc_preliminary", False, "2026-05-02"),
        # 16:00 UTC on 30 January is already 31 January in Tokyo.
        (dt.datetime(2026, 1, 30, 16, tzinfo=dt.UTC), "ppc_preliminary", False, "2026-02-03"),
        (dt.datetime(2026, 1, 30, 14, 59, tzinfo=dt.UTC), "ppc_preliminary", False, "2026-02-02"),
        (dt.datetime(2026, 11, 20, 10, tzinfo=JST), "notify_individuals", False, "2026-12-19"),
    ],
)
def test_appi_due_dates_in_tokyo(
    rules: Rules,
    tokyo: ZoneInfo,
    aware_at: dt.datetime,
    kind: str,
    wrongful_intent: bool,
    expected: str,
) -> None:
    facts = make_facts(
        dataset("name", persons=500), aware_at=aware_at, wrongful_intent=wrongful_intent
    )
    obligation = evaluate(facts, rules, tokyo).obligation(kind)
    assert obligation is not None
    assert obligation.due_at.isoformat() == f"{expected}T23:59:59+09:00"
    assert obligation.due_at.tzinfo == tokyo


def test_wrongful_intent_moves_final_report_to_60_days(rules: Rules, tokyo: ZoneInfo) -> None:
    plain = evaluate(make_facts(dataset("name", persons=500)), rules, tokyo)
    wrongful = evaluate(
        make_facts(dataset("name", persons=500), wrongful_intent=True), rules, tokyo
    )
    plain_final, wrongful_final = plain.obligation("ppc_final"), wrongful.obligation("ppc_final")
    assert plain_final is not None
    assert wrongful_final is not None
    # Aware on 2026-11-20: day 30 is Saturday 12-19 (-> Monday 12-21), day 60 is 01-18.
    assert plain_final.due_at.date() == dt.date(2026, 12, 21)
    assert wrongful_final.due_at.date() == dt.date(2027, 1, 18)
    # The preliminary report does not move.
    plain_preliminary = plain.obligation("ppc_preliminary")
    wrongful_preliminary = wrongful.obligation("ppc_preliminary")
    assert plain_preliminary is not None
    assert wrongful_preliminary is not None
    assert plain_preliminary.due_at == wrongful_preliminary.due_at
    assert "wrongful intent" in wrongful_final.why.en


def test_internal_exposure_still_reportable_with_a_note(rules: Rules, tokyo: ZoneInfo) -> None:
    result = evaluate(make_facts(dataset("medical_history"), exposure="internal"), rules, tokyo)
    assert kinds(result.obligations) >= APPI
    assert any("dismiss" in note.en for note in result.notes)


def test_appi_needs_japan(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(dataset("medical_history", persons=5000), jurisdictions=frozenset({"EU"}))
    result = evaluate(facts, rules, tokyo)
    assert not kinds(result.obligations) & APPI
    assert result.reportable is False
    assert result.reasons == ()
    assert "gdpr_authority" in kinds(result.obligations)


@pytest.mark.parametrize(
    ("reported_at", "kind", "expected"),
    [
        (dt.datetime(2026, 12, 15, 18, tzinfo=JST), "wb_investigation_notice", "2027-01-04"),
        (dt.datetime(2026, 1, 12, 9, tzinfo=JST), "wb_investigation_notice", "2026-02-01"),
        # Three months, clamped to the end of February.
        (dt.datetime(2026, 11, 30, 9, tzinfo=JST), "wb_outcome_notice", "2027-02-28"),
        (dt.datetime(2026, 6, 24, 9, tzinfo=JST), "wb_outcome_notice", "2026-09-24"),
    ],
)
def test_whistleblower_deadlines(
    rules: Rules, tokyo: ZoneInfo, reported_at: dt.datetime, kind: str, expected: str
) -> None:
    facts = make_facts(whistleblower_report=True, reported_at=reported_at)
    obligation = evaluate(facts, rules, tokyo).obligation(kind)
    assert obligation is not None
    assert obligation.regime == "whistleblower_jp"
    assert obligation.due_at.isoformat() == f"{expected}T23:59:59+09:00"


def test_whistleblower_without_report_time_counts_from_awareness(
    rules: Rules, tokyo: ZoneInfo
) -> None:
    facts = make_facts(
        whistleblower_report=True, aware_at=dt.datetime(2026, 12, 15, 18, tzinfo=JST)
    )
    result = evaluate(facts, rules, tokyo)
    notice = result.obligation("wb_investigation_notice")
    assert notice is not None
    assert notice.due_at.date() == dt.date(2027, 1, 4)
    assert any("awareness" in note.en for note in result.notes)
    assert {o.kind for o in result.obligations} == {
        "wb_investigation_notice",
        "wb_outcome_notice",
        "wb_protection_window",
    }


def test_no_whistleblower_obligations_without_a_report(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(dataset("name"), jurisdictions=frozenset({"JP", "EU"}))
    assert not {k for k in kinds(evaluate(facts, rules, tokyo).obligations) if k.startswith("wb_")}


def test_eu_obligations(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(
        dataset("name", "address", "medical_history", persons=3),
        jurisdictions=frozenset({"JP", "EU"}),
        whistleblower_report=True,
        reported_at=dt.datetime(2026, 11, 20, 9, tzinfo=JST),
        aware_at=dt.datetime(2026, 11, 20, 10, tzinfo=JST),
    )
    result = evaluate(facts, rules, tokyo)
    due = {o.kind: o.due_at.isoformat() for o in result.obligations}
    assert due["wb_acknowledge"] == "2026-11-27T23:59:59+09:00"
    # Three months after the acknowledgement deadline.
    assert due["wb_feedback"] == "2027-02-27T23:59:59+09:00"
    # 72 hours from the instant of awareness, not the end of a day.
    assert due["gdpr_authority"] == "2026-11-23T10:00:00+09:00"
    assert due["gdpr_individuals"] == "2026-11-23T10:00:00+09:00"
    assert APPI | {"wb_investigation_notice", "wb_outcome_notice"} <= set(due)
    individuals = result.obligation("gdpr_individuals")
    assert individuals is not None
    assert "priority P2" in individuals.why.en
    assert "Medical history" in individuals.why.en


def test_gdpr_72_hours_across_a_dst_change(rules: Rules) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    aware = dt.datetime(2026, 3, 27, 12, tzinfo=berlin)  # CET; CEST starts on 29 March
    facts = make_facts(dataset("email"), jurisdictions=frozenset({"EU"}), aware_at=aware)
    authority = evaluate(facts, rules, berlin).obligation("gdpr_authority")
    assert authority is not None
    assert authority.due_at.isoformat() == "2026-03-30T13:00:00+02:00"
    assert authority.due_at.astimezone(dt.UTC) - aware.astimezone(dt.UTC) == dt.timedelta(hours=72)


@pytest.mark.parametrize(
    ("datasets", "overrides", "high_risk"),
    [
        pytest.param([dataset("email")], {}, False, id="low-risk"),
        pytest.param([dataset("religion")], {}, True, id="sensitive-item"),
        pytest.param(
            [dataset("name", "address", persons=100000)],
            {"exposure": "public_internet", "insider": True},
            True,
            id="priority-p1",
        ),
        pytest.param(
            [dataset("religion", persons=100000, encrypted=True)],
            {"exposure": "public_internet", "insider": True, "wrongful_intent": True},
            False,
            id="encrypted-exempt",
        ),
    ],
)
def test_gdpr_individuals_only_for_high_risk(
    rules: Rules,
    tokyo: ZoneInfo,
    datasets: list[DatasetFacts],
    overrides: dict[str, object],
    high_risk: bool,
) -> None:
    facts = make_facts(*datasets, jurisdictions=frozenset({"EU"}), **overrides)
    result = evaluate(facts, rules, tokyo)
    assert "gdpr_authority" in kinds(result.obligations)
    assert ("gdpr_individuals" in kinds(result.obligations)) is high_risk


def test_no_gdpr_authority_without_personal_data(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(jurisdictions=frozenset({"EU"}))
    assert evaluate(facts, rules, tokyo).obligations == ()


def test_naive_aware_at_is_refused(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(aware_at=dt.datetime(2026, 11, 20, 10))
    with pytest.raises(ValueError, match="aware"):
        evaluate(facts, rules, tokyo)
