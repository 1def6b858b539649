"""Response teams: members and skills, on-call rotations, escalation and assignment suggestions.

Pure parts (no Flask, no session): :mod:`csirt.teams.conflicts`, :mod:`csirt.teams.rotation`,
:mod:`csirt.teams.suggest` and :mod:`csirt.teams.ical`. The logic on the database, by aggregate:
:mod:`~csirt.teams.base` (errors, clock), :mod:`~csirt.teams.people` (teams, members, profiles),
:mod:`~csirt.teams.leave`, :mod:`~csirt.teams.oncall` (rotations, overrides, calendar),
:mod:`~csirt.teams.feed_tokens`, :mod:`~csirt.teams.candidates` (suggestions for a case),
:mod:`~csirt.teams.assignment` (assigning, acknowledging), :mod:`~csirt.teams.paging` (paging
and escalation) and :mod:`~csirt.teams.my_work`. ``views`` and ``api`` are the console pages and
the JSON API.
"""
