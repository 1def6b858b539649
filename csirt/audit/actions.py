"""Every action the audit log records, as one enum.

:func:`csirt.audit.service.record` takes only these members, so a writer cannot invent a name
that the audit review does not know, and the review (``csirt.audit_review.service``) watches
members, not strings. The values are the strings stored in ``audit_events.action`` and covered by
the hash chain: never change a value; add a member instead.

The naming rule: ``<object>.<verb>``. Views of protected data end in ``.view``, ``.open`` or
``.download`` and exports in ``.export``: the half-year review report counts them by suffix.
"""

# Names such as TOKEN_CREATE are action names, not secrets.
# ruff: noqa: S105

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # --- Access control: a request refused by the deny-by-default hook. ------------------------
    ACCESS_DENIED = "access.denied"

    # --- Staff accounts, sign-in, second factor, re-authentication, API tokens. ----------------
    USER_CREATE = "user.create"
    USER_ROLES = "user.roles"
    USER_PASSWORD = "user.password"
    USER_UNLOCK = "user.unlock"
    USER_ACTIVE = "user.active"
    LOGIN_SUCCESS = "login.success"
    LOGIN_FAILURE = "login.failure"
    LOGIN_LOCKED = "login.locked"
    LOGIN_RECOVERY_CODE = "login.recovery_code"
    TOTP_ENABLE = "totp.enable"
    TOTP_DISABLE = "totp.disable"
    REAUTH_SUCCESS = "reauth.success"
    REAUTH_FAILURE = "reauth.failure"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    TOKEN_SCOPE_USE = "token.scope_use"  # a token used its ``export`` scope
    LOGOUT = "logout"  # sign-out: every session of the user is revoked on the server
    SETTINGS_CHANGE = "settings.change"
    SETTINGS_TOTP_ROLES = "settings.totp_roles"

    # --- Staff keys of the vault (an officer's key pair, its recovery). ------------------------
    VAULT_ENROL = "vault.enrol"
    VAULT_RESTORE = "vault.restore"

    # --- Intake: sealed reports opened, answered, shared, promoted, purged. --------------------
    INTAKE_OPEN = "intake.open"  # an officer decrypted a report (a view of sealed data)
    INTAKE_ATTACHMENT_STRIPPED = "intake.attachment.stripped"  # metadata-free copy downloaded
    INTAKE_ATTACHMENT_ORIGINAL = "intake.attachment.original"  # sealed original downloaded
    INTAKE_DENIED = "intake.denied"  # no permission, or a conflict of interest
    INTAKE_REPLY = "intake.reply"
    INTAKE_GRANT = "intake.grant"
    INTAKE_PROMOTE = "intake.promote"
    INTAKE_ATTACH = "intake.attach"
    INTAKE_EXPIRY_WARNING = "intake.expiry_warning"
    INTAKE_PURGE = "intake.purge"

    # --- The reporter's identity: request, custodian's decision, view. -------------------------
    IDENTITY_REQUEST = "identity.request"
    IDENTITY_APPROVE = "identity.approve"
    IDENTITY_DENY = "identity.deny"
    IDENTITY_VIEW = "identity.view"
    IDENTITY_CUSTODIAN_WRAP = "identity.custodian_wrap"  # a custodian given access to a key

    # --- Cases: every page or API read of a case, and every change of it. ----------------------
    CASE_VIEW = "case.view"  # one per request of a case page, tab or API resource
    CASE_CREATE = "case.create"
    CASE_UPDATE = "case.update"
    CASE_PRIORITY = "case.priority"
    CASE_PHASE = "case.phase"
    CASE_CLOSE = "case.close"
    CASE_CHECKLIST = "case.checklist"
    CASE_TAGS = "case.tags"
    CASE_LINK = "case.link"
    CASE_UNLINK = "case.unlink"
    CASE_PLAYBOOK = "case.playbook"
    CASE_MEMBER_ADD = "case.member.add"
    CASE_MEMBER_REFUSED = "case.member.refused"  # a conflicted person was not added
    CASE_ACKNOWLEDGE = "case.acknowledge"
    CASE_PAGE = "case.page"  # the on-call lead was paged
    CASE_PAGE_ESCALATE = "case.page.escalate"
    CASE_PAGE_EXHAUSTED = "case.page.exhausted"
    TASK_CREATE = "task.create"
    TASK_UPDATE = "task.update"
    TASK_COMMENT = "task.comment"
    TASK_EDIT = "task.edit"  # the previous version is kept in record_versions
    TASK_DELETE = "task.delete"  # soft: the task (with its comments) moves to record_versions
    TASK_RESTORE = "task.restore"  # a lead put a deleted task back
    TIMELINE_ADD = "timeline.add"
    TIMELINE_IMPORT = "timeline.import"
    TIMELINE_EXPORT = "timeline.export"
    TIMELINE_EDIT = "timeline.edit"  # the previous version is kept in record_versions
    TIMELINE_DELETE = "timeline.delete"  # soft: the event moves to record_versions
    TIMELINE_RESTORE = "timeline.restore"  # a lead put a deleted event back

    # --- Observables, ATT&CK tags, STIX / MISP exchange (csirt.observables). ------------------
    OBSERVABLE_ADD = "observable.add"  # created and merged counts, the source
    OBSERVABLE_EDIT = "observable.edit"  # the previous version is kept in record_versions
    OBSERVABLE_DELETE = "observable.delete"  # soft: the observable moves to record_versions
    OBSERVABLE_RESTORE = "observable.restore"  # a lead put a deleted observable back
    OBSERVABLE_LOOKUP = "observable.lookup"  # a sightings search by value (its key only)
    OBSERVABLE_EXPORT = "observable.export"  # a STIX bundle or MISP event left the server
    OBSERVABLE_IMPORT = "observable.import"  # a STIX bundle or MISP event was read into a case
    ATTACK_TAGS = "attack.tags"  # the ATT&CK techniques of a case or a timeline event

    # --- Case records: data sets, evidence, takedowns, notes, liaison, inquiries. --------------
    DATASET_CREATE = "dataset.create"
    DATASET_UPDATE = "dataset.update"
    DATASET_DELETE = "dataset.delete"  # soft: the data set moves to record_versions
    DATASET_RESTORE = "dataset.restore"  # a lead put a deleted data set back
    EVIDENCE_ADD = "evidence.add"
    EVIDENCE_CUSTODY = "evidence.custody"
    EVIDENCE_DOWNLOAD = "evidence.download"  # the stored bytes left the server
    TAKEDOWN_CREATE = "takedown.create"
    TAKEDOWN_UPDATE = "takedown.update"
    NOTE_CREATE = "note.create"
    NOTE_UPDATE = "note.update"
    NOTE_DELETE = "note.delete"  # soft: the note moves to record_versions
    NOTE_RESTORE = "note.restore"  # a lead put a deleted note back
    LIAISON_CREATE = "liaison.create"
    LIAISON_UPDATE = "liaison.update"  # the previous version is kept in record_versions
    LIAISON_DELETE = "liaison.delete"  # soft: the entry moves to record_versions
    LIAISON_RESTORE = "liaison.restore"  # a lead put a deleted entry back
    INQUIRY_CREATE = "inquiry.create"
    INQUIRY_UPDATE = "inquiry.update"

    # --- Triage: runs, lead overrides, obligations, deadline feed tokens. ----------------------
    TRIAGE_RUN = "triage.run"
    TRIAGE_PRIORITY_OVERRIDE = "triage.priority_override"
    TRIAGE_PRIORITY_OVERRIDE_CLEARED = "triage.priority_override_cleared"
    TRIAGE_OBLIGATION_DONE = "triage.obligation_done"
    TRIAGE_FEED_TOKEN_ISSUED = "triage.feed_token_issued"
    TRIAGE_FEED_TOKEN_REVOKED = "triage.feed_token_revoked"
    TRIAGE_CONTRACTOR_NOTICE = "triage.contractor_notice"

    # --- Teams and staff: teams, rotations, on-call, leave, profiles, feed tokens. -------------
    TEAM_CREATE = "team.create"
    TEAM_MEMBER_ADD = "team.member.add"
    TEAM_MEMBER_REMOVE = "team.member.remove"
    TEAM_ROTATION = "team.rotation"
    TEAM_ONCALL_OVERRIDE = "team.oncall.override"
    STAFF_PROFILE = "staff.profile"
    STAFF_LEAVE = "staff.leave"
    STAFF_LEAVE_DELETE = "staff.leave.delete"
    STAFF_FEED_TOKEN = "staff.feed_token"

    # --- Documents and measures: drafts, review, approval, exports, templates. -----------------
    DOCUMENT_CREATE = "document.create"
    DOCUMENT_EDIT = "document.edit"
    DOCUMENT_CONTEXT_EDIT = "document.context_edit"
    DOCUMENT_COMMENT = "document.comment"
    DOCUMENT_APPROVE = "document.approve"
    DOCUMENT_APPROVAL_REQUEST = "document.approval_request"  # an author named the approver
    DOCUMENT_APPROVAL_REFUSE = "document.approval_refuse"  # a lead refused, with a reason
    DOCUMENT_WITHDRAW = "document.withdraw"  # an unused draft moved to record_versions
    DOCUMENT_EXPORT = "document.export"
    DOCUMENT_EXPORT_REFUSED = "document.export_refused"  # the public-text guard refused
    DOCUMENT_GUARD_OVERRIDE = "document.guard_override"  # a lead let a guard finding pass
    DOCUMENT_TEMPLATE_UPLOAD = "document.template_upload"
    DOCUMENT_TEMPLATE_DELETE = "document.template_delete"
    MEASURE_SAVE = "measure.save"
    MEASURE_ADOPT_RECOMMENDATIONS = "measure.adopt_recommendations"
    MEASURE_PUBLIC_PROPOSE = "measure.public_propose"  # a lead proposed the public text
    MEASURE_PUBLIC_APPROVE = "measure.public_approve"  # a second lead approved it
    MEASURE_PUBLIC_REJECT = "measure.public_reject"
    MEASURE_PUBLICATION = "measure.publication"  # a case's measures published or withdrawn
    MEASURE_REPORT = "measure.report"  # the half-yearly progress report exported

    # --- Personal-data inventory (個人情報ファイル簿). ----------------------------------------
    INVENTORY_CREATE = "inventory.create"
    INVENTORY_UPDATE = "inventory.update"
    INVENTORY_OVERLAP = "inventory.overlap"
    INVENTORY_IMPORT = "inventory.import"
    INVENTORY_EXPORT = "inventory.export"

    # --- Machine alerts and outgoing webhooks. --------------------------------------------------
    ALERT_RAISE = "alert.raise"  # a new alert (API or the shared mailbox)
    ALERT_REPEAT = "alert.repeat"  # the same source reference again: counted, not added
    ALERT_VIEW = "alert.view"
    ALERT_MERGE = "alert.merge"  # into an existing case, with its observables
    ALERT_OPEN_CASE = "alert.open_case"  # a case opened from the alert (and a playbook)
    ALERT_IGNORE = "alert.ignore"
    ALERT_FETCH = "alert.fetch"  # a run of the shared-mailbox feed (counts only)
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_UPDATE = "webhook.update"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_GIVE_UP = "webhook.give_up"  # a delivery failed its last attempt

    # --- The audit review itself: browsing the log, its report, signals. -----------------------
    AUDIT_REVIEW_BROWSE = "audit_review.browse"
    AUDIT_REVIEW_EXPORT = "audit_review.export"
    AUDIT_REVIEW_SIGNAL_RAISE = "audit_review.signal_raise"
    AUDIT_REVIEW_SIGNAL_CLOSE = "audit_review.signal_close"
