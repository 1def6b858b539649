"""csirt configuration: one frozen, typed object built from the environment.

Every setting comes from a ``CSIRT_*`` variable; a bad value stops the start with a message that
names the variable. Tests build their own ``Config`` with :func:`Config.from_env` and a dict.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OrgKind = Literal["local_government", "business"]
Interface = Literal["all", "intake", "console"]

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
    testing: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

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
            extra={k: v for k, v in env.items() if k.startswith("CSIRT_")},
        )


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
