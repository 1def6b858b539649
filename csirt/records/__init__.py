"""Case records: affected data sets, evidence with its chain of custody, takedown requests,
Markdown notes, the liaison log and public inquiries (console pages and API).

Services in :mod:`csirt.records.service` take the session and a case already loaded through
``csirt.cases.need_to_know.get_case_for``; :mod:`csirt.records.validation` reads form and JSON
input the same way; evidence bytes live content-addressed under ``<instance>/evidence``.
"""
