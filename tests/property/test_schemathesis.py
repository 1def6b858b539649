"""Schemathesis against /api/v1/openapi.json of the "all" app (in-process WSGI, offline).

Schemathesis draws requests from the document, positive and negative; path ids point at the
seeded rows so that requests reach the handlers (random ids are the hand-written fuzzer's job).
Same oracle as the other fuzzers: no exception, no 5xx, no rows written by a refusal.
(Its lazy pytest plugin, ``from_fixture``, does not work with pytest 9, so the strategies of
each operation are driven by ``@given`` here.)
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.property.conftest import RowCounts, Targets, changed, count_example
from tests.property.strategies import has_control_characters

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.generation.modes import GenerationMode  # noqa: E402

EXAMPLES_PER_OPERATION = 8


def _free_of_known_findings(case: Any) -> bool:
    """Leave out control characters (a known finding: they crash the .docx export)."""
    return not any(
        has_control_characters(part)
        for part in (case.body, case.query, case.headers, case.path_parameters)
        if part is not None and not isinstance(part, bytes)
    )


def _fuzz_operation(operation: Any, targets: Targets, counts: Callable[[], RowCounts]) -> None:
    ids = {
        "case_id": targets.case_id,
        "document_id": targets.document_id,
        "team_id": targets.team_id,
        "evidence_id": targets.evidence_id,
    }
    wanted = {name: ids[name] for name in re.findall(r"{(\w+)}", operation.path) if name in ids}
    headers = {"Authorization": f"Bearer {targets.token}"}
    fixed_headers = {"X-Receipt": targets.receipt} if "mailbox" in operation.path else None
    strategy = st.one_of(
        [
            operation.as_strategy(mode, path_parameters=wanted, headers=fixed_headers)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    ).filter(_free_of_known_findings)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        before = counts()
        try:
            response = case.call(headers=headers)
        except Exception:  # any exception escaping the app is the finding
            pytest.fail(
                f"unhandled exception for {case.method} {case.formatted_path}:\n"
                f"{traceback.format_exc()}"
            )
        status = response.status_code
        count_example(f"schemathesis, answered {status // 100}xx")
        assert status < 500, (case.method, case.formatted_path, case.body, response.text[:600])
        if 400 <= status < 500:
            assert changed(before, counts()) == {}, (case.method, case.formatted_path, case.body)

    fuzz()


@pytest.mark.slow
def test_schemathesis_over_the_openapi_document(
    app: Flask, targets: Targets, counts: Callable[[], RowCounts]
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        if operation.path.endswith("/content"):
            # A stored-file download: schemathesis's WSGI transport never closes the response,
            # which leaks the file (ResourceWarning); test_api_fuzz covers this operation.
            continue
        _fuzz_operation(operation, targets, counts)
