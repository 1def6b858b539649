"""The web layer's one way to load a case: need-to-know checked, else 404 (HTML or problem)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from csirt.cases.models import Case
from csirt.cases.service import CaseNotFoundError, get_case_for
from csirt.db import get_session


def case_or_404(case_id: int) -> Case:
    """The case if the signed-in user may see it; otherwise 404, the same as a missing case."""
    try:
        return get_case_for(get_session(), current_user, case_id)
    except CaseNotFoundError:
        abort(404)
