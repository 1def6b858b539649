"""The kinds of legal obligation triage tracks (pure; one definition for every package).

``legal.yaml`` defines each one (regime, condition, deadline, legal basis) and names it
(``label``); a kind it does not list here is refused when the catalog loads.
"""

from __future__ import annotations

from enum import StrEnum


class ObligationKind(StrEnum):
    PPC_PRELIMINARY = "ppc_preliminary"
    PPC_FINAL = "ppc_final"
    MYNUMBER_PRELIMINARY = "mynumber_preliminary"
    MYNUMBER_REPORT = "mynumber_report"
    NOTIFY_INDIVIDUALS = "notify_individuals"
    WB_INVESTIGATION_NOTICE = "wb_investigation_notice"
    WB_OUTCOME_NOTICE = "wb_outcome_notice"
    WB_PROTECTION_WINDOW = "wb_protection_window"
    WB_ACKNOWLEDGE = "wb_acknowledge"
    WB_FEEDBACK = "wb_feedback"
    GDPR_AUTHORITY = "gdpr_authority"
    GDPR_INDIVIDUALS = "gdpr_individuals"
