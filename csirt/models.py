"""Every model module, imported in one place so that ``Base.metadata`` is complete.

Alembic's env.py and the tests import this; add a line here for each new models module.
"""

from csirt.audit.models import AuditEvent, AuditHead
from csirt.auth.models import ApiToken, RecoveryCode, Setting, User, UserRole
from csirt.cases.models import (
    AffectedDataset,
    Case,
    CaseCounter,
    CaseLink,
    CaseMember,
    CasePlaybook,
    CaseTag,
    CustodyEntry,
    Evidence,
    Inquiry,
    LiaisonEntry,
    Note,
    TakedownRequest,
    Task,
    TaskAssignee,
    TaskComment,
    TimelineEvent,
)
from csirt.db import Base

__all__ = [
    "AffectedDataset",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "CaseCounter",
    "CaseLink",
    "CaseMember",
    "CasePlaybook",
    "CaseTag",
    "CustodyEntry",
    "Evidence",
    "Inquiry",
    "LiaisonEntry",
    "Note",
    "RecoveryCode",
    "Setting",
    "TakedownRequest",
    "Task",
    "TaskAssignee",
    "TaskComment",
    "TimelineEvent",
    "User",
    "UserRole",
]
