"""Full-text search over case titles, summaries and notes through a bigram index.

Each text is normalised (NFKC, case-folded, runs of white space made one space) and cut into
overlapping two-character terms; a query matches the cases holding every term of the query.
Japanese has no spaces between words, so bigrams are the usual unit; they serve Latin
substrings too. The rows live in ``case_search_terms`` and are refreshed automatically when a
case's title or summary, or one of its notes, is flushed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history

from csirt.cases.models import Case, CaseSearchTerm, Note

_SPACE = re.compile(r"\s+")
MAX_TERM = "\U0010ffff"


def normalise(text: str) -> str:
    """NFKC, case-folded, white space collapsed, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def terms_of(texts: Iterable[str]) -> set[str]:
    """Every bigram of the texts; each text ends with a space so its last character counts."""
    grams: set[str] = set()
    for text in texts:
        norm = normalise(text)
        if not norm:
            continue
        norm += " "
        grams.update(norm[i : i + 2] for i in range(len(norm) - 1))
    grams.discard("  ")
    return grams


def query_terms(query: str) -> tuple[set[str], str | None]:
    """The bigrams a query needs, or (empty, the character) for a one-character query."""
    norm = normalise(query)
    if len(norm) == 1:
        return set(), norm
    return {norm[i : i + 2] for i in range(len(norm) - 1)}, None


def matching_case_ids(query: str) -> Any:
    """A subquery of the ids of cases matching ``query`` (index scans over the term table)."""
    grams, single = query_terms(query)
    if single is not None:
        return select(CaseSearchTerm.case_id).where(
            CaseSearchTerm.term >= single, CaseSearchTerm.term < single + MAX_TERM
        )
    if not grams:
        return select(CaseSearchTerm.case_id).where(CaseSearchTerm.term.is_(None))
    return (
        select(CaseSearchTerm.case_id)
        .where(CaseSearchTerm.term.in_(sorted(grams)))
        .group_by(CaseSearchTerm.case_id)
        .having(func.count() == len(grams))
    )


def search_filter(query: str) -> ColumnElement[bool]:
    """A WHERE clause on ``Case.id`` for the query."""
    return and_(Case.id.in_(matching_case_ids(query)))


def reindex(session: Session, case_ids: Iterable[int]) -> None:
    """Rebuild the terms of these cases from their title, summary and notes."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    connection = session.connection()
    texts: dict[int, list[str]] = {case_id: [] for case_id in ids}
    for case_id, title, summary in connection.execute(
        select(Case.id, Case.title, Case.summary).where(Case.id.in_(ids))
    ):
        texts[case_id] += [title, summary]
    for case_id, body in connection.execute(
        select(Note.case_id, Note.body).where(Note.case_id.in_(ids))
    ):
        texts[case_id].append(body)
    connection.execute(delete(CaseSearchTerm).where(CaseSearchTerm.case_id.in_(ids)))
    rows = [
        {"term": term, "case_id": case_id}
        for case_id, parts in texts.items()
        for term in sorted(terms_of(parts))
    ]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(CaseSearchTerm), rows[start : start + 5000])


def _touched_case_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Case | Note) and getattr(obj, "id", None) is not None:
            ids.add(obj.id if isinstance(obj, Case) else obj.case_id)
    for obj in session.dirty:
        if isinstance(obj, Case) and any(
            get_history(obj, name).has_changes() for name in ("title", "summary")
        ):
            ids.add(obj.id)
        elif isinstance(obj, Note) and get_history(obj, "body").has_changes():
            ids.add(obj.case_id)
    for obj in session.deleted:
        if isinstance(obj, Note):
            ids.add(obj.case_id)
    return ids


def after_flush(session: Session, _context: UOWTransaction) -> None:
    """Session hook: refresh the terms of every case whose searchable text just changed."""
    ids = _touched_case_ids(session)
    if ids:
        alive = set(session.connection().scalars(select(Case.id).where(Case.id.in_(ids))))
        reindex(session, alive)
