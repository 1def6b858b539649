"""Signals about reports, so that other packages react without the intake importing them.

Each is sent by the intake's services (``csirt.intake.reporter``) with the report
(``Submission``) as sender and the ``session`` of the change; receivers run inside that
transaction (mail leaves after commit).
Nothing sent here carries tip text, a receipt or anything about the reporter.

``report_received``  a new report was stored (its officers are to be told)
``reporter_replied`` the reporter wrote in the mailbox (the officers handling it, and the lead
                     of its case once it is promoted or attached, are to be told)
``officer_replied``  an officer answered the reporter in the mailbox (a task of its case that
                     waits for that answer closes itself)
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

report_received = _signals.signal("csirt.intake.report-received")
reporter_replied = _signals.signal("csirt.intake.reporter-replied")
officer_replied = _signals.signal("csirt.intake.officer-replied")
