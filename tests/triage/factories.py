"""Builders of triage facts for the tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from csirt.triage import DatasetFacts, Facts

TOKYO = dt.timezone(dt.timedelta(hours=9))
AWARE = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TOKYO)


def dataset(*items: str, persons: int = 1, **kwargs: Any) -> DatasetFacts:
    """A data set with ``items`` about ``persons`` persons."""
    return DatasetFacts(items=tuple(items), persons=persons, **kwargs)


def make_facts(*datasets: DatasetFacts, **overrides: Any) -> Facts:
    """Facts of a quiet local-government case in Japan; override any field."""
    values: dict[str, Any] = {
        "org_kind": "local_government",
        "jurisdictions": frozenset({"JP"}),
        "aware_at": AWARE,
        "datasets": tuple(datasets),
        "exposure": "lost",
        "insider": False,
        "wrongful_intent": False,
        "ongoing": False,
        "whistleblower_report": False,
        "reported_at": None,
    }
    values.update(overrides)
    return Facts(**values)


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid API payload (issue 5 item 7); override top-level keys."""
    body: dict[str, Any] = {
        "organization": {"kind": "local_government", "jurisdictions": ["JP"]},
        "aware_at": "2026-11-20T10:00:00+09:00",
        "datasets": [
            {
                "items": ["name", "address"],
                "persons": 680000,
                "persons_estimated": False,
                "encrypted": False,
            }
        ],
        "exposure": "internal",
        "insider": True,
        "wrongful_intent": True,
        "ongoing": False,
        "whistleblower_report": False,
        "reported_at": None,
    }
    body.update(overrides)
    return body
