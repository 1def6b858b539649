from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from csirt.triage import Rules, load_rules
from csirt.yamlfile import playbooks_dir


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules(playbooks_dir())


@pytest.fixture(scope="session")
def tokyo() -> ZoneInfo:
    return ZoneInfo("Asia/Tokyo")
