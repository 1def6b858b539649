"""parse_facts: the API payload of issue 5 item 7, with every bad field named."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from csirt.triage import DatasetFacts, FactsError, parse_facts
from csirt.triage.vocabulary import load_vocabulary
from csirt.yamlfile import playbooks_dir

from .factories import payload

VOCABULARY = load_vocabulary(playbooks_dir() / "vocabulary.yaml")


def parse(body: Any) -> Any:
    return parse_facts(
        body,
        default_org_kind="local_government",
        default_jurisdictions=["JP"],
        vocabulary=VOCABULARY,
    )


def errors_of(body: Any) -> dict[str, str]:
    with pytest.raises(FactsError) as info:
        parse(body)
    return info.value.errors


def test_the_issue_example_parses() -> None:
    facts = parse(payload())
    assert facts.org_kind == "local_government"
    assert facts.jurisdictions == frozenset({"JP"})
    assert facts.aware_at == dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
    assert facts.datasets == (DatasetFacts(items=("name", "address"), persons=680000),)
    assert facts.exposure == "internal"
    assert facts.insider is True
    assert facts.wrongful_intent is True
    assert facts.reported_at is None
    assert facts.social_responsibility == "average"
    assert facts.response == "unknown"


def test_organization_defaults_apply() -> None:
    body = payload()
    del body["organization"]
    facts = parse_facts(
        body, default_org_kind="business", default_jurisdictions=("JP", "EU"), vocabulary=VOCABULARY
    )
    assert facts.org_kind == "business"
    assert facts.jurisdictions == frozenset({"JP", "EU"})


def test_optional_fields() -> None:
    body = payload(
        organization={
            "kind": "business",
            "jurisdictions": ["jp", "EU"],
            "social_responsibility": "high",
        },
        datasets=[
            {
                "items": ["name", "name", "credit_card"],
                "persons": 0,
                "persons_estimated": True,
                "encrypted": True,
                "exposure": "search_cache",
            },
            {"items": [], "persons": 5, "exposure": None},
        ],
        reported_at="2026-11-19T23:00:00+09:00",
        response="inappropriate",
        whistleblower_report=True,
    )
    facts = parse(body)
    assert facts.org_kind == "business"
    assert facts.jurisdictions == frozenset({"JP", "EU"})
    assert facts.social_responsibility == "high"
    assert facts.response == "inappropriate"
    assert facts.reported_at == dt.datetime(2026, 11, 19, 14, tzinfo=dt.UTC)
    assert facts.datasets[0] == DatasetFacts(
        items=("name", "credit_card"),
        persons=0,
        persons_estimated=True,
        encrypted=True,
        exposure="search_cache",
    )
    assert facts.datasets[1].exposure is None
    assert facts.effective_exposure == "search_cache"


@pytest.mark.parametrize("response", ["appropriate", "unknown"])
def test_response_values(response: str) -> None:
    assert parse(payload(response=response)).response == response


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"aware_at": "yesterday"}, "aware_at", "ISO 8601"),
        ({"aware_at": 1700000000}, "aware_at", "ISO 8601"),
        ({"aware_at": "2026-11-20T10:00:00"}, "aware_at", "UTC offset"),
        ({"reported_at": "2026-11-20"}, "reported_at", "UTC offset"),
        ({"exposure": "leaked"}, "exposure", "must be one of"),
        ({"insider": "yes"}, "insider", "true or false"),
        ({"ongoing": None}, "ongoing", "true or false"),
        ({"datasets": {"items": []}}, "datasets", "must be a list"),
        ({"datasets": ["x"]}, "datasets.0", "must be an object"),
        ({"datasets": [{"persons": 1}]}, "datasets.0.items", "is required"),
        ({"datasets": [{"items": "name", "persons": 1}]}, "datasets.0.items", "list"),
        ({"datasets": [{"items": ["name", "dna"], "persons": 1}]}, "datasets.0.items.1", "dna"),
        ({"datasets": [{"items": [7], "persons": 1}]}, "datasets.0.items.0", "unknown item"),
        ({"datasets": [{"items": []}]}, "datasets.0.persons", "is required"),
        ({"datasets": [{"items": [], "persons": -1}]}, "datasets.0.persons", "non-negative"),
        ({"datasets": [{"items": [], "persons": 1.5}]}, "datasets.0.persons", "non-negative"),
        ({"datasets": [{"items": [], "persons": True}]}, "datasets.0.persons", "non-negative"),
        (
            {"datasets": [{"items": [], "persons": 1, "encrypted": "no"}]},
            "datasets.0.encrypted",
            "",
        ),
        (
            {"datasets": [{"items": [], "persons": 1, "exposure": "web"}]},
            "datasets.0.exposure",
            "must be one of",
        ),
        ({"datasets": [{"items": [], "persons": 1, "size": 3}]}, "datasets.0.size", "unknown"),
        ({"organization": "city"}, "organization", "must be an object"),
        ({"organization": {"kind": "ngo"}}, "organization.kind", "must be one of"),
        ({"organization": {"jurisdictions": []}}, "organization.jurisdictions", "non-empty"),
        ({"organization": {"jurisdictions": "JP"}}, "organization.jurisdictions", "non-empty"),
        (
            {"organization": {"jurisdictions": ["JP", "Japan"]}},
            "organization.jurisdictions.1",
            "code",
        ),
        (
            {"organization": {"social_responsibility": "huge"}},
            "organization.social_responsibility",
            "must be one of",
        ),
        ({"organization": {"name": "Sakai"}}, "organization.name", "unknown"),
        ({"response": "slow"}, "response", "must be one of"),
        ({"severity": 3}, "severity", "unknown field"),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, Any], field: str, message: str) -> None:
    errors = errors_of(payload(**overrides))
    assert set(errors) == {field}
    assert message in errors[field]


@pytest.mark.parametrize(
    "field",
    [
        "aware_at",
        "datasets",
        "exposure",
        "insider",
        "wrongful_intent",
        "ongoing",
        "whistleblower_report",
    ],
)
def test_missing_required_fields(field: str) -> None:
    body = payload()
    del body[field]
    assert errors_of(body) == {field: "is required"}


def test_every_error_at_once() -> None:
    body = {
        "organization": {"kind": "ngo", "jurisdictions": [1]},
        "aware_at": "soon",
        "datasets": [{"items": ["nam"], "persons": -3}, {"items": ["email"], "persons": "many"}],
        "exposure": "web",
        "insider": 1,
        "extra": True,
    }
    assert set(errors_of(body)) == {
        "organization.kind",
        "organization.jurisdictions.0",
        "aware_at",
        "datasets.0.items.0",
        "datasets.0.persons",
        "datasets.1.persons",
        "exposure",
        "insider",
        "wrongful_intent",
        "ongoing",
        "whistleblower_report",
        "extra",
    }


def test_a_non_object_body() -> None:
    assert errors_of(["not", "an", "object"]) == {"body": "must be a JSON object"}


def test_error_message_lists_fields() -> None:
    with pytest.raises(FactsError, match=r"exposure: must be one of"):
        parse(payload(exposure="web"))
