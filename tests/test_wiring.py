"""The reactions between packages are connected by csirt/wiring.py, for every interface, and by
nothing else: importing the packages connects nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import event

from config import Config
from csirt import create_app, wiring
from csirt.cases import closing
from csirt.db import AppSession


@pytest.mark.parametrize("interface", ["intake", "console", "all"])
def test_each_interface_connects_every_reaction(config: Config, interface: str) -> None:
    app = create_app(config, interface=interface)  # type: ignore[arg-type]
    assert app.extensions["csirt.wiring"] == wiring.REACTIONS
    for reaction in wiring.REACTIONS:
        receivers = list(reaction.signal.receivers_for(object()))
        assert reaction.receiver in receivers, reaction.why
    for hook in wiring.SESSION_HOOKS:
        assert event.contains(AppSession, hook.name, hook.receiver), hook.why
    for check in wiring.CLOSING_CHECKS:
        assert check in closing.closing_checks()
    assert "csirt.mailer" in app.extensions  # the intake, too, tells officers of a new tip


def test_importing_the_packages_connects_nothing() -> None:
    """No import-time listener: a process that imports every package but builds no app has no
    reaction connected and no listener on the session classes."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil
        from sqlalchemy import event
        from sqlalchemy.orm import Session
        import csirt
        from csirt import wiring
        from csirt.cases import closing, signals
        from csirt.db import AppSession
        for info in pkgutil.walk_packages(csirt.__path__, "csirt."):
            importlib.import_module(info.name)
        receivers = sum(len(s.receivers) for s in
                        (signals.facts_changed, signals.priority_raised, signals.phase_changed))
        hooks = sum(event.contains(cls, hook.name, hook.receiver)
                    for hook in wiring.SESSION_HOOKS for cls in (Session, AppSession))
        print(receivers, hooks, len(closing.closing_checks()), len(closing._resolvers))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.split()
    # no receivers, no session hooks, only the built-in "required tasks" check, no resolvers
    assert out == ["0", "0", "1", "0"]
