"""JNSA 想定損害賠償額 (the JNSA damage model): coefficients from the facts, explained (pure).

Part of the triage engine: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from csirt.lang import Lang, LocalText
from csirt.triage.facts import DatasetFacts, Facts
from csirt.triage.rules import IdentifiabilityLevel, Rules
from csirt.triage.vocabulary import Item, Vocabulary


@dataclass(frozen=True)
class Coefficient:
    """One coefficient of the JNSA formula with how it was chosen."""

    key: str
    value: int
    how: LocalText

    def explanation(self, lang: Lang) -> str:
        """The explanation in ``lang``."""
        return self.how.get(lang)


@dataclass(frozen=True)
class DatasetDamage:
    """The JNSA estimate for one data set that is not highly encrypted."""

    items: tuple[str, ...]
    persons: int
    per_person_jpy: int
    subtotal_jpy: int


@dataclass(frozen=True)
class DamageEstimate:
    """JNSA 想定損害賠償額: coefficients of the costliest data set, total over all data sets."""

    per_person_jpy: int
    total_jpy: int
    persons: int
    coefficients: tuple[Coefficient, ...]
    datasets: tuple[DatasetDamage, ...]

    def coefficient(self, key: str) -> Coefficient:
        """The coefficient named ``key`` (base, x, y, sensitivity, identifiability, ...)."""
        return next(c for c in self.coefficients if c.key == key)

    def formula(self, lang: Lang) -> str:
        """The calculation spelled out, e.g. ``500 × 2 × 6 × 1 × 1 = 6,000円/人 × ...``."""
        values = " × ".join(
            str(self.coefficient(k).value)
            for k in ("base", "sensitivity", "identifiability", "social_responsibility", "response")
        )
        if lang == "ja":
            return (
                f"{values} = {self.per_person_jpy:,}円/人; "
                f"合計 {self.total_jpy:,}円（{self.persons:,}人）"
            )
        return (
            f"{values} = {self.per_person_jpy:,} yen per person; "
            f"total {self.total_jpy:,} yen ({self.persons:,} persons)"
        )


def labels(items: Iterable[Item], lang: Lang) -> str:
    """The items' labels in ``lang``, as one list."""
    return ("、" if lang == "ja" else ", ").join(i.label(lang) for i in items)


def roles(items: Iterable[str], vocabulary: Vocabulary) -> frozenset[str]:
    """The identity roles (name, address, phone) the items play."""
    return frozenset(role for key in items if (role := vocabulary[key].identifies) is not None)


def identifiability(dataset: DatasetFacts, rules: Rules) -> IdentifiabilityLevel:
    """JNSA 本人特定容易度 of one data set."""
    return rules.jnsa.identifiability_of(roles(dataset.items, rules.vocabulary))


def best_identifiability(datasets: Iterable[DatasetFacts], rules: Rules) -> IdentifiabilityLevel:
    """The highest identifiability over the data sets."""
    levels = [identifiability(d, rules) for d in datasets]
    return max(levels, key=lambda level: level.value)


def _sensitivity(x: int, y: int) -> int:
    """JNSA 機微情報度 = 10^(x-1) + 5^(y-1)."""
    return int(10 ** (x - 1) + 5 ** (y - 1))


def estimate_damage(
    facts: Facts, plain: tuple[DatasetFacts, ...], persons: int, rules: Rules
) -> DamageEstimate:
    """The JNSA estimate over the data sets that are not highly encrypted (``plain``)."""
    jnsa = rules.jnsa
    social = jnsa.social_responsibility[facts.social_responsibility]
    response = jnsa.response[facts.response]
    vocabulary = rules.vocabulary

    def per_person(dataset: DatasetFacts) -> int:
        x = max((vocabulary[k].jnsa_x for k in dataset.items), default=1)
        y = max((vocabulary[k].jnsa_y for k in dataset.items), default=1)
        sensitivity = _sensitivity(x, y)
        return (
            jnsa.base_jpy * sensitivity * identifiability(dataset, rules).value * social * response
        )

    breakdown = tuple(
        sorted(
            (
                DatasetDamage(d.items, d.persons, per_person(d), per_person(d) * d.persons)
                for d in plain
            ),
            key=lambda d: (-d.per_person_jpy, -d.persons, d.items),
        )
    )
    # The coefficients shown are those of the costliest data set per person.
    headline_items = breakdown[0].items if breakdown else ()
    items = [vocabulary[k] for k in vocabulary if k in headline_items]
    x = max((i.jnsa_x for i in items), default=1)
    y = max((i.jnsa_y for i in items), default=1)
    sensitivity = _sensitivity(x, y)
    level = jnsa.identifiability_of(roles(headline_items, vocabulary))
    x_items = [i for i in items if i.jnsa_x == x]
    y_items = [i for i in items if i.jnsa_y == y]
    none_ja, none_en = "（項目なし）", "(no items)"
    coefficients = (
        Coefficient(
            "base",
            jnsa.base_jpy,
            LocalText(
                f"基礎情報価値 {jnsa.base_jpy}円（JNSAモデル）",
                f"base value of one person's data: {jnsa.base_jpy} yen (JNSA model)",
            ),
        ),
        Coefficient(
            "x",
            x,
            LocalText(
                f"x（精神的苦痛）= {x}：{labels(x_items, 'ja') or none_ja}",
                f"x (mental distress) = {x}: {labels(x_items, 'en') or none_en}",
            ),
        ),
        Coefficient(
            "y",
            y,
            LocalText(
                f"y（経済的損失）= {y}：{labels(y_items, 'ja') or none_ja}",
                f"y (economic loss) = {y}: {labels(y_items, 'en') or none_en}",
            ),
        ),
        Coefficient(
            "sensitivity",
            sensitivity,
            LocalText(
                f"機微情報度 = 10^({x}-1) + 5^({y}-1) = {sensitivity}",
                f"sensitivity = 10^({x}-1) + 5^({y}-1) = {sensitivity}",
            ),
        ),
        Coefficient(
            "identifiability",
            level.value,
            LocalText(
                f"本人特定容易度 = {level.value}：{level.label.ja}",
                f"identifiability = {level.value}: {level.label.en}",
            ),
        ),
        Coefficient(
            "social_responsibility",
            social,
            LocalText(
                f"社会的責任度 = {social}："
                + ("平均より高い" if facts.social_responsibility == "high" else "平均的"),
                f"social responsibility = {social}: "
                + ("higher than average" if facts.social_responsibility == "high" else "average"),
            ),
        ),
        Coefficient(
            "response",
            response,
            LocalText(
                f"事後対応評価 = {response}：{_RESPONSE_TEXT[facts.response].ja}",
                f"post-incident response = {response}: {_RESPONSE_TEXT[facts.response].en}",
            ),
        ),
    )
    return DamageEstimate(
        per_person_jpy=breakdown[0].per_person_jpy if breakdown else 0,
        total_jpy=sum(d.subtotal_jpy for d in breakdown),
        persons=persons,
        coefficients=coefficients,
        datasets=breakdown,
    )


_RESPONSE_TEXT: Mapping[str, LocalText] = {
    "appropriate": LocalText("適切", "appropriate"),
    "inappropriate": LocalText("不適切", "inappropriate"),
    "unknown": LocalText("不明", "unknown"),
}
