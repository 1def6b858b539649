"""The personal-data vocabulary (playbooks/vocabulary.yaml) and its public API."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

import pytest

from csirt.triage import Item, Rules, Vocabulary, evaluate, load_vocabulary
from csirt.yamlfile import playbooks_dir

from .factories import dataset, make_facts

REQUIRED = [
    "name",
    "address",
    "postal_code",
    "birth_date",
    "age",
    "sex",
    "phone",
    "email",
    "my_number",
    "employee_number",
    "bank_account",
    "credit_card",
    "salary",
    "school",
    "disability_certificate",
    "care_level",
    "medical_history",
    "criminal_record",
    "religion",
    "political_opinion",
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return load_vocabulary(playbooks_dir() / "vocabulary.yaml")


def test_required_keys_are_present(vocabulary: Vocabulary) -> None:
    assert isinstance(vocabulary, Mapping)
    assert set(REQUIRED) <= set(vocabulary)
    assert list(vocabulary)[:2] == ["name", "address"]  # file order
    assert len(vocabulary) >= len(REQUIRED)
    assert "items" in repr(vocabulary)


def test_sensitive_and_financial(vocabulary: Vocabulary) -> None:
    assert {
        "disability_certificate",
        "medical_history",
        "criminal_record",
        "religion",
        "political_opinion",
    } <= vocabulary.sensitive_keys()
    assert not {"name", "address", "birth_date", "sex", "nationality"} & vocabulary.sensitive_keys()
    assert {"credit_card", "bank_account"} <= vocabulary.financial_keys()
    assert "name" not in vocabulary.financial_keys()


@pytest.mark.parametrize(
    ("key", "x", "y"),
    [
        ("name", 1, 1),
        ("birth_date", 1, 1),
        ("credit_card", 1, 3),
        ("medical_history", 2, 1),
        ("salary", 2, 2),
        ("religion", 3, 1),
        ("criminal_record", 3, 3),
    ],
)
def test_jnsa_levels_follow_the_table(vocabulary: Vocabulary, key: str, x: int, y: int) -> None:
    assert (vocabulary[key].jnsa_x, vocabulary[key].jnsa_y) == (x, y)


def test_identity_roles(vocabulary: Vocabulary) -> None:
    roles = {key: item.identifies for key, item in vocabulary.items() if item.identifies}
    assert roles == {"name": "name", "address": "address", "phone": "phone"}


def test_labels(vocabulary: Vocabulary) -> None:
    item = vocabulary["medical_history"]
    assert isinstance(item, Item)
    assert item.label("ja") == "病歴"
    assert item.label("en") == "Medical history"
    assert item.label() == "病歴"
    assert vocabulary.label("sex", "en") == "Sex"
    assert vocabulary.label("unknown_key") == "unknown_key"
    assert vocabulary["care_level"].note


def test_engine_refuses_items_outside_the_vocabulary(rules: Rules, tokyo: ZoneInfo) -> None:
    with pytest.raises(ValueError, match="unknown vocabulary items: dna"):
        evaluate(make_facts(dataset("name", "dna")), rules, tokyo)
