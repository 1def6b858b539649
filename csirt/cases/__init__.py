"""Cases: the unit of incident response.

The logic on the database, by aggregate (every function takes the session explicitly, raises a
named error of :mod:`~csirt.cases.errors` for what a user can get wrong, and never commits):
:mod:`~csirt.cases.creation` (reference, first members, playbooks), :mod:`~csirt.cases.need_to_know`
(who may see a case; the one loader), :mod:`~csirt.cases.listing` (the filtered keyset list),
:mod:`~csirt.cases.editing` (the case's own fields), :mod:`~csirt.cases.lifecycle` (priority,
phase, closing), :mod:`~csirt.cases.tagging`, :mod:`~csirt.cases.links`,
:mod:`~csirt.cases.playbooks` (applied playbooks and their tasks), :mod:`~csirt.cases.tasks`,
:mod:`~csirt.cases.timeline` (events, import, cursors), :mod:`~csirt.cases.dashboard` (the
console's figures and their cache) and :mod:`~csirt.cases.trail` (the audit row and automatic
event every change leaves). :mod:`~csirt.cases.closing` and :mod:`~csirt.cases.search` are the
closing checklist and the search index; ``views`` and ``api`` are the console pages and the API.
"""
