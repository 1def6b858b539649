"""Permissions are an enum; roles map to sets of them. Nothing else grants access."""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    # Every signed-in staff member: own account, own notifications, own API tokens.
    ACCOUNT = "account"
    # Cases (need-to-know: members of a case see it; CASE_VIEW_ALL sees every case).
    CASE_VIEW = "case:view"
    CASE_VIEW_ALL = "case:view-all"
    CASE_CREATE = "case:create"
    CASE_EDIT = "case:edit"
    CASE_CLOSE = "case:close"
    PRIORITY_OVERRIDE = "case:priority-override"
    TRIAGE_EVALUATE = "triage:evaluate"
    # Intake (the designated handlers under the Whistleblower Protection Act).
    INTAKE_READ = "intake:read"
    INTAKE_GRANT = "intake:grant"
    IDENTITY_REQUEST = "identity:request"
    IDENTITY_DECIDE = "identity:decide"
    # Teams and on-call.
    TEAM_VIEW = "team:view"
    TEAM_MANAGE = "team:manage"
    # Documents and what may be made public.
    PUBLIC_FACTS_VIEW = "public-facts:view"
    DOCUMENT_VIEW = "document:view"
    DOCUMENT_EDIT = "document:edit"
    DOCUMENT_APPROVE = "document:approve"
    DOCUMENT_EXPORT = "document:export"
    MEASURE_MANAGE = "measure:manage"
    # The public follow-up of measures: a lead proposes, a second lead approves.
    MEASURE_PUBLISH = "measure:publish"
    # The personal-data inventory (個人情報ファイル簿).
    INVENTORY_VIEW = "inventory:view"
    INVENTORY_EDIT = "inventory:edit"
    # Machine alerts: raise (a SIEM's token), see the queue, merge / open a case / ignore.
    ALERT_RAISE = "alert:raise"
    ALERT_VIEW = "alert:view"
    ALERT_TRIAGE = "alert:triage"
    # Outgoing webhooks (admin).
    WEBHOOK_MANAGE = "webhook:manage"
    # Oversight and administration.
    AUDIT_VIEW = "audit:view"
    USER_MANAGE = "user:manage"
    SETTINGS_MANAGE = "settings:manage"


class Role(enum.StrEnum):
    ADMIN = "admin"
    INTAKE_OFFICER = "intake_officer"
    CUSTODIAN = "custodian"
    RESPONDER = "responder"
    LEAD = "lead"
    PR = "pr"
    COMMITTEE = "committee"
    AUDITOR = "auditor"


P = Permission
_CASE_WORK = {P.CASE_VIEW, P.CASE_EDIT, P.TRIAGE_EVALUATE, P.TEAM_VIEW}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            P.ACCOUNT,
            P.USER_MANAGE,
            P.SETTINGS_MANAGE,
            P.TEAM_VIEW,
            P.TEAM_MANAGE,
            P.CASE_VIEW,
            P.CASE_VIEW_ALL,
            P.ALERT_RAISE,
            P.WEBHOOK_MANAGE,
        }
    ),
    Role.INTAKE_OFFICER: frozenset(
        {
            P.ACCOUNT,
            P.INTAKE_READ,
            P.INTAKE_GRANT,
            P.IDENTITY_REQUEST,
            P.CASE_CREATE,
            P.CASE_VIEW,
            P.TRIAGE_EVALUATE,
        }
    ),
    Role.CUSTODIAN: frozenset({P.ACCOUNT, P.IDENTITY_DECIDE}),
    Role.RESPONDER: frozenset(
        {P.ACCOUNT, *_CASE_WORK, P.DOCUMENT_VIEW, P.DOCUMENT_EDIT, P.ALERT_RAISE, P.ALERT_VIEW}
    ),
    Role.LEAD: frozenset(
        {
            P.ACCOUNT,
            *_CASE_WORK,
            P.CASE_VIEW_ALL,
            P.CASE_CREATE,
            P.CASE_CLOSE,
            P.PRIORITY_OVERRIDE,
            P.TEAM_MANAGE,
            P.DOCUMENT_VIEW,
            P.DOCUMENT_EDIT,
            P.DOCUMENT_APPROVE,
            P.DOCUMENT_EXPORT,
            P.MEASURE_MANAGE,
            P.MEASURE_PUBLISH,
            P.INVENTORY_VIEW,
            P.INVENTORY_EDIT,
            P.PUBLIC_FACTS_VIEW,
            P.ALERT_RAISE,
            P.ALERT_VIEW,
            P.ALERT_TRIAGE,
        }
    ),
    Role.PR: frozenset(
        {P.ACCOUNT, P.PUBLIC_FACTS_VIEW, P.DOCUMENT_VIEW, P.DOCUMENT_EDIT, P.DOCUMENT_EXPORT}
    ),
    Role.COMMITTEE: frozenset(
        {P.ACCOUNT, P.PUBLIC_FACTS_VIEW, P.DOCUMENT_VIEW, P.DOCUMENT_EDIT, P.MEASURE_MANAGE}
    ),
    Role.AUDITOR: frozenset({P.ACCOUNT, P.AUDIT_VIEW}),
}

# Roles that must use a second factor unless an admin changes it (Admin -> Security).
DEFAULT_TOTP_ROLES = frozenset({Role.ADMIN, Role.CUSTODIAN, Role.INTAKE_OFFICER})


def permissions_for(roles: set[Role] | frozenset[Role] | list[Role]) -> frozenset[Permission]:
    """The union of the permissions of the given roles."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


class Scope(enum.StrEnum):
    """What an API token may do: ``read`` (GET), ``write`` (changes), ``export`` (documents and
    CSV files). Only a token created with ``export`` (after a fresh re-authentication in the
    console, or by the ``csirt token create --scope export`` command) can export."""

    READ = "read"
    WRITE = "write"
    EXPORT = "export"


DEFAULT_SCOPES = (Scope.READ, Scope.WRITE)
SCOPE_VALUES = frozenset(s.value for s in Scope)
