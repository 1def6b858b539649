"""The incident playbooks, loaded once per app from ``<playbooks_path>/incidents``."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from csirt.catalog import Playbook, load_playbooks

EXTENSION = "csirt.playbooks"
# Playbooks are immutable values: one copy per process per set of files, shared by every app.
_LOADED: dict[tuple[object, ...], dict[str, Playbook]] = {}


def _fingerprint(folder: Path) -> tuple[object, ...]:
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    return (str(folder), *((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files))


def load(app: Flask) -> dict[str, Playbook]:
    """Load (and cache on the app) every playbook; PlaybookError stops the app."""
    loaded = app.extensions.get(EXTENSION)
    if loaded is None:
        folder = app.config["CSIRT"].playbooks_path / "incidents"
        key = _fingerprint(folder)
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = _LOADED[key] = load_playbooks(folder)
        app.extensions[EXTENSION] = loaded
    return loaded


def playbooks() -> dict[str, Playbook]:
    """The current app's playbooks by id."""
    return load(current_app._get_current_object())  # type: ignore[attr-defined]
