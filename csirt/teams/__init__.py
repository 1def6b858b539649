"""Response teams: members and skills, on-call rotations, escalation and assignment suggestions.

Pure parts (no Flask, no session): :mod:`csirt.teams.conflicts`, :mod:`csirt.teams.rotation`,
:mod:`csirt.teams.suggest` and :mod:`csirt.teams.ical`. :mod:`csirt.teams.service` holds the
logic on the database; ``views`` and ``api`` are the console pages and the JSON API.
"""
