"""csirt configuration: one frozen, typed object built from the environment.

Every setting comes from a ``CSIRT_*`` variable; a bad value stops the start with a message that
names the variable. Tests build their own ``Config`` with :func:`Config.from_env` and a dict.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import time
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OrgKind = Literal["local_government", "business"]
Interface = Literal["all", "intake", "console"]
MailBackend = Literal["log", "smtp"]
SmtpTls = Literal["starttls", "tls", "off"]
SocialResponsibility = Literal["average", "high"]

ORG_KINDS: tuple[OrgKind, ...] = ("local_government", "business")
JURISDICTIONS = frozenset({"JP", "EU"})
LANGUAGES = ("ja", "en")
DEFAULT_INSTANCE = Path(__file__).resolve().parent / "instance"
DEFAULT_PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


class ConfigError(ValueError):
    """A configuration variable has a value csirt cannot use."""

    def __init__(self, variable: str, message: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {message}")


@dataclass(frozen=True)
class Config:
    """Settings of one csirt deployment."""

    database_url: str
    secret_key: str
    instance_path: Path
    org_kind: OrgKind = "local_government"
    jurisdictions: frozenset[str] = frozenset({"JP"})
    default_lang: str = "ja"
    timezone: str = "Asia/Tokyo"
    org_name: str = "Example City CSIRT"
    base_url: str = "http://127.0.0.1:5000"
    cookie_secure: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # How many reverse proxies in front of the console set X-Forwarded-For/-Proto (0: none
    # trusted). The intake never reads a forwarded address (nor any client address).
    trusted_proxies: int = 0
    playbooks_path: Path = DEFAULT_PLAYBOOKS
    # The organisation intake key (escrow): on by default; "off" is the strict mode (README, vault).
    intake_escrow: bool = True
    # The file holding the key that opens the organisation intake key; None: instance folder.
    intake_escrow_key_file: Path | None = None
    # The intake's onion service address (deploy/tor/); sent as Onion-Location when set.
    onion_url: str = ""
    # Largest request body (uploads) and largest JSON body of an API request.
    max_upload_mb: int = 25
    api_max_json_kb: int = 1024
    # How long a re-authentication counts for sensitive actions.
    reauth_minutes: int = 10
    # Database connection pool per worker (None: SQLAlchemy's defaults).
    db_pool_size: int | None = None
    db_max_overflow: int | None = None
    # Mail: the log backend writes only that a mail was sent (kind, recipient count).
    mail_backend: MailBackend = "log"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "csirt@localhost"
    smtp_tls: SmtpTls = "starttls"
    # An unacknowledged P1/P2 page goes to the next on-call person after this many minutes.
    escalation_minutes: int = 15
    # Intake: receipt hashing slots, retention, acknowledgement, global budgets per worker.
    intake_hash_slots: int = 2
    intake_hash_wait_s: int = 2
    intake_retention_days: int = 180
    intake_retention_warn_days: int = 14
    intake_ack_days: int = 5
    intake_submissions_per_minute: int = 600
    intake_mailbox_per_minute: int = 600
    # JNSA social-responsibility coefficient of the organisation.
    social_responsibility: SocialResponsibility = "average"
    # Audit misuse signals (audit_review): thresholds and working time.
    audit_window_minutes: int = 60
    audit_peer_factor: float = 3.0
    audit_peer_minimum: int = 10
    audit_baseline_days: int = 28
    audit_baseline_factor: float = 3.0
    audit_baseline_minimum: int = 20
    audit_work_start: time = time(8, 0)
    audit_work_end: time = time(19, 0)
    audit_work_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    audit_off_hours_minimum: int = 3
    audit_bulk_export_minimum: int = 10
    # The shared mailbox feeding alerts (``csirt alerts fetch``): IMAP over TLS only. The
    # password is read from a file (never from the environment); empty host: no mailbox.
    alerts_imap_host: str = ""
    alerts_imap_port: int = 993
    alerts_imap_user: str = ""
    alerts_imap_password_file: Path | None = None
    alerts_imap_mailbox: str = "INBOX"
    # Extra CA certificates to trust for the mailbox's certificate (else the system's).
    alerts_imap_cafile: Path | None = None
    # A webhook delivery that failed is retried after this many seconds, doubling each time.
    webhooks_first_retry_s: int = 30
    testing: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def escrow_key_path(self) -> Path:
        """Where the key that opens the organisation intake key is kept (outside the database)."""
        return self.intake_escrow_key_file or self.instance_path / "intake_escrow.key"

    def with_(self, **changes: Any) -> Config:
        """Return a copy with some settings changed (tests use this)."""
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, instance_path: Path | None = None
    ) -> Config:
        """Build the config from ``CSIRT_*`` variables; raise :class:`ConfigError` on bad values."""
        env = os.environ if env is None else env
        instance = Path(env.get("CSIRT_INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE)

        org_kind = env.get("CSIRT_ORG_KIND", "local_government").strip()
        if org_kind not in ORG_KINDS:
            raise ConfigError(
                "CSIRT_ORG_KIND", f"must be one of {', '.join(ORG_KINDS)}, not {org_kind!r}"
            )

        raw_jurisdictions = env.get("CSIRT_JURISDICTIONS", "JP")
        jurisdictions = frozenset(
            part.strip().upper() for part in raw_jurisdictions.split(",") if part.strip()
        )
        unknown = sorted(jurisdictions - JURISDICTIONS)
        if unknown or not jurisdictions:
            raise ConfigError(
                "CSIRT_JURISDICTIONS",
                f"must be a comma-separated list of {', '.join(sorted(JURISDICTIONS))}"
                f", not {raw_jurisdictions!r}",
            )
        jurisdictions = jurisdictions | {"JP"}

        default_lang = env.get("CSIRT_DEFAULT_LANG", "ja").strip()
        if default_lang not in LANGUAGES:
            raise ConfigError(
                "CSIRT_DEFAULT_LANG", f"must be one of {', '.join(LANGUAGES)}, not {default_lang!r}"
            )

        timezone = env.get("CSIRT_TIMEZONE", "Asia/Tokyo").strip()
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError("CSIRT_TIMEZONE", f"unknown time zone {timezone!r}") from exc

        database_url = env.get("CSIRT_DATABASE_URL", "").strip()
        if not database_url:
            database_url = f"sqlite:///{instance / 'csirt.sqlite3'}"
        if not database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ConfigError(
                "CSIRT_DATABASE_URL", "must be a sqlite:/// or postgresql+psycopg:// URL"
            )
        if database_url.startswith("postgresql:"):
            database_url = "postgresql+psycopg:" + database_url.removeprefix("postgresql:")

        secret_key = env.get("CSIRT_SECRET_KEY", "").strip()
        if secret_key:
            _check_secret(secret_key)
        else:
            secret_key = _instance_secret(instance)

        cookie_secure = _bool(env, "CSIRT_COOKIE_SECURE", default=True)
        escrow_file = env.get("CSIRT_INTAKE_ESCROW_KEY_FILE", "").strip()
        work_start, work_end = _work_hours(env, "CSIRT_AUDIT_WORK_HOURS")
        imap = _alerts_imap(env)
        pool_size, max_overflow = _pool(env, database_url)
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            instance_path=instance,
            org_kind=org_kind,
            jurisdictions=jurisdictions,
            default_lang=default_lang,
            timezone=timezone,
            org_name=env.get("CSIRT_ORG_NAME", "Example City CSIRT"),
            base_url=env.get("CSIRT_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            cookie_secure=cookie_secure,
            session_idle_minutes=_int(env, "CSIRT_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_int(env, "CSIRT_SESSION_ABSOLUTE_HOURS", 12),
            login_max_failures=_int(env, "CSIRT_LOGIN_MAX_FAILURES", 5),
            login_lock_minutes=_int(env, "CSIRT_LOGIN_LOCK_MINUTES", 15),
            trusted_proxies=_count(env, "CSIRT_TRUSTED_PROXIES", 0),
            playbooks_path=Path(env.get("CSIRT_PLAYBOOKS_PATH") or DEFAULT_PLAYBOOKS),
            intake_escrow=_bool(env, "CSIRT_INTAKE_ESCROW", default=True),
            intake_escrow_key_file=Path(escrow_file) if escrow_file else None,
            onion_url=_onion_url(env),
            max_upload_mb=_int(env, "CSIRT_MAX_UPLOAD_MB", 25),
            api_max_json_kb=_int(env, "CSIRT_API_MAX_JSON_KB", 1024),
            reauth_minutes=_int(env, "CSIRT_REAUTH_MINUTES", 10),
            db_pool_size=pool_size,
            db_max_overflow=max_overflow,
            mail_backend=_mail_backend(env),
            smtp_host=_text(env, "CSIRT_SMTP_HOST", "localhost"),
            smtp_port=_port(env, "CSIRT_SMTP_PORT", 25),
            smtp_from=_text(env, "CSIRT_SMTP_FROM", "csirt@localhost"),
            smtp_tls=_choice(env, "CSIRT_SMTP_TLS", SmtpTls, "starttls"),
            escalation_minutes=_int(env, "CSIRT_ESCALATION_MINUTES", 15),
            intake_hash_slots=_int(env, "CSIRT_INTAKE_HASH_SLOTS", 2),
            intake_hash_wait_s=_int(env, "CSIRT_INTAKE_HASH_WAIT_S", 2),
            intake_retention_days=_int(env, "CSIRT_INTAKE_RETENTION_DAYS", 180),
            intake_retention_warn_days=_int(env, "CSIRT_INTAKE_RETENTION_WARN_DAYS", 14),
            intake_ack_days=_int(env, "CSIRT_INTAKE_ACK_DAYS", 5),
            intake_submissions_per_minute=_int(env, "CSIRT_INTAKE_SUBMISSIONS_PER_MINUTE", 600),
            intake_mailbox_per_minute=_int(env, "CSIRT_INTAKE_MAILBOX_PER_MINUTE", 600),
            social_responsibility=_choice(
                env, "CSIRT_SOCIAL_RESPONSIBILITY", SocialResponsibility, "average"
            ),
            audit_window_minutes=_int(env, "CSIRT_AUDIT_WINDOW_MINUTES", 60),
            audit_peer_factor=_float(env, "CSIRT_AUDIT_PEER_FACTOR", 3.0),
            audit_peer_minimum=_int(env, "CSIRT_AUDIT_PEER_MINIMUM", 10),
            audit_baseline_days=_int(env, "CSIRT_AUDIT_BASELINE_DAYS", 28),
            audit_baseline_factor=_float(env, "CSIRT_AUDIT_BASELINE_FACTOR", 3.0),
            audit_baseline_minimum=_int(env, "CSIRT_AUDIT_BASELINE_MINIMUM", 20),
            audit_work_start=work_start,
            audit_work_end=work_end,
            audit_work_days=_work_days(env, "CSIRT_AUDIT_WORK_DAYS"),
            audit_off_hours_minimum=_int(env, "CSIRT_AUDIT_OFF_HOURS_MINIMUM", 3),
            audit_bulk_export_minimum=_int(env, "CSIRT_AUDIT_BULK_EXPORT_MINIMUM", 10),
            webhooks_first_retry_s=_int(env, "CSIRT_WEBHOOKS_FIRST_RETRY_S", 30),
            **imap,
        )


# Fields that are not one variable each (or not read from the environment at all).
_NOT_FROM_ENV = frozenset(
    {
        "database_url",
        "secret_key",
        "instance_path",
        "audit_work_start",
        "audit_work_end",
        "audit_work_days",
        "testing",
    }
)

ENV_NAMES: tuple[str, ...] = (
    "CSIRT_DATABASE_URL",
    "CSIRT_SECRET_KEY",
    "CSIRT_INSTANCE_PATH",
    *(f"CSIRT_{f.name.upper()}" for f in fields(Config) if f.name not in _NOT_FROM_ENV),
    "CSIRT_AUDIT_WORK_HOURS",
    "CSIRT_AUDIT_WORK_DAYS",
)
"""Every variable :meth:`Config.from_env` reads (the README's configuration table lists them)."""


# Values published in this repository (deploy/csirt.env.example, README): never a real secret.
EXAMPLE_SECRETS = frozenset({"change-me-to-a-long-random-string-of-48-characters"})
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12


def _check_secret(secret_key: str) -> None:
    """Refuse a known example or a weak ``CSIRT_SECRET_KEY`` (the app does not start)."""
    lowered = secret_key.lower()
    if secret_key in EXAMPLE_SECRETS or "change-me" in lowered or "changeme" in lowered:
        raise ConfigError(
            "CSIRT_SECRET_KEY",
            "is the example value: generate one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            "CSIRT_SECRET_KEY", f"must be at least {MIN_SECRET_LENGTH} characters long"
        )
    if len(set(secret_key)) < MIN_SECRET_DISTINCT:
        raise ConfigError(
            "CSIRT_SECRET_KEY",
            f"is too weak (fewer than {MIN_SECRET_DISTINCT} different characters): "
            "use a random one",
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(name, "must be greater than zero")
    return value


def _pool(env: Mapping[str, str], database_url: str) -> tuple[int | None, int | None]:
    """A worker's connection pool. On PostgreSQL a request may hold a second, short connection
    (the shared intake budgets count in a transaction of their own): one connection in all would
    make that request wait for itself until the pool's timeout."""
    size = _optional_int(env, "CSIRT_DB_POOL_SIZE", minimum=1)
    overflow = _optional_int(env, "CSIRT_DB_MAX_OVERFLOW", minimum=0)
    if database_url.startswith("postgresql") and size == 1 and overflow == 0:
        raise ConfigError(
            "CSIRT_DB_POOL_SIZE",
            "must be at least 2 on PostgreSQL when CSIRT_DB_MAX_OVERFLOW is 0 (a request may "
            "take a second, short connection)",
        )
    return size, overflow


def _optional_int(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number, not {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(name, "must be a number greater than zero")
    return value


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name) or "").strip() or default


def _choice(env: Mapping[str, str], name: str, kind: Any, default: str) -> Any:
    allowed: tuple[str, ...] = get_args(kind)
    value = (env.get(name) or "").strip().lower() or default
    if value not in allowed:
        raise ConfigError(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _mail_backend(env: Mapping[str, str]) -> MailBackend:
    """``log`` or ``smtp``; ``console``, the former name of ``log``, still means it."""
    if (env.get("CSIRT_MAIL_BACKEND") or "").strip().lower() == "console":
        return "log"
    backend: MailBackend = _choice(env, "CSIRT_MAIL_BACKEND", MailBackend, "log")
    return backend


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(name, f"must be a port number, not {raw!r}")
    return int(raw)


def _work_hours(env: Mapping[str, str], name: str) -> tuple[time, time]:
    """``08:00-19:00``: the start and end of the working day (start before end)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return time(8, 0), time(19, 0)
    first, sep, last = raw.partition("-")
    try:
        start, end = time.fromisoformat(first.strip()), time.fromisoformat(last.strip())
    except ValueError:
        start = end = time(0)
    if not sep or not start < end:
        raise ConfigError(name, f"must be HH:MM-HH:MM with the start first, not {raw!r}")
    return start, end


def _work_days(env: Mapping[str, str], name: str) -> frozenset[int]:
    """``0-4`` (Monday to Friday) or one day ``3``; Monday is 0."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return frozenset(range(5))
    lo, _sep, hi = raw.partition("-")
    hi = hi or lo
    if not (lo.strip().isdigit() and hi.strip().isdigit() and int(lo) <= int(hi) <= 6):
        raise ConfigError(name, f"must be a day 0-6 or a range like 0-4 (Monday is 0), not {raw!r}")
    return frozenset(range(int(lo), int(hi) + 1))


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.strip().isdigit() or int(raw) > 10:
        raise ConfigError(name, f"must be a whole number from 0 to 10, not {raw!r}")
    return int(raw)


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"must be true or false, not {raw!r}")


def _readable_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ConfigError(name, f"must name a readable file, not {raw!r}")
    return path


def _alerts_imap(env: Mapping[str, str]) -> dict[str, Any]:
    """The shared mailbox of ``csirt alerts fetch``: all of host, user and password file, or
    none of them."""
    values: dict[str, Any] = {
        "alerts_imap_host": _text(env, "CSIRT_ALERTS_IMAP_HOST", ""),
        "alerts_imap_port": _port(env, "CSIRT_ALERTS_IMAP_PORT", 993),
        "alerts_imap_user": _text(env, "CSIRT_ALERTS_IMAP_USER", ""),
        "alerts_imap_password_file": _readable_file(env, "CSIRT_ALERTS_IMAP_PASSWORD_FILE"),
        "alerts_imap_mailbox": _text(env, "CSIRT_ALERTS_IMAP_MAILBOX", "INBOX"),
        "alerts_imap_cafile": _readable_file(env, "CSIRT_ALERTS_IMAP_CAFILE"),
    }
    if values["alerts_imap_host"]:
        for name in ("alerts_imap_user", "alerts_imap_password_file"):
            if not values[name]:
                raise ConfigError(
                    f"CSIRT_{name.upper()}", "is required when CSIRT_ALERTS_IMAP_HOST is set"
                )
    return values


def _onion_url(env: Mapping[str, str]) -> str:
    """``CSIRT_ONION_URL``: empty, or http(s)://<56 base32 characters>.onion[/path]."""
    raw = env.get("CSIRT_ONION_URL", "").strip().rstrip("/")
    if raw and not re.fullmatch(r"https?://[a-z2-7]{56}\.onion(/[A-Za-z0-9._~/-]*)?", raw):
        raise ConfigError("CSIRT_ONION_URL", "must be http://<56 characters>.onion (a v3 address)")
    return raw


def _instance_secret(instance: Path) -> str:
    """Read the generated secret key from the instance folder, creating it on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with 0600 so the key is never world-readable, even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
