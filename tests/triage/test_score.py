"""Score, factors, priorities and the damage estimate outside the founding case."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pytest

from csirt.triage import Rules, TriageResult, evaluate

from .factories import dataset, make_facts


def factor_points(result: TriageResult) -> dict[str, int]:
    return {f.key: f.points for f in result.factors}


def test_persons_points_are_log_scaled_and_capped(rules: Rules, tokyo: ZoneInfo) -> None:
    per_tenfold = rules.scoring.persons.points_per_tenfold
    for persons in (1, 9, 100, 1000, 10**9):
        points = factor_points(evaluate(make_facts(dataset(persons=persons)), rules, tokyo))
        expected = min(
            rules.scoring.persons.max_points,
            math.floor(per_tenfold * math.log10(1 + persons) + 0.5),
        )
        assert points["persons"] == expected


def test_no_persons_no_persons_factor(rules: Rules, tokyo: ZoneInfo) -> None:
    result = evaluate(make_facts(exposure="internal"), rules, tokyo)
    assert result.factors == ()
    assert result.score == 0
    assert result.priority == "P4"
    assert result.damage.per_person_jpy == 0
    assert result.damage.total_jpy == 0
    assert "no items" in result.damage.coefficient("x").explanation("en")


def test_factor_points_come_from_yaml(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(
        dataset("name", "address", "religion", "credit_card", persons=10, persons_estimated=True),
        exposure="misuse_confirmed",
        insider=True,
        wrongful_intent=True,
        ongoing=True,
    )
    result = evaluate(facts, rules, tokyo)
    points = factor_points(result)
    scoring = rules.scoring
    assert points["sensitive_items"] == scoring.sensitive_items
    assert points["financial_items"] == scoring.financial_items
    # religion x=3, credit card y=3
    assert points["jnsa_sensitivity"] == 2 * scoring.per_x_level + 2 * scoring.per_y_level
    assert points["identifiability"] == scoring.identifiability["easy"]
    assert points["exposure"] == scoring.exposure["misuse_confirmed"]
    for key in ("insider", "wrongful_intent", "ongoing", "reportable"):
        assert points[key] == getattr(scoring, key)
    assert result.score == min(100, sum(points.values())) == 100
    reasons = {f.key: f.reason("en") for f in result.factors}
    assert "(estimated)" in reasons["persons"]
    assert "Religion" in reasons["sensitive_items"]
    assert "Credit card number" in reasons["financial_items"]
    assert any("estimates" in note.en for note in result.notes)


@pytest.mark.parametrize(
    ("items", "level"),
    [
        (("name", "address"), "easy"),
        (("name",), "possible"),
        (("address", "phone"), "possible"),
        (("address",), "hard"),
        (("email", "birth_date"), "hard"),
    ],
)
def test_identifiability_levels(
    rules: Rules, tokyo: ZoneInfo, items: tuple[str, ...], level: str
) -> None:
    result = evaluate(make_facts(dataset(*items)), rules, tokyo)
    expected = next(lv for lv in rules.jnsa.identifiability if lv.id == level)
    assert result.damage.coefficient("identifiability").value == expected.value
    assert factor_points(result).get("identifiability", 0) == rules.scoring.identifiability[level]


def test_encrypted_data_counts_little_and_costs_nothing(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(dataset("name", "address", "medical_history", persons=10000, encrypted=True))
    result = evaluate(facts, rules, tokyo)
    points = factor_points(result)
    assert "sensitive_items" not in points
    assert "identifiability" not in points
    weighted = 10000 * rules.scoring.persons.encrypted_weight
    assert points["persons"] == math.floor(6 * math.log10(1 + weighted) + 0.5)
    assert "encrypted" in result.factors[0].reason("en")
    assert result.damage.total_jpy == 0
    assert result.damage.datasets == ()
    assert any("encrypted" in note.en for note in result.notes)


def test_damage_sums_data_sets_and_shows_the_costliest(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(
        dataset("name", "address", persons=1000),  # 500 x 2 x 6 = 6,000
        dataset("email", "medical_history", persons=10),  # 500 x (10 + 1) x 1 = 5,500
        dataset("credit_card", persons=5),  # 500 x (1 + 25) x 1 = 13,000
    )
    damage = evaluate(facts, rules, tokyo).damage
    assert [d.per_person_jpy for d in damage.datasets] == [13_000, 6_000, 5_500]
    assert damage.per_person_jpy == 13_000
    assert damage.total_jpy == 13_000 * 5 + 6_000 * 1000 + 5_500 * 10
    assert damage.persons == 1015
    assert damage.coefficient("y").value == 3


@pytest.mark.parametrize(
    ("score", "priority"),
    [
        (100, "P1"),
        (70, "P1"),
        (69, "P2"),
        (45, "P2"),
        (44, "P3"),
        (25, "P3"),
        (24, "P4"),
        (0, "P4"),
    ],
)
def test_priority_thresholds(rules: Rules, score: int, priority: str) -> None:
    assert rules.priority_for(score).id == priority


def test_to_json_in_both_languages(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(dataset("name", "medical_history", persons=3), exposure="internal")
    result = evaluate(facts, rules, tokyo)
    ja, en = result.to_json("ja"), result.to_json("en")
    assert set(ja) >= {"score", "priority", "factors", "damage_estimate", "obligations"}
    assert ja["score"] == en["score"] == result.score
    assert ja["priority_label"] != en["priority_label"]
    assert ja["obligations"][0]["basis"] != en["obligations"][0]["basis"]
    assert en["reasons"] == ["includes sensitive personal data (Medical history)"]
    assert en["response_targets"]["contain_within_hours"] > 0
    assert en["notes"]
