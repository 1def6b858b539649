"""The founding case: Sakai city, 2015, 680,000 voters' data put online by an insider."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from csirt.triage import Rules, evaluate, parse_facts
from csirt.triage.vocabulary import load_vocabulary
from csirt.yamlfile import playbooks_dir

from .factories import dataset, make_facts

VOTERS = dataset("name", "address", "birth_date", "sex", persons=680_000)


VOCABULARY = load_vocabulary(playbooks_dir() / "vocabulary.yaml")


def test_sakai_is_p1_with_every_appi_obligation(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(VOTERS, exposure="public_internet", insider=True)
    result = evaluate(facts, rules, tokyo)
    assert result.priority == "P1"
    assert result.score >= rules.priorities[0].min_score
    assert {o.kind for o in result.obligations} == {
        "ppc_preliminary",
        "ppc_final",
        "notify_individuals",
    }
    assert {f.key for f in result.factors} >= {"persons", "identifiability", "exposure", "insider"}
    assert result.response_targets.acknowledge_within_hours == 1


def test_sakai_jnsa_estimate_line_by_line(rules: Rules, tokyo: ZoneInfo) -> None:
    facts = make_facts(VOTERS, exposure="public_internet", insider=True)
    damage = evaluate(facts, rules, tokyo).damage
    values = {c.key: c.value for c in damage.coefficients}
    assert values == {
        "base": 500,
        "x": 1,
        "y": 1,
        "sensitivity": 2,  # 10^0 + 5^0
        "identifiability": 6,  # name and address
        "social_responsibility": 1,
        "response": 1,
    }
    assert damage.per_person_jpy == 500 * 2 * 6 * 1 * 1 == 6_000
    assert damage.total_jpy == 6_000 * 680_000
    assert damage.persons == 680_000
    assert damage.formula("en") == (
        "500 × 2 × 6 × 1 × 1 = 6,000 yen per person; total 4,080,000,000 yen (680,000 persons)"
    )
    assert "10^(1-1) + 5^(1-1) = 2" in damage.coefficient("sensitivity").explanation("ja")
    assert "氏名と住所" in damage.coefficient("identifiability").explanation("ja")
    assert "Name" in damage.coefficient("x").explanation("en")


def test_sakai_multipliers_for_a_public_body_that_responded_badly(
    rules: Rules, tokyo: ZoneInfo
) -> None:
    facts = make_facts(
        VOTERS,
        exposure="public_internet",
        insider=True,
        social_responsibility="high",
        response="inappropriate",
    )
    damage = evaluate(facts, rules, tokyo).damage
    assert damage.per_person_jpy == 500 * 2 * 6 * 2 * 2
    assert damage.total_jpy == 24_000 * 680_000
    assert "higher than average" in damage.coefficient("social_responsibility").explanation("en")
    assert "不適切" in damage.coefficient("response").explanation("ja")


def test_sakai_through_the_api_payload(rules: Rules, tokyo: ZoneInfo) -> None:
    body = {
        "organization": {"kind": "local_government", "jurisdictions": ["JP"]},
        "aware_at": "2015-06-24T10:00:00+09:00",
        "datasets": [{"items": ["name", "address", "birth_date", "sex"], "persons": 680000}],
        "exposure": "public_internet",
        "insider": True,
        "wrongful_intent": True,
        "ongoing": False,
        "whistleblower_report": True,
        "reported_at": "2015-06-24T09:00:00+09:00",
    }
    facts = parse_facts(
        body, default_org_kind="business", default_jurisdictions=["EU"], vocabulary=VOCABULARY
    )
    out = evaluate(facts, rules, tokyo).to_json("en")
    assert out["priority"] == "P1"
    assert out["damage_estimate"]["per_person_jpy"] == 6_000
    assert out["damage_estimate"]["total_jpy"] == 4_080_000_000
    assert set(out["damage_estimate"]["coefficients"]) == {
        "base",
        "x",
        "y",
        "sensitivity",
        "identifiability",
        "social_responsibility",
        "response",
    }
    due = {o["kind"]: o["due_at"] for o in out["obligations"]}
    assert due == {
        "ppc_preliminary": "2015-06-27T23:59:59+09:00",
        # 60 days counting 2015-06-24 as day 1 end on Saturday 08-22: Monday 08-24 (通則編 ※2).
        "ppc_final": "2015-08-24T23:59:59+09:00",
        "notify_individuals": "2015-07-23T23:59:59+09:00",
        "wb_investigation_notice": "2015-07-14T23:59:59+09:00",
        "wb_outcome_notice": "2015-09-24T23:59:59+09:00",
        "wb_protection_window": "2016-06-24T23:59:59+09:00",
    }
    for obligation in out["obligations"]:
        assert set(obligation) >= {"regime", "kind", "basis", "due_at", "status"}
        assert dt.datetime.fromisoformat(obligation["due_at"]).utcoffset() is not None
    for factor in out["factors"]:
        assert set(factor) == {"key", "points", "reason"}
        assert factor["points"] > 0
    assert sum(f["points"] for f in out["factors"]) >= out["score"]
