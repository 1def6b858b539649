"""Every model module, imported in one place so that ``Base.metadata`` is complete.

Alembic's env.py and the tests import this; add a line here for each new models module.
"""

from csirt.audit.models import AuditEvent, AuditHead
from csirt.auth.models import ApiToken, RecoveryCode, Setting, User, UserRole
from csirt.cases.models import Case, CaseCounter, CaseMember
from csirt.db import Base

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Case",
    "CaseCounter",
    "CaseMember",
    "RecoveryCode",
    "Setting",
    "User",
    "UserRole",
]
