"""The facts the triage engine reads, and their parsing from the API payload (issue 5 item 7)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from csirt.dates import OUT_OF_RANGE, DateRangeError, in_range
from csirt.triage.exposure import Exposure
from csirt.triage.vocabulary import Vocabulary

OrgKind = Literal["local_government", "business"]
ORG_KINDS: tuple[OrgKind, ...] = ("local_government", "business")

EXPOSURES: tuple[str, ...] = tuple(e.value for e in Exposure)
"""The exposure values, least to most severe."""

SOCIAL_RESPONSIBILITY: tuple[str, ...] = ("average", "high")
RESPONSE_QUALITY: tuple[str, ...] = ("appropriate", "inappropriate", "unknown")

_JURISDICTION = re.compile(r"[A-Z]{2,3}")


def exposure_rank(exposure: str) -> int:
    """Position of ``exposure`` in :data:`EXPOSURES` (0 = internal)."""
    return EXPOSURES.index(exposure)


@dataclass(frozen=True)
class DatasetFacts:
    """One affected data set: which items, about how many persons."""

    items: tuple[str, ...]
    persons: int
    persons_estimated: bool = False
    encrypted: bool = False
    exposure: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything triage needs to know about a case, with no reference to the case itself."""

    org_kind: OrgKind
    jurisdictions: frozenset[str]
    aware_at: dt.datetime
    datasets: tuple[DatasetFacts, ...]
    exposure: str
    insider: bool
    wrongful_intent: bool
    ongoing: bool
    whistleblower_report: bool
    reported_at: dt.datetime | None
    social_responsibility: Literal["high", "average"] = "average"
    response: Literal["appropriate", "inappropriate", "unknown"] = "unknown"
    # When the report was acknowledged to the reporter (EU Directive Art. 9(1)(b)); None: not
    # (yet) acknowledged, feedback then counts from the end of the 7-day period.
    acknowledged_at: dt.datetime | None = None
    # 条例要配慮個人情報 of this organisation's ordinance; None: the list in legal.yaml.
    ordinance_sensitive_items: frozenset[str] | None = None
    # A contractor notified the organisation of the incident (法26条1項ただし書, 規則9条):
    # the organisation is aware at the latest from that notice.
    contractor_notice_at: dt.datetime | None = None

    @property
    def effective_aware_at(self) -> dt.datetime:
        """When the organisation knew: ``aware_at``, or the contractor's notice if earlier."""
        if self.contractor_notice_at is not None and self.contractor_notice_at < self.aware_at:
            return self.contractor_notice_at
        return self.aware_at

    @property
    def effective_exposure(self) -> str:
        """The most severe exposure over the case and its data sets."""
        ranks = [exposure_rank(self.exposure)]
        ranks += [exposure_rank(d.exposure) for d in self.datasets if d.exposure is not None]
        return EXPOSURES[max(ranks)]


class FactsError(ValueError):
    """The payload has missing or invalid facts; ``errors`` maps each dotted field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())))


_TOP_LEVEL = frozenset(
    {
        "organization",
        "aware_at",
        "datasets",
        "exposure",
        "insider",
        "wrongful_intent",
        "ongoing",
        "whistleblower_report",
        "reported_at",
        "response",
        "acknowledged_at",
        "contractor_notice_at",
    }
)
_ORGANIZATION = frozenset(
    {"kind", "jurisdictions", "social_responsibility", "ordinance_sensitive_items"}
)
_DATASET = frozenset({"items", "persons", "persons_estimated", "encrypted", "exposure"})
_FLAGS = ("insider", "wrongful_intent", "ongoing", "whistleblower_report")


class _Collector:
    """Collects every error instead of stopping at the first one."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def unknown_keys(self, node: Mapping[str, Any], allowed: Collection[str], prefix: str) -> None:
        for key in node:
            if key not in allowed:
                self.add(f"{prefix}{key}", "unknown field")

    def choice(self, value: Any, choices: Collection[str], field: str) -> str | None:
        if isinstance(value, str) and value in choices:
            return value
        self.add(field, f"must be one of {', '.join(choices)}")
        return None

    def flag(self, node: Mapping[str, Any], key: str, field: str, *, default: bool | None) -> bool:
        if key not in node and default is not None:
            return default
        value = node.get(key)
        if key not in node:
            self.add(field, "is required")
        elif not isinstance(value, bool):
            self.add(field, "must be true or false")
        return value is True

    def timestamp(self, value: Any, field: str) -> dt.datetime | None:
        if not isinstance(value, str):
            self.add(field, "must be an ISO 8601 date-time string with a UTC offset")
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            self.add(field, "must be an ISO 8601 date-time string with a UTC offset")
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.add(field, "must include a UTC offset, e.g. +09:00")
            return None
        try:
            return in_range(parsed)
        except DateRangeError:
            self.add(field, OUT_OF_RANGE)
            return None


def parse_facts(
    payload: Mapping[str, Any],
    *,
    default_org_kind: OrgKind,
    default_jurisdictions: Collection[str],
    vocabulary: Vocabulary,
) -> Facts:
    """Validate an API payload into Facts; raise FactsError naming every bad field."""
    vocab = vocabulary
    check = _Collector()
    if not isinstance(payload, Mapping):
        raise FactsError({"body": "must be a JSON object"})
    check.unknown_keys(payload, _TOP_LEVEL, "")

    org_kind, jurisdictions, social, ordinance = _parse_organization(
        check, payload.get("organization"), default_org_kind, default_jurisdictions, vocab
    )

    aware_at = None
    if "aware_at" not in payload:
        check.add("aware_at", "is required")
    else:
        aware_at = check.timestamp(payload["aware_at"], "aware_at")
    reported_at = None
    if payload.get("reported_at") is not None:
        reported_at = check.timestamp(payload["reported_at"], "reported_at")
    optional_times: dict[str, dt.datetime | None] = {}
    for key in ("acknowledged_at", "contractor_notice_at"):
        optional_times[key] = None
        if payload.get(key) is not None:
            optional_times[key] = check.timestamp(payload[key], key)

    exposure = None
    if "exposure" not in payload:
        check.add("exposure", "is required")
    else:
        exposure = check.choice(payload["exposure"], EXPOSURES, "exposure")

    flags = {key: check.flag(payload, key, key, default=None) for key in _FLAGS}

    response = "unknown"
    if "response" in payload:
        response = check.choice(payload["response"], RESPONSE_QUALITY, "response") or "unknown"

    datasets = _parse_datasets(check, payload, vocab)

    if check.errors:
        raise FactsError(check.errors)
    # Every path that leaves these None has added an error above.
    assert aware_at is not None
    assert exposure is not None
    return Facts(
        org_kind=org_kind,
        jurisdictions=jurisdictions,
        aware_at=aware_at,
        datasets=datasets,
        exposure=exposure,
        **flags,
        reported_at=reported_at,
        social_responsibility="high" if social == "high" else "average",
        response=(
            "appropriate"
            if response == "appropriate"
            else "inappropriate"
            if response == "inappropriate"
            else "unknown"
        ),
        acknowledged_at=optional_times["acknowledged_at"],
        ordinance_sensitive_items=ordinance,
        contractor_notice_at=optional_times["contractor_notice_at"],
    )


def _parse_organization(
    check: _Collector,
    node: Any,
    default_org_kind: OrgKind,
    default_jurisdictions: Collection[str],
    vocab: Vocabulary,
) -> tuple[OrgKind, frozenset[str], str, frozenset[str] | None]:
    org_kind: OrgKind = default_org_kind
    jurisdictions = frozenset(default_jurisdictions)
    social = "average"
    ordinance: frozenset[str] | None = None
    if node is None:
        return org_kind, jurisdictions, social, ordinance
    if not isinstance(node, Mapping):
        check.add("organization", "must be an object")
        return org_kind, jurisdictions, social, ordinance
    check.unknown_keys(node, _ORGANIZATION, "organization.")
    if "kind" in node:
        kind = check.choice(node["kind"], ORG_KINDS, "organization.kind")
        org_kind = "business" if kind == "business" else "local_government"
        if kind is None:
            org_kind = default_org_kind
    if "jurisdictions" in node:
        raw = node["jurisdictions"]
        if not isinstance(raw, list) or not raw:
            check.add("organization.jurisdictions", "must be a non-empty list of codes, e.g. JP")
        else:
            codes = set()
            for index, code in enumerate(raw):
                if isinstance(code, str) and _JURISDICTION.fullmatch(code.upper()):
                    codes.add(code.upper())
                else:
                    check.add(
                        f"organization.jurisdictions.{index}",
                        "must be a 2-3 letter code such as JP or EU",
                    )
            jurisdictions = frozenset(codes)
    if "social_responsibility" in node:
        social = (
            check.choice(
                node["social_responsibility"],
                SOCIAL_RESPONSIBILITY,
                "organization.social_responsibility",
            )
            or "average"
        )
    if "ordinance_sensitive_items" in node:
        raw_items = node["ordinance_sensitive_items"]
        field = "organization.ordinance_sensitive_items"
        if not isinstance(raw_items, list):
            check.add(field, "must be a list of item keys")
        else:
            keys: set[str] = set()
            for index, key in enumerate(raw_items):
                if isinstance(key, str) and key in vocab:
                    keys.add(key)
                else:
                    check.add(f"{field}.{index}", f"unknown item {key!r}")
            ordinance = frozenset(keys)
    return org_kind, jurisdictions, social, ordinance


def _parse_datasets(
    check: _Collector, payload: Mapping[str, Any], vocab: Vocabulary
) -> tuple[DatasetFacts, ...]:
    if "datasets" not in payload:
        check.add("datasets", "is required")
        return ()
    raw = payload["datasets"]
    if not isinstance(raw, list):
        check.add("datasets", "must be a list")
        return ()
    datasets: list[DatasetFacts] = []
    for index, node in enumerate(raw):
        prefix = f"datasets.{index}"
        if not isinstance(node, Mapping):
            check.add(prefix, "must be an object")
            continue
        check.unknown_keys(node, _DATASET, f"{prefix}.")
        items: list[str] = []
        if "items" not in node:
            check.add(f"{prefix}.items", "is required")
        elif not isinstance(node["items"], list):
            check.add(f"{prefix}.items", "must be a list of item keys")
        else:
            for item_index, key in enumerate(node["items"]):
                if isinstance(key, str) and key in vocab:
                    if key not in items:
                        items.append(key)
                else:
                    check.add(f"{prefix}.items.{item_index}", f"unknown item {key!r}")
        persons = node.get("persons")
        if "persons" not in node:
            check.add(f"{prefix}.persons", "is required")
        elif isinstance(persons, bool) or not isinstance(persons, int) or persons < 0:
            check.add(f"{prefix}.persons", "must be a non-negative integer")
        exposure = None
        if node.get("exposure") is not None:
            exposure = check.choice(node["exposure"], EXPOSURES, f"{prefix}.exposure")
        datasets.append(
            DatasetFacts(
                items=tuple(items),
                persons=persons if isinstance(persons, int) else 0,
                persons_estimated=check.flag(
                    node, "persons_estimated", f"{prefix}.persons_estimated", default=False
                ),
                encrypted=check.flag(node, "encrypted", f"{prefix}.encrypted", default=False),
                exposure=exposure,
            )
        )
    return tuple(datasets)
