"""Staff accounts: passwords (Argon2id), TOTP with recovery codes, lockout, API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property, lru_cache
from typing import Any, NamedTuple

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import ApiToken, RecoveryCode, Setting, User, UserRole
from csirt.auth.passwords import PasswordProblem, password_problems
from csirt.auth.permissions import DEFAULT_SCOPES, DEFAULT_TOTP_ROLES, SCOPE_VALUES, Role, Scope
from csirt.db import utcnow

RECOVERY_CODE_COUNT = 10
TOKEN_PREFIX = "csirt_"  # noqa: S105 (a prefix, not a secret)
TOTP_ROLES_KEY = "security.totp_roles"
TOTP_ISSUER = "csirt"


class AuthError(Exception):
    """Base for account errors shown to the user."""


class InvalidCredentialsError(AuthError):
    """Unknown user, wrong password, or inactive account (never says which)."""


class AccountLockedError(AuthError):
    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"locked until {until.isoformat()}")


class InvalidCodeError(AuthError):
    """A TOTP or recovery code that is wrong, expired or already used."""


class PasswordPolicyError(AuthError):
    """A new password breaks the policy; ``reasons`` says which rules (PasswordProblem)."""

    def __init__(self, reasons: list[PasswordProblem]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


class UserExistsError(AuthError):
    pass


@dataclass(frozen=True)
class Hashing:
    """Password hashing and the secret that seals TOTP seeds, from the app's config."""

    hasher: PasswordHasher
    secret_key: str

    @classmethod
    def create(cls, secret_key: str, *, fast: bool = False) -> Hashing:
        if fast:  # tests only: same algorithm, tiny cost
            return cls(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), secret_key)
        # Argon2id, 64 MiB, 3 passes: OWASP's recommended floor is 19 MiB/2 passes.
        return cls(PasswordHasher(time_cost=3, memory_cost=65536, parallelism=2), secret_key)

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash(secrets.token_hex(16))

    def spend_time(self, password: str) -> None:
        """Verify against a throwaway hash, so unknown usernames take as long as known ones."""
        with contextlib.suppress(VerificationError):
            self.hasher.verify(self._dummy_hash, password)

    def _box(self) -> SecretBox:
        key = hashlib.blake2b(
            self.secret_key.encode(), person=b"csirt-totp-seed", digest_size=32
        ).digest()
        return SecretBox(key)

    def seal_seed(self, seed: str) -> bytes:
        return bytes(self._box().encrypt(seed.encode()))

    def open_seed(self, sealed: bytes) -> str:
        try:
            return bytes(self._box().decrypt(sealed)).decode()
        except CryptoError as exc:
            raise InvalidCodeError("second factor cannot be read (secret key changed?)") from exc


def audit_user(
    session: Session,
    action: AuditAction,
    user: User,
    *,
    actor: audit.Actor | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Audit ``action`` on ``user``; the actor is the user themselves unless given."""
    audit.record(
        session,
        action,
        actor=actor if actor is not None else audit.Actor(user.id, user.username),
        object_type="user",
        object_id=user.id,
        details=details,
    )


def check_password_policy(password: str, username: str) -> None:
    """Raise :class:`PasswordPolicyError` listing every rule the password breaks.

    The one password check: every path that sets a password (sign-up by an administrator, a
    user's change, an administrator's reset, the CLI, the demo) comes through here.
    """
    problems = password_problems(password, username)
    if problems:
        raise PasswordPolicyError(problems)


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def create_user(
    session: Session,
    hashing: Hashing,
    username: str,
    password: str,
    roles: list[Role],
    *,
    actor: audit.Actor,
    display_name: str = "",
    email: str | None = None,
    department: str | None = None,
    check_policy: bool = True,
) -> User:
    """Create a staff account (the caller commits)."""
    username = username.strip()
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise AuthError("username: letters, digits, '.', '-' and '_' only, at most 64")
    if get_user(session, username) is not None:
        raise UserExistsError(username)
    if check_policy:
        check_password_policy(password, username)
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        department=department,
        password_hash=hashing.hasher.hash(password),
        session_token=secrets.token_hex(16),
        roles=[UserRole(role=Role(r).value) for r in dict.fromkeys(roles)],
    )
    session.add(user)
    session.flush()
    audit_user(
        session,
        AuditAction.USER_CREATE,
        user,
        actor=actor,
        details={"username": username, "roles": sorted(r.value for r in user.role_set)},
    )
    return user


def set_roles(session: Session, user: User, roles: list[Role], *, actor: audit.Actor) -> None:
    """Replace a user's roles (only the differences are written), audited when they change."""
    wanted = {Role(r).value for r in roles}
    before = sorted(r.role for r in user.roles)
    user.roles = [r for r in user.roles if r.role in wanted]
    have = {r.role for r in user.roles}
    user.roles += [UserRole(role=value) for value in sorted(wanted - have)]
    after = sorted(wanted)
    if before != after:
        end_sessions(user)  # a session must not keep the permissions of the old roles
        audit_user(
            session,
            AuditAction.USER_ROLES,
            user,
            actor=actor,
            details={"username": user.username, "before": before, "after": after},
        )


def end_sessions(user: User) -> None:
    """Revoke every session of ``user`` on the server: their login cookies stop working.

    The session token is part of the cookie's user id (``User.get_id``) and checked on every
    request, so a copy of an old cookie gets the sign-in page.
    """
    user.session_token = secrets.token_hex(16)


def record_logout(session: Session, user: User) -> None:
    """Audit a sign-out (the caller has ended the user's sessions)."""
    audit_user(session, AuditAction.LOGOUT, user)


def set_active(session: Session, user: User, active: bool, *, actor: audit.Actor) -> None:
    """Activate or deactivate an account; deactivation ends its sessions. Audited."""
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(user)
    audit_user(session, AuditAction.USER_ACTIVE, user, actor=actor, details={"active": active})


def set_password(
    session: Session, hashing: Hashing, user: User, password: str, *, actor: audit.Actor
) -> None:
    check_password_policy(password, user.username)
    user.password_hash = hashing.hasher.hash(password)
    user.password_changed_at = utcnow()
    end_sessions(user)  # every other session ends
    audit_user(session, AuditAction.USER_PASSWORD, user, actor=actor)


def authenticate(
    session: Session,
    hashing: Hashing,
    username: str,
    password: str,
    *,
    max_failures: int,
    lock_minutes: int,
    known_device: bool = False,
) -> User:
    """Check a username and password; count failures and lock the account after too many.

    A lock holds against browsers that never signed in to this account; ``known_device`` (a
    browser holding this account's signed device cookie from an earlier sign-in) is not held
    by it, so that nobody else's failures can keep the owner out. The caller commits in every
    case, so that failures and locks are kept.
    """
    user = get_user(session, username.strip())
    now = utcnow()
    if user is None:
        # Spend the same time as a real check so that timing does not reveal valid usernames.
        hashing.spend_time(password)
        audit.record(
            session,
            AuditAction.LOGIN_FAILURE,
            actor=audit.Actor(None, "anonymous"),
            details={"reason": "unknown_user"},
        )
        raise InvalidCredentialsError()
    if is_locked(user, now) and not known_device:
        audit_user(session, AuditAction.LOGIN_LOCKED, user)
        assert user.locked_until is not None
        raise AccountLockedError(user.locked_until)
    try:
        hashing.hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        details: dict[str, object] = {"reason": "bad_password"}
        details.update(count_failure(user, max_failures=max_failures, lock_minutes=lock_minutes))
        audit_user(session, AuditAction.LOGIN_FAILURE, user, details=details)
        raise InvalidCredentialsError() from None
    if not user.active:
        audit_user(session, AuditAction.LOGIN_FAILURE, user, details={"reason": "inactive"})
        raise InvalidCredentialsError()
    if hashing.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hashing.hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    return user


def is_locked(user: User, now: datetime | None = None) -> bool:
    """Tell whether failed sign-ins have locked the account (for unknown browsers)."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def count_failure(user: User, *, max_failures: int, lock_minutes: int) -> dict[str, object]:
    """Count one failed password or second-factor code; lock the account after too many.

    Returns audit details (the count, and the lock's end when it starts). A new lock also
    leaves a notice for the user's next sign-in.
    """
    now = utcnow()
    user.failed_logins += 1
    details: dict[str, object] = {"failures": user.failed_logins}
    if user.failed_logins >= max_failures:
        user.locked_until = now + timedelta(minutes=lock_minutes)
        user.lockout_notice_at = now
        user.failed_logins = 0
        details["locked_until"] = user.locked_until.isoformat()
    return details


def take_lockout_notice(user: User) -> datetime | None:
    """When the account was locked since the user last signed in (once), or None."""
    notice, user.lockout_notice_at = user.lockout_notice_at, None
    return notice


def complete_login(session: Session, user: User, *, method: str) -> None:
    user.last_login_at = utcnow()
    audit_user(session, AuditAction.LOGIN_SUCCESS, user, details={"method": method})


def unlock(session: Session, user: User, *, actor: audit.Actor) -> None:
    user.locked_until = None
    user.failed_logins = 0
    audit_user(session, AuditAction.USER_UNLOCK, user, actor=actor)


# --- second factor ---------------------------------------------------------------------------


def totp_required_roles(session: Session) -> frozenset[Role]:
    setting = session.get(Setting, TOTP_ROLES_KEY)
    if setting is None:
        return DEFAULT_TOTP_ROLES
    return frozenset(Role(r) for r in setting.value)


def set_totp_required_roles(session: Session, roles: list[Role], *, actor: audit.Actor) -> None:
    values = sorted(Role(r).value for r in roles)
    setting = session.get(Setting, TOTP_ROLES_KEY)
    if setting is None:
        session.add(Setting(key=TOTP_ROLES_KEY, value=values))
    else:
        setting.value = values
    audit.record(session, AuditAction.SETTINGS_TOTP_ROLES, actor=actor, details={"roles": values})


def totp_required(session: Session, user: User) -> bool:
    return bool(user.role_set & totp_required_roles(session))


def new_totp_seed() -> str:
    return pyotp.random_base32()


def provisioning_uri(seed: str, username: str) -> str:
    return pyotp.TOTP(seed).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def _verify_totp(seed: str, code: str, last_step: int | None) -> int:
    """Return the time step the code matched; refuse codes of already used steps."""
    code = "".join(ch for ch in code if ch.isdigit())
    totp = pyotp.TOTP(seed)
    now = utcnow()
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        step = totp.timecode(at)
        if secrets.compare_digest(totp.at(at), code) and (last_step is None or step > last_step):
            return step
    raise InvalidCodeError()


def enable_totp(session: Session, hashing: Hashing, user: User, seed: str, code: str) -> list[str]:
    """Check the first code from the authenticator, switch TOTP on, return fresh recovery codes."""
    user.totp_last_step = _verify_totp(seed, code, None)
    user.totp_secret = hashing.seal_seed(seed)
    user.totp_enabled = True
    codes = _new_recovery_codes(user)
    audit_user(session, AuditAction.TOTP_ENABLE, user)
    return codes


def disable_totp(session: Session, user: User, *, actor: audit.Actor) -> None:
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    audit_user(session, AuditAction.TOTP_DISABLE, user, actor=actor)


def _hash_code(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, single use, rate limited
        codes.append(f"{raw[:5]}-{raw[5:]}")
    user.recovery_codes = [RecoveryCode(code_hash=_hash_code(c)) for c in codes]
    return codes


def verify_second_factor(
    session: Session,
    hashing: Hashing,
    user: User,
    code: str,
    *,
    max_failures: int | None = None,
    lock_minutes: int = 15,
) -> str:
    """Accept a TOTP code or an unused recovery code; return which was used.

    With ``max_failures``, a wrong code counts toward the account's lockout like a wrong
    password (see :func:`count_failure`); the caller commits either way.
    """
    if not user.totp_enabled or user.totp_secret is None:
        raise InvalidCodeError()

    def failed(reason: str) -> dict[str, object]:
        details: dict[str, object] = {"reason": reason}
        if max_failures is not None:
            details.update(
                count_failure(user, max_failures=max_failures, lock_minutes=lock_minutes)
            )
        return details

    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) == 6 and len(code.strip()) <= 7:
        try:
            user.totp_last_step = _verify_totp(
                hashing.open_seed(user.totp_secret), digits, user.totp_last_step
            )
            return "totp"
        except InvalidCodeError:
            audit_user(
                session,
                AuditAction.LOGIN_FAILURE,
                user,
                details=failed("bad_totp"),
            )
            raise
    wanted = _hash_code(code)
    for recovery in user.recovery_codes:
        if recovery.used_at is None and secrets.compare_digest(recovery.code_hash, wanted):
            recovery.used_at = utcnow()
            audit_user(session, AuditAction.LOGIN_RECOVERY_CODE, user)
            return "recovery_code"
    audit_user(
        session,
        AuditAction.LOGIN_FAILURE,
        user,
        details=failed("bad_recovery_code"),
    )
    raise InvalidCodeError()


# --- API tokens ------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nobody can guess the preimage.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    user: User,
    *,
    name: str = "",
    actor: audit.Actor,
    expires_at: datetime | None = None,
    scopes: Iterable[Scope | str] = DEFAULT_SCOPES,
) -> tuple[ApiToken, str]:
    """Create an API token with the given scopes; the plain token is returned once only.

    AuthError for an unknown scope or none at all. ``read`` is implied by the others.
    """
    wanted = set()
    for scope in scopes:
        if scope not in SCOPE_VALUES:
            raise AuthError(f"unknown scope {scope!r}: one of {', '.join(sorted(SCOPE_VALUES))}")
        wanted.add(Scope(scope))
    if not wanted:
        raise AuthError("a token needs at least one scope")
    wanted.add(Scope.READ)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name[:100],
        token_hash=_token_hash(plain),
        prefix=plain[:12],
        expires_at=expires_at,
        scopes=" ".join(s.value for s in Scope if s in wanted),
    )
    session.add(token)
    session.flush()
    details = {"name": token.name, "scopes": token.scopes.split()}
    _audit_token(session, AuditAction.TOKEN_CREATE, token, actor, **details)
    return token, plain


def revoke_token(session: Session, token: ApiToken, *, actor: audit.Actor) -> None:
    token.revoked_at = utcnow()
    _audit_token(session, AuditAction.TOKEN_REVOKE, token, actor)


def _audit_token(
    session: Session, action: AuditAction, token: ApiToken, actor: audit.Actor, **details: Any
) -> None:
    """The audit row of a token's creation or revocation, naming the token's owner."""
    details = {"user": token.user.username, **details}
    audit.record(
        session, action, actor=actor, object_type="api_token", object_id=token.id, details=details
    )


def user_for_token(session: Session, plain: str) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, revoked or expired)."""
    token = valid_token(session, plain)
    return None if token is None else token.user


UserColumn = Callable[[ColumnElement[int]], ColumnElement[Any]]
"""A value about a user, as a column of another statement given the column of the user's id."""

# Values that every console page shows about its reader (the unread notifications), read as
# columns of the statement that loads the signed-in user instead of a statement each: key ->
# column, registered by the package that owns the value (read_with_user).
_WITH_USER: dict[str, UserColumn] = {}


def read_with_user(key: str, column: UserColumn) -> None:
    """Read ``column(users.id)`` in :func:`load_user`'s statement; :func:`read_value` gives it
    back for the rest of the transaction (its owner calls :func:`forget_value` when it changes)."""
    if _WITH_USER.get(key) is not column:
        _WITH_USER[key] = column
        _user_query.cache_clear()


def read_value(session: Session, key: str, user_id: int) -> Any | None:
    """The value ``key`` read with the user ``user_id`` by :func:`load_user` in the session's
    current transaction, or None (not read, changed since, or another transaction)."""
    read = session.info.get(key)
    if read is None or read[0] != user_id or read[1] is not session.get_transaction():
        return None
    return read[2]


def forget_value(session: Session, key: str) -> None:
    """Drop the value ``key`` read with the user: it changed in this session."""
    session.info.pop(key, None)


# The two statements every request runs are built once, their values bound at execution: a
# statement built per request cost its construction and its cache key (~300 Python calls) again.
@cache
def _user_query() -> Select[Any]:
    values = [column(User.id.expression) for column in _WITH_USER.values()]
    return (
        select(User, *values).options(joinedload(User.roles)).where(User.id == bindparam("user_id"))
    )


@cache
def _token_query() -> Select[Any]:
    # The user (and roles) as ORM objects, for the request's current_user; the token's columns
    # as plain values: no ApiToken object, instance state or row processor per request.
    return (
        select(
            User,
            ApiToken.id,
            ApiToken.scopes,
            ApiToken.last_used_at,
            ApiToken.expires_at,
            ApiToken.revoked_at,
        )
        .join(ApiToken, ApiToken.user_id == User.id)
        .options(joinedload(User.roles))
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


class TokenUse(NamedTuple):
    """A valid bearer token as a request uses it: its id, scopes, last use and its user."""

    id: int
    scopes: str
    last_used_at: datetime | None
    user: User

    @property
    def scope_set(self) -> frozenset[Scope]:
        return _scope_set(self.scopes)


@lru_cache(maxsize=16)
def _scope_set(scopes: str) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in scopes.split() if s in SCOPE_VALUES)


def load_user(session: Session, user_id: int) -> User | None:
    """A user with their roles, in one query (the per-request load of the signed-in user), and
    the values registered with :func:`read_with_user`."""
    row = session.execute(_user_query(), {"user_id": user_id}).unique().one_or_none()
    if row is None:
        return None
    user: User = row[0]
    if _WITH_USER:
        transaction = session.get_transaction()
        for key, value in zip(_WITH_USER, row[1:], strict=True):
            session.info[key] = (user.id, transaction, value)
    return user


def valid_token(session: Session, plain: str) -> TokenUse | None:
    """The token (of an active user) for a bearer value, or None (unknown, revoked, expired).

    One query reads the token, its user and the user's roles (every API request does this).
    """
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    found = session.execute(_token_query(), {"token_hash": _token_hash(plain)})
    row = found.unique().one_or_none()
    if row is None:
        return None
    user, token_id, scopes, last_used_at, expires_at, revoked_at = row
    if revoked_at is not None:
        return None
    if expires_at is not None and expires_at <= utcnow():
        return None
    if not user.active:
        return None
    return TokenUse(token_id, scopes, last_used_at, user)


def token_use_to_record(token: TokenUse) -> int | None:
    """The id of the token if its ``last_used_at`` is over an hour old (written elsewhere)."""
    if token.last_used_at is None or utcnow() - token.last_used_at > timedelta(hours=1):
        return token.id
    return None
