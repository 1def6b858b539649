"""Signals about documents, so that notifications react without the documents importing them.

``approval_requested`` is sent (with the session, the ``approver`` and the ``actor``) when an
author asks a named lead to approve a document; ``approved`` (with the session and the
``actor``) when a lead approves its newest version; ``approval_refused`` (with the session, the
``actor`` and the lead's ``reason``) when a lead sends it back. ``csirt/wiring.py`` connects the
receivers.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

approval_requested = _signals.signal("csirt.document.approval-requested")
approved = _signals.signal("csirt.document.approved")
approval_refused = _signals.signal("csirt.document.approval-refused")
