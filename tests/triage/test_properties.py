"""Property tests: the score is monotone in persons, items and exposure, and order-free."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from csirt.triage import EXPOSURES, DatasetFacts, Facts, evaluate, exposure_rank, load_rules
from csirt.yamlfile import playbooks_dir

RULES = load_rules(playbooks_dir())
TOKYO = ZoneInfo("Asia/Tokyo")
ITEMS = list(RULES.vocabulary)

datasets_strategy = st.builds(
    DatasetFacts,
    items=st.lists(st.sampled_from(ITEMS), unique=True, max_size=6).map(tuple),
    persons=st.integers(min_value=0, max_value=10_000_000),
    persons_estimated=st.booleans(),
    encrypted=st.booleans(),
    exposure=st.none() | st.sampled_from(EXPOSURES),
)

facts_strategy = st.builds(
    Facts,
    org_kind=st.sampled_from(["local_government", "business"]),
    jurisdictions=st.frozensets(st.sampled_from(["JP", "EU", "US"]), min_size=1),
    aware_at=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2035, 12, 31),
        timezones=st.sampled_from([TOKYO, dt.UTC, ZoneInfo("Europe/Berlin")]),
    ),
    datasets=st.lists(datasets_strategy, max_size=4).map(tuple),
    exposure=st.sampled_from(EXPOSURES),
    insider=st.booleans(),
    wrongful_intent=st.booleans(),
    ongoing=st.booleans(),
    whistleblower_report=st.booleans(),
    reported_at=st.none(),
    social_responsibility=st.sampled_from(["high", "average"]),
    response=st.sampled_from(["appropriate", "inappropriate", "unknown"]),
)


def score(facts: Facts) -> int:
    return evaluate(facts, RULES, TOKYO).score


def kinds(facts: Facts) -> set[str]:
    return {o.kind for o in evaluate(facts, RULES, TOKYO).obligations}


def replace_dataset(facts: Facts, index: int, dataset: DatasetFacts) -> Facts:
    datasets = list(facts.datasets)
    datasets[index] = dataset
    return dataclasses.replace(facts, datasets=tuple(datasets))


@settings(max_examples=100, deadline=None)
@given(facts_strategy)
def test_score_is_bounded_and_matches_priority(facts: Facts) -> None:
    result = evaluate(facts, RULES, TOKYO)
    assert 0 <= result.score <= RULES.scoring.max_score
    assert result.priority == RULES.priority_for(result.score).id
    assert all(f.points > 0 for f in result.factors)
    assert result.damage.total_jpy >= 0


@settings(max_examples=100, deadline=None)
@given(facts_strategy, st.data())
def test_more_persons_never_lower_the_score(facts: Facts, data: st.DataObject) -> None:
    if not facts.datasets:
        return
    index = data.draw(st.integers(0, len(facts.datasets) - 1))
    extra = data.draw(st.integers(1, 10_000_000))
    target = facts.datasets[index]
    bigger = replace_dataset(
        facts, index, dataclasses.replace(target, persons=target.persons + extra)
    )
    assert score(bigger) >= score(facts)
    assert kinds(bigger) >= kinds(facts)
    before = evaluate(facts, RULES, TOKYO).damage.total_jpy
    assert evaluate(bigger, RULES, TOKYO).damage.total_jpy >= before


@settings(max_examples=100, deadline=None)
@given(facts_strategy, st.data())
def test_more_items_never_lower_the_score(facts: Facts, data: st.DataObject) -> None:
    if not facts.datasets:
        return
    index = data.draw(st.integers(0, len(facts.datasets) - 1))
    target = facts.datasets[index]
    missing = [key for key in ITEMS if key not in target.items]
    if not missing:
        return
    item = data.draw(st.sampled_from(missing))
    richer = replace_dataset(facts, index, dataclasses.replace(target, items=(*target.items, item)))
    assert score(richer) >= score(facts)
    assert kinds(richer) >= kinds(facts)


@settings(max_examples=100, deadline=None)
@given(facts_strategy, st.data())
def test_worse_exposure_never_lowers_the_score(facts: Facts, data: st.DataObject) -> None:
    worse = data.draw(st.sampled_from(EXPOSURES[exposure_rank(facts.exposure) :]))
    exposed = dataclasses.replace(facts, exposure=worse)
    assert score(exposed) >= score(facts)
    assert kinds(exposed) >= kinds(facts)
    if facts.datasets:
        index = data.draw(st.integers(0, len(facts.datasets) - 1))
        dataset_exposure = data.draw(st.sampled_from(EXPOSURES))
        target = facts.datasets[index]
        if target.exposure is None or exposure_rank(dataset_exposure) >= exposure_rank(
            target.exposure
        ):
            raised = replace_dataset(
                facts, index, dataclasses.replace(target, exposure=dataset_exposure)
            )
            assert score(raised) >= score(facts)


@settings(max_examples=100, deadline=None)
@given(facts_strategy, datasets_strategy)
def test_another_data_set_never_lowers_the_score(facts: Facts, extra: DatasetFacts) -> None:
    more = dataclasses.replace(facts, datasets=(*facts.datasets, extra))
    assert score(more) >= score(facts)
    assert kinds(more) >= kinds(facts)


@settings(max_examples=100, deadline=None)
@given(facts_strategy, st.randoms(use_true_random=False))
def test_order_of_data_sets_and_items_does_not_matter(facts: Facts, rnd: random.Random) -> None:
    shuffle = rnd.shuffle
    datasets = []
    for dataset in facts.datasets:
        items = list(dataset.items)
        shuffle(items)
        datasets.append(dataclasses.replace(dataset, items=tuple(items)))
    shuffle(datasets)
    shuffled = dataclasses.replace(facts, datasets=tuple(datasets))
    original = evaluate(facts, RULES, TOKYO)
    again = evaluate(shuffled, RULES, TOKYO)
    assert again == original
    assert again.to_json("ja") == original.to_json("ja")
    assert again.to_json("en") == original.to_json("en")
