"""SIGKILL the server in the middle of a load; after a restart nothing is lost or half-written.

20 submitters post reports and 5 console clients read the case list (and now and then open a
case) for about 10 s against gunicorn on a migrated SQLite file (loopback only); then master and
workers are killed at once. The full-size run (200/20, one minute): ``python -m bench.load_crash``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load_crash import print_figures, run_crash

pytestmark = pytest.mark.slow


def test_a_killed_server_loses_no_receipt_and_leaves_a_consistent_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # At least 10 s, and on a busy machine (another suite beside this one) until the load has
    # done enough to prove something: the kill then comes mid-load as always.
    result = run_crash(
        submitters=20,
        consoles=5,
        load_seconds=10,
        workdir=tmp_path,
        enough=lambda seen: len(seen.receipts) >= 20 and seen.console_reads >= 2,
        max_seconds=120,
    )
    with capsys.disabled():
        print()
        print_figures(result)
    assert len(result.receipts) >= 20, "the load issued too few receipts to prove anything"
    assert result.console_reads >= 2
    assert result.server_errors == 0, (result.server_error_paths, result.server_log_tail)
    assert result.receipts_failing_after_restart == 0
    assert result.inconsistencies == []
    assert result.audit_verify_rc == 0, result.audit_verify_output
