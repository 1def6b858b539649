"""Which tests the PostgreSQL pass leaves out (tests/conftest.py, ``touches_database``).

The rule reads fixture names; this test reads the sources: no test left out may itself, or
through any fixture it uses, name the database under test or the backend.
"""

from __future__ import annotations

import inspect
import re

import pytest

from tests.conftest import COLLECTED, DATABASE_FIXTURES, touches_database

# What only code that reaches the database under test (or picks the backend) names.
REACHES_THE_DATABASE = re.compile(
    r"(?<!\.)\bdatabase_url\b|\bmigrated_engine\b|\bBACKEND\b|CSIRT_TEST_BACKEND|ThrowawayPostgres"
    r"|\bstory_server\b|\bpostgres_available\b"
)

# Tests that name one of those without reaching a database, each with the reason.
NAMES_ONLY = {
    "tests/intake/test_canary.py::test_intake_code_never_reads_client_identifiers": (
        "reads CSIRT_TEST_BACKEND only to check that it names one of the two backends"
    ),
}


def _sources(item: pytest.Item) -> list[tuple[str, str]]:
    """(name, source) of the test function and of every fixture function it uses."""
    found = []
    function = getattr(item, "function", None)
    if function is not None:
        found.append((item.name, inspect.getsource(function)))
    for name, definitions in item._fixtureinfo.name2fixturedefs.items():  # type: ignore[attr-defined]
        for definition in definitions:
            try:
                found.append((name, inspect.getsource(definition.func)))
            except (OSError, TypeError):  # pytest's own fixtures (tmp_path, capsys...)
                continue
    return found


def test_no_test_left_out_of_the_postgres_pass_reaches_the_database(
    request: pytest.FixtureRequest,
) -> None:
    items = request.config.stash[COLLECTED]
    left_out = [
        item for item in items if not touches_database(item) and item.nodeid not in NAMES_ONLY
    ]
    offenders = [
        f"{item.nodeid}: {name}"
        for item in left_out
        for name, source in _sources(item)
        if REACHES_THE_DATABASE.search(source)
    ]
    assert not offenders, "\n".join(offenders)


def test_the_rule_keeps_every_test_of_an_app_a_session_or_a_server(
    request: pytest.FixtureRequest,
) -> None:
    items = request.config.stash[COLLECTED]
    reach = {"app", "client", "db_session", "connection", "make_app", "config", *DATABASE_FIXTURES}
    for item in items:
        if reach & set(getattr(item, "fixturenames", ())):
            assert touches_database(item), item.nodeid
    this = request.node
    assert not touches_database(this), "this test uses no database fixture"
