"""WSGI entry points: ``wsgi:app`` (both interfaces), ``wsgi:intake`` and ``wsgi:console``.

Each is built on first use, so a deployment of the intake never builds the console. Once built,
everything loaded so far (code, routes, templates, catalogs: some 230,000 objects that live as
long as the process) is moved out of the garbage collector's way (``gc.freeze``): its full
passes walked them all, 130-190 ms each on these machines, and in a server that forks its
workers after loading the app (deploy/gunicorn.conf.py) they would write to the pages those
objects share.
"""

from __future__ import annotations

import gc
from typing import Any

from csirt import create_app


def __getattr__(name: str) -> Any:
    if name in {"app", "intake", "console"}:
        interface = "all" if name == "app" else name
        application = create_app(interface=interface)  # type: ignore[arg-type]
        globals()[name] = application
        gc.freeze()
        return application
    raise AttributeError(name)
