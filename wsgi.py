"""WSGI entry points: ``wsgi:app`` (both interfaces), ``wsgi:intake`` and ``wsgi:console``.

Each is built on first use, so a deployment of the intake never builds the console.
"""

from __future__ import annotations

from typing import Any

from csirt import create_app


def __getattr__(name: str) -> Any:
    if name in {"app", "intake", "console"}:
        interface = "all" if name == "app" else name
        application = create_app(interface=interface)  # type: ignore[arg-type]
        globals()[name] = application
        return application
    raise AttributeError(name)
