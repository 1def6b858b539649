"""The incident playbooks of the current app: the catalog's (``csirt.catalog.current``)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from csirt.catalog import Playbook
from csirt.catalog.current import current_catalog


def load(app: Flask) -> Mapping[str, Playbook]:
    """The playbooks of ``app`` (loaded with its catalog in ``create_app``)."""
    return current_catalog(app).playbooks


def playbooks() -> Mapping[str, Playbook]:
    """The current app's playbooks by id."""
    return current_catalog().playbooks
