"""Signals about alerts: ``raised`` (with the session) when a new alert arrives, not on a repeat.

``csirt/wiring.py`` connects the notification to the leads.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

raised = _signals.signal("csirt.alert.raised")
