"""Configuration from the environment: defaults, and errors that name the variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from config import Config, ConfigError


def test_defaults(tmp_path: Path):
    config = Config.from_env({}, instance_path=tmp_path)
    assert config.database_url == f"sqlite:///{tmp_path / 'csirt.sqlite3'}"
    assert config.org_kind == "local_government"
    assert config.jurisdictions == {"JP"}
    assert config.default_lang == "ja"
    assert config.timezone == "Asia/Tokyo"
    assert str(config.tz) == "Asia/Tokyo"


def test_secret_key_is_generated_once_and_private(tmp_path: Path):
    first = Config.from_env({}, instance_path=tmp_path)
    second = Config.from_env({}, instance_path=tmp_path)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 48
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_config_is_frozen(tmp_path: Path):
    config = Config.from_env({}, instance_path=tmp_path)
    with pytest.raises(AttributeError):
        config.org_kind = "business"  # type: ignore[misc]


def test_eu_jurisdiction_adds_to_japan(tmp_path: Path):
    config = Config.from_env({"CSIRT_JURISDICTIONS": "eu"}, instance_path=tmp_path)
    assert config.jurisdictions == {"JP", "EU"}


def test_postgres_url_gets_the_psycopg_driver(tmp_path: Path):
    config = Config.from_env({"CSIRT_DATABASE_URL": "postgresql://u@h/db"}, instance_path=tmp_path)
    assert config.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CSIRT_ORG_KIND", "ngo"),
        ("CSIRT_JURISDICTIONS", "JP,US"),
        ("CSIRT_JURISDICTIONS", " , "),
        ("CSIRT_DEFAULT_LANG", "fr"),
        ("CSIRT_TIMEZONE", "Mars/Olympus"),
        ("CSIRT_DATABASE_URL", "mysql://x"),
        ("CSIRT_SECRET_KEY", "short"),
        ("CSIRT_COOKIE_SECURE", "maybe"),
        ("CSIRT_SESSION_IDLE_MINUTES", "ten"),
        ("CSIRT_SESSION_IDLE_MINUTES", "0"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, variable: str, value: str):
    with pytest.raises(ConfigError) as caught:
        Config.from_env({variable: value}, instance_path=tmp_path)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


def test_bad_value_stops_the_cli_with_the_variable_name(tmp_path: Path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, CSIRT_ORG_KIND="nonsense", CSIRT_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "csirt"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "CSIRT_ORG_KIND" in result.stderr


def _readme_configuration_table() -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `CSIRT_"))


def test_every_setting_is_in_the_readme_table():
    import re

    import config as config_module

    table = _readme_configuration_table()
    source = Path(config_module.__file__).read_text(encoding="utf-8")
    named = set(re.findall(r"CSIRT_[A-Z0-9_]*[A-Z0-9]", source))
    assert set(config_module.ENV_NAMES) <= named | set(config_module.ENV_NAMES)
    missing = sorted(n for n in named | set(config_module.ENV_NAMES) if f"`{n}`" not in table)
    assert not missing, f"settings missing from the README's configuration table: {missing}"


def test_every_field_is_read_from_the_environment(tmp_path: Path):
    """Each Config field but the derived ones has its CSIRT_ variable (no hidden settings)."""
    from dataclasses import fields

    from config import ENV_NAMES

    derived = {"testing", "audit_work_start", "audit_work_end", "audit_work_days"}
    for field in fields(Config):
        if field.name not in derived:
            assert f"CSIRT_{field.name.upper()}" in ENV_NAMES, field.name
    assert not hasattr(Config, "extra")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CSIRT_MAX_UPLOAD_MB", "lots"),
        ("CSIRT_API_MAX_JSON_KB", "0"),
        ("CSIRT_REAUTH_MINUTES", "-1"),
        ("CSIRT_DB_POOL_SIZE", "0"),
        ("CSIRT_MAIL_BACKEND", "pigeon"),
        ("CSIRT_SMTP_PORT", "70000"),
        ("CSIRT_SMTP_TLS", "maybe"),
        ("CSIRT_ESCALATION_MINUTES", "soon"),
        ("CSIRT_INTAKE_HASH_SLOTS", "two"),
        ("CSIRT_INTAKE_HASH_WAIT_S", "0"),
        ("CSIRT_INTAKE_RETENTION_DAYS", "x"),
        ("CSIRT_INTAKE_RETENTION_WARN_DAYS", "0"),
        ("CSIRT_INTAKE_ACK_DAYS", "five"),
        ("CSIRT_INTAKE_SUBMISSIONS_PER_MINUTE", "many"),
        ("CSIRT_INTAKE_MAILBOX_PER_MINUTE", "-5"),
        ("CSIRT_SOCIAL_RESPONSIBILITY", "huge"),
        ("CSIRT_AUDIT_PEER_FACTOR", "nan"),
        ("CSIRT_AUDIT_WORK_HOURS", "19:00-08:00"),
        ("CSIRT_AUDIT_WORK_DAYS", "1-9"),
    ],
)
def test_bad_typed_settings_stop_the_start(tmp_path: Path, variable: str, value: str):
    with pytest.raises(ConfigError) as caught:
        Config.from_env({variable: value}, instance_path=tmp_path)
    assert caught.value.variable == variable


def test_typed_settings_are_read(tmp_path: Path):
    from datetime import time

    config = Config.from_env(
        {
            "CSIRT_MAX_UPLOAD_MB": "5",
            "CSIRT_INTAKE_RETENTION_DAYS": "90",
            "CSIRT_MAIL_BACKEND": "SMTP",
            "CSIRT_SMTP_PORT": "587",
            "CSIRT_AUDIT_WORK_HOURS": "09:00-17:30",
            "CSIRT_DB_MAX_OVERFLOW": "0",
        },
        instance_path=tmp_path,
    )
    assert config.max_upload_mb == 5
    assert config.intake_retention_days == 90
    assert config.mail_backend == "smtp"
    assert config.smtp_port == 587
    assert (config.audit_work_start, config.audit_work_end) == (time(9), time(17, 30))
    assert config.db_max_overflow == 0
    assert config.db_pool_size is None


def test_one_connection_in_all_is_refused_on_postgresql(tmp_path: Path):
    """A report's first submission on PostgreSQL takes a second, short connection (the shared
    intake budget): with one connection in all it waited for itself 30 s and answered 500."""
    one = {"CSIRT_DB_POOL_SIZE": "1", "CSIRT_DB_MAX_OVERFLOW": "0"}
    postgres = {"CSIRT_DATABASE_URL": "postgresql+psycopg://csirt@127.0.0.1/csirt"}
    with pytest.raises(ConfigError) as caught:
        Config.from_env({**one, **postgres}, instance_path=tmp_path)
    assert caught.value.variable == "CSIRT_DB_POOL_SIZE"
    assert Config.from_env(
        {**one, "CSIRT_DB_MAX_OVERFLOW": "1", **postgres}, instance_path=tmp_path
    )
    assert Config.from_env({**one, "CSIRT_DB_POOL_SIZE": "2", **postgres}, instance_path=tmp_path)
    assert Config.from_env(one, instance_path=tmp_path).db_pool_size == 1  # SQLite: one writer


def test_a_bad_intake_setting_stops_the_app(tmp_path: Path):
    """What the README promises: the intake no longer falls back on a bad value."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, CSIRT_INTAKE_HASH_SLOTS="two", CSIRT_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "csirt"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "CSIRT_INTAKE_HASH_SLOTS" in result.stderr


def test_the_log_mail_backend_keeps_its_former_name(tmp_path: Path):
    assert Config.from_env({}, instance_path=tmp_path).mail_backend == "log"
    old = Config.from_env({"CSIRT_MAIL_BACKEND": "console"}, instance_path=tmp_path)
    assert old.mail_backend == "log"
