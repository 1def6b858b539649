"""Triage rules read from ``playbooks/`` (vocabulary.yaml, triage.yaml, legal.yaml), validated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from csirt.lang import LocalText
from csirt.triage.facts import (
    EXPOSURES,
    ORG_KINDS,
    RESPONSE_QUALITY,
    SOCIAL_RESPONSIBILITY,
)
from csirt.triage.kinds import ObligationKind
from csirt.triage.vocabulary import IDENTITY_ROLES, Vocabulary, parse_vocabulary
from csirt.yamlfile import LineDict, Reader, join, load_yaml

CONDITIONS: frozenset[str] = frozenset(
    {
        "always",
        "appi_reportable",
        "whistleblower_report",
        "personal_data",
        "gdpr_high_risk",
        "wrongful_intent",
        "mynumber_reportable",
    }
)
"""Conditions an obligation rule may name in ``when`` (evaluated by the engine)."""

DueUnit = Literal["days", "months", "hours"]
Origin = Literal["aware_at", "reported_at", "acknowledged_at", "obligation"]
Roll = Literal["none", "forward", "back"]
DEADLINE_KINDS: frozenset[str] = frozenset({"legal", "guidance", "internal", "window"})
"""What an obligation's ``due_at`` is: the legal deadline, a date from official guidance where the
law says "promptly", an internal target where the law sets no date, or the end of a period of
protection (which does not keep a case open)."""
ENCRYPTION_POLICIES: tuple[str, ...] = ("exempt", "report_if_wrongful_intent")
OBLIGATION_KINDS: frozenset[str] = frozenset(kind.value for kind in ObligationKind)


@dataclass(frozen=True)
class Basis:
    """The legal basis of a rule: the article and what it requires."""

    article: str
    requirement: LocalText


@dataclass(frozen=True)
class PersonsScoring:
    points_per_tenfold: float
    max_points: int
    encrypted_weight: float


@dataclass(frozen=True)
class Scoring:
    max_score: int
    persons: PersonsScoring
    sensitive_items: int
    financial_items: int
    per_x_level: int
    per_y_level: int
    identifiability: Mapping[str, int]
    exposure: Mapping[str, int]
    insider: int
    wrongful_intent: int
    ongoing: int
    reportable: int


@dataclass(frozen=True)
class PriorityRule:
    """A priority level as triage.yaml defines it: minimum score, label and response targets
    (its ``id`` is a value of the case's ``Priority`` enum, ``csirt.cases.models``)."""

    id: str
    min_score: int
    label: LocalText
    acknowledge_within_hours: int
    contain_within_hours: int


@dataclass(frozen=True)
class IdentifiabilityLevel:
    id: str
    value: int
    any_of: tuple[frozenset[str], ...]
    label: LocalText

    def matches(self, roles: frozenset[str]) -> bool:
        """True when ``roles`` cover one of the combinations (the default level has none)."""
        return not self.any_of or any(combo <= roles for combo in self.any_of)


@dataclass(frozen=True)
class Jnsa:
    base_jpy: int
    identifiability: tuple[IdentifiabilityLevel, ...]
    social_responsibility: Mapping[str, int]
    response: Mapping[str, int]

    def identifiability_of(self, roles: frozenset[str]) -> IdentifiabilityLevel:
        """The first level whose combinations ``roles`` cover."""
        return next(level for level in self.identifiability if level.matches(roles))


@dataclass(frozen=True)
class DueSpec:
    """How to compute a due date: from which instant, how long."""

    origin: Origin
    # The earlier obligation counted from (origin "obligation"), or the one to count from when
    # the acknowledgement is unknown (origin "acknowledged_at").
    reference: str | None
    unit: DueUnit
    amount: int
    count_first_day: bool = False
    roll: Roll = "none"
    # How months are counted: the Civil Code (民法143条) or EU Regulation 1182/71 Art. 3.
    reckoning: Literal["jp", "eu"] = "jp"


@dataclass(frozen=True)
class Variant:
    when: str
    due: DueSpec | None  # None: the rule's own due date, only the basis differs
    basis: Mapping[str, Basis] | None


@dataclass(frozen=True)
class ObligationRule:
    kind: ObligationKind
    label: LocalText
    regime: str
    # Applies when any of these conditions holds.
    when: tuple[str, ...]
    due: DueSpec
    variants: tuple[Variant, ...]
    basis: Mapping[str, Basis]
    checked: dt.date
    deadline: str = "legal"
    # The organisation's earlier internal target, if it wants one.
    target: DueSpec | None = None
    source: str = ""


@dataclass(frozen=True)
class Regime:
    id: str
    jurisdiction: str
    label: LocalText


@dataclass(frozen=True)
class AppiReportable:
    internal_exposure_counts: bool
    persons_more_than: Mapping[str, int]
    basis: Mapping[str, Basis]
    checked: dt.date
    # 条例要配慮個人情報 (規則43条5号): vocabulary keys the local ordinance makes sensitive.
    ordinance_sensitive_items: frozenset[str] = frozenset()
    # "exempt": highly encrypted data is exempt for every type (規則7条, 43条);
    # "report_if_wrongful_intent": this organisation reports anyway when wrongful intent is
    # suspected (its own policy: the key may be compromised).
    encryption: str = "exempt"
    source: str = ""


@dataclass(frozen=True)
class MyNumberReportable:
    """When a leak of specific personal information (My Number) is reportable (番号法29条の4)."""

    item: str
    persons_more_than: int
    exposures: frozenset[str]
    wrongful_intent: bool
    checked: dt.date
    source: str


@dataclass(frozen=True)
class GdprHighRisk:
    priorities: frozenset[str]
    sensitive_items: bool
    checked: dt.date


@dataclass(frozen=True)
class Rules:
    """Everything the engine needs from ``playbooks/``; immutable, safe to cache and share."""

    vocabulary: Vocabulary
    scoring: Scoring
    priorities: tuple[PriorityRule, ...]
    jnsa: Jnsa
    regimes: Mapping[str, Regime]
    appi_reportable: AppiReportable
    gdpr_high_risk: GdprHighRisk
    obligations: tuple[ObligationRule, ...]
    triage_checked: dt.date
    mynumber_reportable: MyNumberReportable | None = None

    def priority_for(self, score: int) -> PriorityRule:
        """The highest priority whose minimum score ``score`` reaches."""
        return next(p for p in self.priorities if score >= p.min_score)


def load_rules(folder: Path | str) -> Rules:
    """Load and validate ``vocabulary.yaml``, ``triage.yaml`` and ``legal.yaml`` in ``folder``.

    Not cached: the app's :class:`csirt.catalog.Catalog` is the one cached copy.
    """
    folder = Path(folder)
    vocabulary = parse_vocabulary(load_yaml(folder / "vocabulary.yaml"), folder / "vocabulary.yaml")
    triage_path = folder / "triage.yaml"
    scoring, priorities, jnsa, checked = _parse_triage(load_yaml(triage_path), triage_path)
    legal_path = folder / "legal.yaml"
    regimes, appi, gdpr, mynumber, obligations = _parse_legal(
        load_yaml(legal_path), legal_path, {p.id for p in priorities}, vocabulary
    )
    return Rules(
        vocabulary=vocabulary,
        scoring=scoring,
        priorities=priorities,
        jnsa=jnsa,
        regimes=regimes,
        appi_reportable=appi,
        gdpr_high_risk=gdpr,
        obligations=obligations,
        triage_checked=checked,
        mynumber_reportable=mynumber,
    )


# --- triage.yaml -----------------------------------------------------------------------------


def _parse_triage(
    data: object, path: Path
) -> tuple[Scoring, tuple[PriorityRule, ...], Jnsa, dt.date]:
    reader = Reader(path)
    root = reader.root(data)
    reader.check_keys(root, "", required=("checked", "scoring", "priorities", "jnsa"))
    checked = reader.date(root, "checked", "")
    jnsa = _parse_jnsa(reader, reader.mapping(root, "jnsa", ""))
    scoring = _parse_scoring(reader, reader.mapping(root, "scoring", ""), jnsa)
    priorities = _parse_priorities(reader, root)
    return scoring, priorities, jnsa, checked


def _parse_scoring(reader: Reader, node: LineDict, jnsa: Jnsa) -> Scoring:
    field = "scoring"
    points = (
        "sensitive_items",
        "financial_items",
        "insider",
        "wrongful_intent",
        "ongoing",
        "reportable",
    )
    reader.check_keys(
        node,
        field,
        required=(
            "max_score",
            "persons",
            "jnsa_sensitivity",
            "identifiability",
            "exposure",
            *points,
        ),
    )
    persons_node = reader.mapping(node, "persons", field)
    persons_field = join(field, "persons")
    reader.check_keys(
        persons_node,
        persons_field,
        required=("points_per_tenfold", "max_points", "encrypted_weight"),
    )
    encrypted_weight = reader.number(persons_node, "encrypted_weight", persons_field)
    if encrypted_weight > 1:
        raise reader.error(
            persons_node,
            "encrypted_weight",
            join(persons_field, "encrypted_weight"),
            "must be between 0 and 1",
        )
    persons = PersonsScoring(
        points_per_tenfold=reader.number(persons_node, "points_per_tenfold", persons_field),
        max_points=reader.integer(persons_node, "max_points", persons_field),
        encrypted_weight=encrypted_weight,
    )
    sensitivity = reader.mapping(node, "jnsa_sensitivity", field)
    sensitivity_field = join(field, "jnsa_sensitivity")
    reader.check_keys(sensitivity, sensitivity_field, required=("per_x_level", "per_y_level"))

    identifiability = _ordered_points(
        reader,
        reader.mapping(node, "identifiability", field),
        join(field, "identifiability"),
        [level.id for level in jnsa.identifiability],
        increasing=False,
    )
    exposure = _ordered_points(
        reader,
        reader.mapping(node, "exposure", field),
        join(field, "exposure"),
        list(EXPOSURES),
        increasing=True,
    )
    flat = {key: reader.integer(node, key, field) for key in points}
    return Scoring(
        max_score=reader.integer(node, "max_score", field, minimum=1),
        persons=persons,
        per_x_level=reader.integer(sensitivity, "per_x_level", sensitivity_field),
        per_y_level=reader.integer(sensitivity, "per_y_level", sensitivity_field),
        identifiability=identifiability,
        exposure=exposure,
        **flat,
    )


def _ordered_points(
    reader: Reader, node: LineDict, field: str, keys: list[str], *, increasing: bool
) -> dict[str, int]:
    """Points per key, monotone in ``keys``' order (so that the score stays monotone)."""
    reader.check_keys(node, field, required=keys)
    result: dict[str, int] = {}
    previous: tuple[str, int] | None = None
    for key in keys:
        value = reader.integer(node, key, field)
        if previous is not None:
            wrong = value < previous[1] if increasing else value > previous[1]
            if wrong:
                relation = "at least" if increasing else "at most"
                raise reader.error(
                    node, key, join(field, key), f"must be {relation} {previous[0]}'s points"
                )
        result[key] = value
        previous = (key, value)
    return result


def _parse_priorities(reader: Reader, root: LineDict) -> tuple[PriorityRule, ...]:
    seq = reader.sequence(root, "priorities", "")
    if not seq:
        raise reader.error(root, "priorities", "priorities", "must list at least one priority")
    result: list[PriorityRule] = []
    for field, node in reader.mappings(seq, "priorities"):
        reader.check_keys(
            node,
            field,
            required=(
                "id",
                "min_score",
                "label",
                "acknowledge_within_hours",
                "contain_within_hours",
            ),
        )
        priority = PriorityRule(
            id=reader.string(node, "id", field),
            min_score=reader.integer(node, "min_score", field),
            label=reader.text(node, "label", field),
            acknowledge_within_hours=reader.integer(
                node, "acknowledge_within_hours", field, minimum=1
            ),
            contain_within_hours=reader.integer(node, "contain_within_hours", field, minimum=1),
        )
        if any(p.id == priority.id for p in result):
            raise reader.error(node, "id", join(field, "id"), f"duplicate priority {priority.id}")
        if result and priority.min_score >= result[-1].min_score:
            raise reader.error(
                node, "min_score", join(field, "min_score"), "must be lower than the one above"
            )
        result.append(priority)
    if result[-1].min_score != 0:
        last = len(result) - 1
        raise reader.error(
            seq[last], "min_score", f"priorities[{last}].min_score", "the last must be 0"
        )
    return tuple(result)


def _parse_jnsa(reader: Reader, node: LineDict) -> Jnsa:
    field = "jnsa"
    reader.check_keys(
        node,
        field,
        required=("base_jpy", "identifiability", "social_responsibility", "response"),
    )
    seq = reader.sequence(node, "identifiability", field)
    levels: list[IdentifiabilityLevel] = []
    for index, (level_field, level_node) in enumerate(reader.mappings(seq, "jnsa.identifiability")):
        reader.check_keys(level_node, level_field, required=("id", "value", "any_of", "label"))
        combos_node = reader.sequence(level_node, "any_of", level_field)
        combos: list[frozenset[str]] = []
        for combo_index, combo in enumerate(combos_node):
            combo_field = join(join(level_field, "any_of"), combo_index)
            if (
                not isinstance(combo, list)
                or not combo
                or not all(isinstance(r, str) and r in IDENTITY_ROLES for r in combo)
            ):
                raise reader.error(
                    combos_node,
                    combo_index,
                    combo_field,
                    f"must be a non-empty list of roles ({', '.join(sorted(IDENTITY_ROLES))})",
                )
            combos.append(frozenset(combo))
        level = IdentifiabilityLevel(
            id=reader.string(level_node, "id", level_field),
            value=reader.integer(level_node, "value", level_field, minimum=1),
            any_of=tuple(combos),
            label=reader.text(level_node, "label", level_field),
        )
        if levels and level.value >= levels[-1].value:
            raise reader.error(
                level_node, "value", join(level_field, "value"), "must be lower than the one above"
            )
        if levels and not levels[-1].any_of:
            raise reader.error(
                seq, index, level_field, "comes after the default level (empty any_of)"
            )
        levels.append(level)
    if not levels or levels[-1].any_of:
        raise reader.error(
            node,
            "identifiability",
            "jnsa.identifiability",
            "must end with a level whose any_of is []",
        )
    return Jnsa(
        base_jpy=reader.integer(node, "base_jpy", field, minimum=1),
        identifiability=tuple(levels),
        social_responsibility=_multipliers(
            reader, node, "social_responsibility", SOCIAL_RESPONSIBILITY
        ),
        response=_multipliers(reader, node, "response", RESPONSE_QUALITY),
    )


def _multipliers(
    reader: Reader, parent: LineDict, key: str, keys: tuple[str, ...]
) -> dict[str, int]:
    node = reader.mapping(parent, key, "jnsa")
    field = join("jnsa", key)
    reader.check_keys(node, field, required=keys)
    return {k: reader.integer(node, k, field, minimum=1) for k in keys}


# --- legal.yaml ------------------------------------------------------------------------------


def _parse_legal(
    data: object, path: Path, priority_ids: set[str], vocabulary: Vocabulary
) -> tuple[
    dict[str, Regime],
    AppiReportable,
    GdprHighRisk,
    MyNumberReportable | None,
    tuple[ObligationRule, ...],
]:
    reader = Reader(path)
    root = reader.root(data)
    reader.check_keys(
        root,
        "",
        required=("regimes", "appi_reportable", "gdpr_high_risk", "obligations"),
        optional=("mynumber_reportable",),
    )
    regimes_node = reader.mapping(root, "regimes", "")
    regimes: dict[str, Regime] = {}
    for regime_id in regimes_node:
        field = join("regimes", regime_id)
        node = reader.mapping(regimes_node, regime_id, "regimes")
        reader.check_keys(node, field, required=("jurisdiction", "label"))
        jurisdiction = reader.string(node, "jurisdiction", field)
        if jurisdiction != jurisdiction.upper():
            raise reader.error(
                node, "jurisdiction", join(field, "jurisdiction"), "must be upper case, e.g. JP"
            )
        regimes[regime_id] = Regime(
            id=regime_id,
            jurisdiction=jurisdiction,
            label=reader.text(node, "label", field),
        )
    if "appi" not in regimes:
        raise reader.error(root, "regimes", "regimes.appi", "is required")

    appi_node = reader.mapping(root, "appi_reportable", "")
    appi_field = "appi_reportable"
    reader.check_keys(
        appi_node,
        appi_field,
        required=("internal_exposure_counts", "persons_more_than", "basis", "checked"),
        optional=("ordinance_sensitive_items", "encryption", "source"),
    )
    thresholds_node = reader.mapping(appi_node, "persons_more_than", appi_field)
    thresholds_field = join(appi_field, "persons_more_than")
    reader.check_keys(thresholds_node, thresholds_field, required=ORG_KINDS)
    ordinance: frozenset[str] = frozenset()
    if "ordinance_sensitive_items" in appi_node:
        ordinance = _item_keys(
            reader, appi_node, "ordinance_sensitive_items", appi_field, vocabulary
        )
    encryption = "exempt"
    if "encryption" in appi_node:
        encryption = reader.string(appi_node, "encryption", appi_field, choices=ENCRYPTION_POLICIES)
    appi = AppiReportable(
        internal_exposure_counts=reader.boolean(appi_node, "internal_exposure_counts", appi_field),
        persons_more_than={
            k: reader.integer(thresholds_node, k, thresholds_field) for k in ORG_KINDS
        },
        basis=_basis(reader, appi_node, appi_field),
        checked=reader.date(appi_node, "checked", appi_field),
        ordinance_sensitive_items=ordinance,
        encryption=encryption,
        source=_source(reader, appi_node, appi_field),
    )

    gdpr_node = reader.mapping(root, "gdpr_high_risk", "")
    gdpr_field = "gdpr_high_risk"
    reader.check_keys(
        gdpr_node,
        gdpr_field,
        required=("priorities", "sensitive_items", "checked"),
        optional=("source",),
    )
    unknown = "unknown priority {item!r} (see triage.yaml)"
    gdpr_priorities = reader.members(gdpr_node, "priorities", gdpr_field, priority_ids, unknown)
    gdpr = GdprHighRisk(
        priorities=frozenset(gdpr_priorities),
        sensitive_items=reader.boolean(gdpr_node, "sensitive_items", gdpr_field),
        checked=reader.date(gdpr_node, "checked", gdpr_field),
    )

    mynumber = None
    if "mynumber_reportable" in root:
        mynumber = _mynumber(reader, reader.mapping(root, "mynumber_reportable", ""), vocabulary)

    seq = reader.sequence(root, "obligations", "")
    obligations: list[ObligationRule] = []
    for field, node in reader.mappings(seq, "obligations"):
        reader.check_keys(
            node,
            field,
            required=("kind", "label", "regime", "when", "due", "basis", "checked"),
            optional=("variants", "deadline", "target", "source"),
        )
        kind = ObligationKind(reader.string(node, "kind", field, choices=OBLIGATION_KINDS))
        if any(o.kind == kind for o in obligations):
            raise reader.error(node, "kind", join(field, "kind"), f"duplicate kind '{kind}'")
        regime = reader.string(node, "regime", field, choices=regimes)
        reckoning: Literal["jp", "eu"] = "eu" if regimes[regime].jurisdiction == "EU" else "jp"
        earlier: set[str] = {o.kind.value for o in obligations}
        variants: list[Variant] = []
        if "variants" in node:
            variants_node = reader.sequence(node, "variants", field)
            for v_field, v_node in reader.mappings(variants_node, join(field, "variants")):
                reader.check_keys(v_node, v_field, required=("when",), optional=("due", "basis"))
                if "due" not in v_node and "basis" not in v_node:
                    raise reader.error(v_node, None, v_field, "needs a due or a basis")
                variants.append(
                    Variant(
                        when=reader.string(v_node, "when", v_field, choices=CONDITIONS),
                        due=(
                            _due(reader, v_node, v_field, earlier, reckoning)
                            if "due" in v_node
                            else None
                        ),
                        basis=_basis(reader, v_node, v_field) if "basis" in v_node else None,
                    )
                )
        deadline = "legal"
        if "deadline" in node:
            deadline = reader.string(node, "deadline", field, choices=DEADLINE_KINDS)
        target = None
        if "target" in node:
            target = _due(reader, node, field, earlier, reckoning, key="target")
        obligations.append(
            ObligationRule(
                kind=kind,
                label=reader.text(node, "label", field),
                regime=regime,
                when=_conditions(reader, node, field),
                due=_due(reader, node, field, earlier, reckoning),
                variants=tuple(variants),
                basis=_basis(reader, node, field),
                checked=reader.date(node, "checked", field),
                deadline=deadline,
                target=target,
                source=_source(reader, node, field),
            )
        )
    return regimes, appi, gdpr, mynumber, tuple(obligations)


def _source(reader: Reader, node: LineDict, field: str) -> str:
    return reader.string(node, "source", field) if "source" in node else ""


def _item_keys(
    reader: Reader, node: LineDict, key: str, field: str, vocabulary: Vocabulary
) -> frozenset[str]:
    return frozenset(
        reader.members(node, key, field, vocabulary, "unknown vocabulary item {item!r}")
    )


def _conditions(reader: Reader, node: LineDict, field: str) -> tuple[str, ...]:
    """``when``: one condition or a list of them (any one applies)."""
    raw = node.get("when")
    if isinstance(raw, list):
        if not raw:
            raise reader.error(node, "when", join(field, "when"), "must not be empty")
        one_of = f"must be one of {', '.join(sorted(CONDITIONS))}"
        return tuple(reader.members(node, "when", field, CONDITIONS, one_of))
    return (reader.string(node, "when", field, choices=CONDITIONS),)


def _mynumber(reader: Reader, node: LineDict, vocabulary: Vocabulary) -> MyNumberReportable:
    field = "mynumber_reportable"
    reader.check_keys(
        node,
        field,
        required=("item", "persons_more_than", "exposures", "wrongful_intent", "checked"),
        optional=("source",),
    )
    item = reader.string(node, "item", field)
    if item not in vocabulary:
        raise reader.error(node, "item", join(field, "item"), f"unknown vocabulary item {item!r}")
    one_of = f"must be one of {', '.join(EXPOSURES)}"
    exposures = reader.members(node, "exposures", field, EXPOSURES, one_of)
    return MyNumberReportable(
        item=item,
        persons_more_than=reader.integer(node, "persons_more_than", field),
        exposures=frozenset(str(e) for e in exposures),
        wrongful_intent=reader.boolean(node, "wrongful_intent", field),
        checked=reader.date(node, "checked", field),
        source=_source(reader, node, field),
    )


def _basis(reader: Reader, parent: LineDict, field: str) -> dict[str, Basis]:
    """A basis common to all organisation kinds, or one per kind."""
    node = reader.mapping(parent, "basis", field)
    basis_field = join(field, "basis")
    if "article" in node:
        common = _one_basis(reader, node, basis_field)
        return dict.fromkeys(ORG_KINDS, common)
    reader.check_keys(node, basis_field, required=ORG_KINDS)
    return {
        kind: _one_basis(reader, reader.mapping(node, kind, basis_field), join(basis_field, kind))
        for kind in ORG_KINDS
    }


def _one_basis(reader: Reader, node: LineDict, field: str) -> Basis:
    reader.check_keys(node, field, required=("article", "ja", "en"))
    return Basis(
        article=reader.string(node, "article", field),
        requirement=LocalText(reader.string(node, "ja", field), reader.string(node, "en", field)),
    )


_ORIGINS = "aware_at, reported_at, acknowledged_at or obligation:<kind of an earlier obligation>"


def _due(
    reader: Reader,
    parent: LineDict,
    field: str,
    earlier: set[str],
    reckoning: Literal["jp", "eu"] = "jp",
    *,
    key: str = "due",
) -> DueSpec:
    node = reader.mapping(parent, key, field)
    due_field = join(field, key)
    reader.check_keys(
        node,
        due_field,
        required=("from",),
        optional=("days", "months", "hours", "count_first_day", "roll", "else"),
    )
    origin_text = reader.string(node, "from", due_field)
    origin: Origin
    reference = None
    if origin_text == "aware_at":
        origin = "aware_at"
    elif origin_text == "reported_at":
        origin = "reported_at"
    elif origin_text == "acknowledged_at":
        origin = "acknowledged_at"
        fallback = reader.string(node, "else", due_field) if "else" in node else ""
        if not (fallback.startswith("obligation:") and fallback[11:] in earlier):
            raise reader.error(
                node,
                "else" if "else" in node else None,
                join(due_field, "else"),
                "acknowledged_at needs else: obligation:<kind of an earlier obligation> "
                "(the date to count from when no acknowledgement was sent)",
            )
        reference = fallback[11:]
    elif origin_text.startswith("obligation:") and origin_text[11:] in earlier:
        origin, reference = "obligation", origin_text[11:]
    else:
        raise reader.error(node, "from", join(due_field, "from"), f"must be {_ORIGINS}")
    if "else" in node and origin != "acknowledged_at":
        raise reader.error(node, "else", join(due_field, "else"), "only applies to acknowledged_at")
    units = [unit for unit in ("days", "months", "hours") if unit in node]
    if len(units) != 1:
        raise reader.error(node, None, due_field, "needs exactly one of days, months, hours")
    unit: DueUnit = "days" if units[0] == "days" else "months" if units[0] == "months" else "hours"
    count_first_day = False
    if "count_first_day" in node:
        count_first_day = reader.boolean(node, "count_first_day", due_field)
        if unit != "days":
            raise reader.error(
                node,
                "count_first_day",
                join(due_field, "count_first_day"),
                "only applies to days",
            )
    roll: Roll = "none"
    if "roll" in node:
        roll_text = reader.string(node, "roll", due_field, choices=("none", "forward", "back"))
        roll = "forward" if roll_text == "forward" else "back" if roll_text == "back" else "none"
        if unit == "hours" and roll != "none":
            raise reader.error(
                node, "roll", join(due_field, "roll"), "only applies to days and months"
            )
    return DueSpec(
        origin=origin,
        reference=reference,
        unit=unit,
        amount=reader.integer(node, unit, due_field, minimum=1),
        count_first_day=count_first_day,
        roll=roll,
        reckoning=reckoning,
    )
