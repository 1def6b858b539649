"""Every model module, imported in one place so that ``Base.metadata`` is complete.

Alembic's env.py and the tests import this; add a line here for each new models module.
"""

from csirt.alerts.models import Alert
from csirt.audit.models import AuditEvent, AuditHead
from csirt.audit_review.models import ReviewSignal
from csirt.auth.models import ApiToken, RecoveryCode, Setting, User, UserRole
from csirt.cases.models import (
    AffectedDataset,
    Case,
    CaseCounter,
    CaseLink,
    CaseMember,
    CasePlaybook,
    CaseSearchDoc,
    CaseSearchTerm,
    CaseTag,
    ChecklistTick,
    CustodyEntry,
    Evidence,
    Inquiry,
    LiaisonEntry,
    Note,
    RecordVersion,
    TakedownRequest,
    Task,
    TaskAssignee,
    TaskComment,
    TimelineEvent,
)
from csirt.db import Base
from csirt.documents.models import (
    Document,
    DocumentComment,
    DocumentContext,
    DocumentVersion,
    MeasurePublication,
    MeasurePublicUpdate,
    PreventionMeasure,
)
from csirt.intake.models import (
    IdentityKeyWrap,
    IdentityRequest,
    StaffKeySession,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)
from csirt.inventory.models import (
    InventoryDatasetLink,
    InventoryFile,
    InventoryFileVersion,
    InventoryOverlap,
    InventoryPlace,
)
from csirt.notify.models import Notification, NotificationPreference, SentReminder
from csirt.observables.models import AttackTag, Observable
from csirt.ratelimit import BudgetCounter
from csirt.records.blobs import EvidenceBlob, EvidenceChunk
from csirt.teams.models import (
    Acknowledgement,
    Leave,
    OnCallOverride,
    StaffProfile,
    Team,
    TeamMember,
)
from csirt.triage.models import CaseTriage, DeadlineFeedToken, Obligation, TriageRun
from csirt.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "Acknowledgement",
    "AffectedDataset",
    "Alert",
    "ApiToken",
    "AttackTag",
    "AuditEvent",
    "AuditHead",
    "Base",
    "BudgetCounter",
    "Case",
    "CaseCounter",
    "CaseLink",
    "CaseMember",
    "CasePlaybook",
    "CaseSearchDoc",
    "CaseSearchTerm",
    "CaseTag",
    "CaseTriage",
    "ChecklistTick",
    "CustodyEntry",
    "DeadlineFeedToken",
    "Document",
    "DocumentComment",
    "DocumentContext",
    "DocumentVersion",
    "Evidence",
    "EvidenceBlob",
    "EvidenceChunk",
    "IdentityKeyWrap",
    "IdentityRequest",
    "Inquiry",
    "InventoryDatasetLink",
    "InventoryFile",
    "InventoryFileVersion",
    "InventoryOverlap",
    "InventoryPlace",
    "Leave",
    "LiaisonEntry",
    "MeasurePublicUpdate",
    "MeasurePublication",
    "Note",
    "Notification",
    "NotificationPreference",
    "Obligation",
    "Observable",
    "OnCallOverride",
    "PreventionMeasure",
    "RecordVersion",
    "RecoveryCode",
    "ReviewSignal",
    "SentReminder",
    "Setting",
    "StaffKeySession",
    "StaffProfile",
    "Submission",
    "SubmissionAttachment",
    "SubmissionKeyWrap",
    "SubmissionMessage",
    "TakedownRequest",
    "Task",
    "TaskAssignee",
    "TaskComment",
    "Team",
    "TeamMember",
    "TimelineEvent",
    "TriageRun",
    "User",
    "UserRole",
    "Webhook",
    "WebhookDelivery",
]
