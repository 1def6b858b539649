"""Exposure: how far leaked data got (pure; one definition for every package)."""

from __future__ import annotations

from enum import StrEnum


class Exposure(StrEnum):
    """How far the data got, least to most severe; the effective one is the most severe given.

    The one definition (the records form, the data-set column, the engine and the documents use
    it); display names come from the catalog (``vocabulary.yaml``, ``exposures``).
    """

    INTERNAL = "internal"
    LOST = "lost"
    PUBLIC_INTERNET = "public_internet"
    SEARCH_CACHE = "search_cache"
    MISUSE_CONFIRMED = "misuse_confirmed"
