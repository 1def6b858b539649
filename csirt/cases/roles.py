"""What a person does on a case (``CaseMember.role``), apart from their account's roles (pure).

An account's roles (``auth.permissions.Role``) say what someone may do in csirt; a case role
says what they do on one case. Playbooks name case roles and the skills each needs.
"""

from __future__ import annotations

from enum import StrEnum


class CaseRole(StrEnum):
    LEAD = "lead"
    INVESTIGATOR = "investigator"
    PRIVACY_OFFICER = "privacy_officer"
    PR = "pr"
    LEGAL = "legal"
    # Not staffed by playbooks: who opened the case, and a committee member given its documents.
    CREATOR = "creator"
    COMMITTEE = "committee"


STAFFED: tuple[CaseRole, ...] = (
    CaseRole.LEAD,
    CaseRole.INVESTIGATOR,
    CaseRole.PRIVACY_OFFICER,
    CaseRole.PR,
    CaseRole.LEGAL,
)
"""The roles a playbook staffs (with the skills each needs) and assignment suggests people for."""
