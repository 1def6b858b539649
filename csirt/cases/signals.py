"""Signals about cases, so that packages react to each other without importing each other.

``facts_changed`` is sent (with the session, the case, a short reason and the acting user) after
anything that triage reads has changed: data sets, exposure, the insider / wrongful-intent /
ongoing flags, ``aware_at``. The triage package connects a receiver that re-runs the triage.
``priority_raised`` is sent when a case becomes P1 or P2 (teams notify the on-call lead).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

facts_changed = _signals.signal("csirt.case.facts-changed")
priority_raised = _signals.signal("csirt.case.priority-raised")
phase_changed = _signals.signal("csirt.case.phase-changed")
# Sent with the session, the case, the task and ``user_ids`` newly assigned, and the actor.
task_assigned = _signals.signal("csirt.case.task-assigned")
# Sent with the session, the case, the comment or note's ``text``, a console ``path`` and the
# author: ``@username`` in it tells that person (csirt.notify.case_events decides who may hear).
mentioned = _signals.signal("csirt.case.mentioned")
# Sent with the session, the new member (``user``), the ``role`` and the actor when a person joins
# a case (csirt.teams.assignment): a task waiting for the team closes itself once it is formed.
member_added = _signals.signal("csirt.case.member-added")
# Sent with the session and the actor when a case is opened (csirt.cases.creation), and with the
# session, ``old``, ``new`` and the actor when its priority changes (any direction): outgoing
# webhooks (csirt.webhooks) tell other systems.
case_created = _signals.signal("csirt.case.created")
priority_changed = _signals.signal("csirt.case.priority-changed")
