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
