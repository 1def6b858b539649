"""The one enum of audit actions: unique values that fit the column, named after their value."""

from __future__ import annotations

import re

from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent


def test_no_value_is_an_alias_and_every_value_fits_and_reads_as_object_verb() -> None:
    # Two members with the same value would silently become one (an Enum alias).
    assert len(AuditAction.__members__) == len(list(AuditAction))
    width = AuditEvent.__table__.c.action.type.length
    for action in AuditAction:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", action.value), action
        assert len(action.value) <= width, action
        assert action.name == action.value.upper().replace(".", "_"), action
