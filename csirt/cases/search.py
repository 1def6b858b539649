"""Full-text search over everything written on a case, through one bigram index on both backends.

What is searched: the case's title, summary and ``involved`` list, its notes, timeline events,
affected data sets (name and holding department), tags, observables (value, description, tags,
source) and ATT&CK techniques (id and name) (:data:`SOURCES`). Each text is
normalised (NFKC, case-folded, white space made one space) and kept in ``case_search_docs``
(one row per text, naming its kind and record); its overlapping two-character terms go to
``case_search_terms``, one row per *case* and bigram. Japanese has no spaces between words, so
bigrams are the usual unit; they serve Latin substrings too.

A query is split at spaces into words; a case matches when, for every word, one of its texts
holds the word as typed (a correlated ``EXISTS ... LIKE`` over the case's few texts: no false hit
from bigrams spread over two texts or out of order), which implies that it holds every bigram of
the word. The bigrams choose which cases are checked at all:

- the word's bigrams are first counted in ``case_search_terms``, each only up to :data:`RARE`
  (a short scan of the primary key ``(term, case_id)``);
- if one bigram is rarer than that, the cases holding it are read first (an index-only range
  scan) and are the only candidates: a rare word costs its few candidates;
- if every bigram is common, each case is checked in the list's order (newest first) by one
  primary-key seek per bigram before its texts are read, and the check stops with the page,
  so a common word costs about one page of seeks, not a count over every case. The checks are
  scalar subqueries, which SQLite and PostgreSQL both run row by row (PostgreSQL would turn an
  EXISTS into a semi-join over the whole table).

A one-character word has no bigram: it is looked for with ``LIKE`` in the texts of the newest
:data:`SINGLE_CHARACTER_CASES` cases only (a bounded set).

Why one term row per case and not per text: a case's timeline repeats the same bigrams in many
events; per case, the table is a fraction of the size and the ``GROUP BY case_id`` needs no
join to reach the case. The texts table gives the per-text precision back where it is cheap.

The index is kept by :func:`after_flush`, a session hook (``csirt/wiring.py`` SESSION_HOOKS):
whichever service adds, edits or deletes (also softly, by moving the row to its history) a
searchable record, that record's text and its new bigrams are written in the same transaction
(:func:`refresh`: work in proportion to the change, not to the case). ``csirt search reindex``,
migration 0020_search and the CSV import (Core INSERTs the hook does not see) rebuild whole
cases (:func:`rebuild`), dropping bigrams that no text holds any more.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, select
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import get_history

from config import DEFAULT_PLAYBOOKS
from csirt.cases.models import (
    AffectedDataset,
    Case,
    CaseSearchDoc,
    CaseSearchTerm,
    CaseTag,
    Note,
    TimelineEvent,
)
from csirt.catalog import load_catalog
from csirt.catalog.current import current_catalog
from csirt.observables.models import AttackTag, Observable

_SPACE = re.compile(r"\s+")
MAX_WORDS = 8
MAX_GRAMS = 12  # bigrams of one word counted to choose how to search
RARE = 2000  # a bigram held by fewer cases drives the search
SINGLE_CHARACTER_CASES = 5000  # a one-character word is looked for in the newest cases only
BATCH = 5000


def joined(values: Sequence[object]) -> str:
    """The searched columns of a record as one text (lists one item a line)."""
    return "\n".join(_flat(value) for value in values)


def technique_text(values: Sequence[object]) -> str:
    """An ATT&CK technique id with its name from the catalog (the app's, else the default)."""
    technique = str(values[0])
    if has_app_context():
        matrix = current_catalog().attack
    else:  # migration: the playbooks shipped with csirt
        matrix = load_catalog(Path(DEFAULT_PLAYBOOKS)).attack
    found = matrix.get(technique)
    return f"{technique} {found.name}" if found else technique


@dataclass(frozen=True)
class Source:
    """A kind of searchable record: its model, the columns searched, and a label for the hit."""

    kind: str
    model: type[Any]
    columns: tuple[str, ...]
    label: Any  # a lazy gettext string
    case_column: str = "case_id"
    text: Callable[[Sequence[object]], str] = joined


SOURCES: tuple[Source, ...] = (
    Source("title", Case, ("title",), _l("Title"), "id"),
    Source("summary", Case, ("summary",), _l("Summary"), "id"),
    Source("involved", Case, ("involved",), _l("Involved"), "id"),
    Source("note", Note, ("body",), _l("Case note")),
    Source("timeline", TimelineEvent, ("title", "description", "actor", "source"), _l("Timeline")),
    Source("dataset", AffectedDataset, ("name", "holder"), _l("Affected data set")),
    Source("tag", CaseTag, ("tag",), _l("Tag")),
    Source("observable", Observable, ("value", "description", "tags", "source"), _l("Observable")),
    Source("attack", AttackTag, ("technique",), _l("ATT&CK technique"), text=technique_text),
)
LABELS: dict[str, Any] = {source.kind: source.label for source in SOURCES}


def normalise(text: str) -> str:
    """NFKC, case-folded, white space collapsed, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _flat(value: object) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(str(item) for item in value)
    return "" if value is None else str(value)


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
    """The bigrams a query word needs, or (empty, the character) for a one-character word."""
    norm = normalise(query)
    if len(norm) == 1:
        return set(), norm
    return {norm[i : i + 2] for i in range(len(norm) - 1)}, None


def query_words(query: str) -> list[str]:
    """The distinct words of a query (at most :data:`MAX_WORDS`), normalised."""
    words: list[str] = []
    for word in normalise(query).split(" "):
        if word and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _row_by_row(query: Any) -> ColumnElement[bool]:
    """True when the correlated ``query`` finds a row. A scalar subquery, not EXISTS: PostgreSQL
    would turn EXISTS into a semi-join over the whole table, while a scalar subquery runs row by
    row in the list's order (newest first) and stops with the page, as SQLite runs both."""
    return and_(query.limit(1).scalar_subquery().is_not(None))


def _holds(word: str) -> ColumnElement[bool]:
    """One of the case's texts holds the word."""
    return _row_by_row(
        select(CaseSearchDoc.id).where(
            CaseSearchDoc.case_id == Case.id, CaseSearchDoc.text.like(_like(word), escape="\\")
        )
    )


def _capped_counts(session: Session, grams: list[str]) -> list[int]:
    """How many cases hold each bigram, counted up to :data:`RARE` (one short index scan each)."""
    counts = [
        select(func.count())
        .select_from(
            select(CaseSearchTerm.case_id).where(CaseSearchTerm.term == gram).limit(RARE).subquery()
        )
        .scalar_subquery()
        for gram in grams
    ]
    return [int(n) for n in session.execute(select(*counts)).one()]


def _word_clause(session: Session, word: str) -> ColumnElement[bool]:
    grams, single = query_terms(word)
    if single is not None:
        newest = select(Case.id).order_by(Case.id.desc()).limit(SINGLE_CHARACTER_CASES)
        return and_(Case.id.in_(newest), _holds(word))
    ordered = sorted(grams)
    if len(ordered) > MAX_GRAMS:  # a long word: a sample chooses (the LIKE checks it all)
        ordered = [ordered[i * len(ordered) // MAX_GRAMS] for i in range(MAX_GRAMS)]
    counts = _capped_counts(session, ordered)
    by_rarity = [gram for _n, gram in sorted(zip(counts, ordered, strict=True))]
    if min(counts) < RARE:
        # The rarest bigram names few cases: they are the candidates (the LIKE implies the
        # rest), read first so that both planners look up just these ids.
        candidates = list(
            session.scalars(
                select(CaseSearchTerm.case_id).where(CaseSearchTerm.term == by_rarity[0])
            )
        )
        return and_(Case.id.in_(candidates), _holds(word))
    # Every bigram is common: one primary-key seek per bigram and case, newest first, rarest
    # bigram first, and the LIKE only where they all are; the page fills early.
    seeks = [
        _row_by_row(
            select(CaseSearchTerm.case_id).where(
                CaseSearchTerm.term == gram, CaseSearchTerm.case_id == Case.id
            )
        )
        for gram in by_rarity
    ]
    return and_(*seeks, _holds(word))


def search_filter(session: Session, query: str) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` for the query (need-to-know is the caller's clause)."""
    words = query_words(query)
    if not words:
        return and_(Case.id.is_(None))
    return and_(*(_word_clause(session, word) for word in words))


def hit_sources(session: Session, query: str, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per case of a result page, the kinds of text that hold a word of the query."""
    words = query_words(query)
    if not words or not case_ids:
        return {}
    order = {source.kind: i for i, source in enumerate(SOURCES)}
    found: dict[int, set[str]] = {}
    for word in words:
        rows = session.execute(
            select(CaseSearchDoc.case_id, CaseSearchDoc.kind)
            .where(
                CaseSearchDoc.case_id.in_(case_ids),
                CaseSearchDoc.text.like(_like(word), escape="\\"),
            )
            .distinct()
        )
        for case_id, kind in rows:
            found.setdefault(case_id, set()).add(kind)
    return {
        case_id: sorted(kinds, key=lambda kind: order.get(kind, len(order)))
        for case_id, kinds in found.items()
    }


def _documents(connection: Connection, ids: list[int]) -> dict[int, dict[tuple[str, int], str]]:
    """The normalised texts of these cases, keyed by (kind, source id)."""
    docs: dict[int, dict[tuple[str, int], str]] = {case_id: {} for case_id in ids}
    for source in SOURCES:
        model = source.model
        case_column = getattr(model, source.case_column)
        columns = [getattr(model, name) for name in source.columns]
        for row in connection.execute(
            select(case_column, model.id, *columns).where(case_column.in_(ids))
        ):
            text = normalise(source.text(row[2:]))
            if text:
                docs[row[0]][(source.kind, row[1])] = text
    return docs


def rebuild(connection: Connection, case_ids: Iterable[int]) -> None:
    """Bring the texts and terms of these cases in line with their records (writes only diffs)."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    wanted = _documents(connection, ids)
    stored: dict[int, dict[tuple[str, int], tuple[int, str]]] = {case_id: {} for case_id in ids}
    for doc_id, case_id, kind, source_id, text in connection.execute(
        select(
            CaseSearchDoc.id,
            CaseSearchDoc.case_id,
            CaseSearchDoc.kind,
            CaseSearchDoc.source_id,
            CaseSearchDoc.text,
        ).where(CaseSearchDoc.case_id.in_(ids))
    ):
        stored[case_id][(kind, source_id)] = (doc_id, text)
    old_terms: dict[int, set[str]] = {case_id: set() for case_id in ids}
    for term, case_id in connection.execute(
        select(CaseSearchTerm.term, CaseSearchTerm.case_id).where(CaseSearchTerm.case_id.in_(ids))
    ):
        old_terms[case_id].add(term)
    drop_docs: list[int] = []
    new_docs: list[dict[str, object]] = []
    new_terms: list[dict[str, object]] = []
    drop_terms: list[tuple[int, list[str]]] = []
    for case_id in ids:
        for key, (doc_id, text) in stored[case_id].items():
            if wanted[case_id].get(key) != text:
                drop_docs.append(doc_id)
        for (kind, source_id), text in wanted[case_id].items():
            if stored[case_id].get((kind, source_id), (0, None))[1] != text:
                new_docs.append(
                    {"case_id": case_id, "kind": kind, "source_id": source_id, "text": text}
                )
        terms = terms_of(wanted[case_id].values())
        new_terms += [{"term": t, "case_id": case_id} for t in sorted(terms - old_terms[case_id])]
        gone = sorted(old_terms[case_id] - terms)
        if gone:
            drop_terms.append((case_id, gone))
    _in_batches(connection, delete(CaseSearchDoc), CaseSearchDoc.id, drop_docs)
    for case_id, gone in drop_terms:
        _in_batches(
            connection,
            delete(CaseSearchTerm).where(CaseSearchTerm.case_id == case_id),
            CaseSearchTerm.term,
            gone,
        )
    for rows, table in ((new_docs, CaseSearchDoc), (new_terms, CaseSearchTerm)):
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start : start + BATCH])


def _in_batches(connection: Connection, statement: Any, column: Any, values: list[Any]) -> None:
    for start in range(0, len(values), 500):
        connection.execute(statement.where(column.in_(values[start : start + 500])))


def reindex(session: Session, case_ids: Iterable[int]) -> None:
    """Rebuild the search index of these cases in the session's transaction."""
    rebuild(session.connection(), case_ids)


def case_ids_after(connection: Connection, last: int, batch: int) -> list[int]:
    """The next ``batch`` case ids above ``last``, in order."""
    query = select(Case.id).where(Case.id > last).order_by(Case.id).limit(batch)
    return list(connection.scalars(query))


def reindex_all(connection: Connection, batch: int = 500) -> int:
    """Rebuild the index of every case, ``batch`` cases at a time; returns the number of cases."""
    done = last = 0
    while ids := case_ids_after(connection, last, batch):
        rebuild(connection, ids)
        done += len(ids)
        last = ids[-1]
    return done


_WATCHED: dict[type[Any], tuple[str, ...]] = {}
for _source in SOURCES:
    _WATCHED[_source.model] = _WATCHED.get(_source.model, ()) + _source.columns


def refresh(connection: Connection, touched: Mapping[type[Any], set[int]]) -> None:
    """Bring the texts of these records (model -> record ids) up to date and add the bigrams
    they bring. Work in proportion to what changed, not to the case: a bigram that no text of
    the case holds any more is left behind (harmless: it only makes the case a candidate, which
    the LIKE check then rejects); ``csirt search reindex`` drops such leftovers."""
    wanted: dict[tuple[str, int], tuple[int, str]] = {}
    stored: dict[tuple[str, int], tuple[int, int, str]] = {}
    for source in SOURCES:
        ids = sorted(touched.get(source.model, ()))
        if not ids:
            continue
        model = source.model
        columns = [getattr(model, name) for name in source.columns]
        for row in connection.execute(
            select(getattr(model, source.case_column), model.id, *columns).where(model.id.in_(ids))
        ):
            text = normalise(source.text(row[2:]))
            if text:
                wanted[(source.kind, row[1])] = (row[0], text)
        for doc_id, case_id, source_id, text in connection.execute(
            select(
                CaseSearchDoc.id, CaseSearchDoc.case_id, CaseSearchDoc.source_id, CaseSearchDoc.text
            ).where(CaseSearchDoc.kind == source.kind, CaseSearchDoc.source_id.in_(ids))
        ):
            stored[(source.kind, source_id)] = (doc_id, case_id, text)
    drop = [doc_id for key, (doc_id, *now) in stored.items() if wanted.get(key) != tuple(now)]
    add = {key: value for key, value in wanted.items() if stored.get(key, (0,))[1:] != value}
    _in_batches(connection, delete(CaseSearchDoc), CaseSearchDoc.id, drop)
    if not add:
        return
    connection.execute(
        insert(CaseSearchDoc),
        [
            {"case_id": case_id, "kind": kind, "source_id": source_id, "text": text}
            for (kind, source_id), (case_id, text) in add.items()
        ],
    )
    grams: dict[int, set[str]] = {}
    for case_id, text in add.values():
        grams.setdefault(case_id, set()).update(terms_of([text]))
    for case_id, needed in grams.items():
        have = set(
            connection.scalars(
                select(CaseSearchTerm.term).where(
                    CaseSearchTerm.case_id == case_id, CaseSearchTerm.term.in_(sorted(needed))
                )
            )
        )
        missing = sorted(needed - have)
        if missing:
            connection.execute(
                insert(CaseSearchTerm), [{"term": t, "case_id": case_id} for t in missing]
            )


def _touched(session: Session) -> dict[type[Any], set[int]]:
    touched: dict[type[Any], set[int]] = {}
    for obj in (*session.new, *session.deleted, *session.dirty):
        columns = _WATCHED.get(type(obj))
        record_id = getattr(obj, "id", None)
        if columns is None or not isinstance(record_id, int):
            continue
        if obj in session.dirty and not any(
            get_history(obj, name).has_changes() for name in columns
        ):
            continue
        touched.setdefault(type(obj), set()).add(record_id)
    return touched


def after_flush(session: Session, _context: UOWTransaction) -> None:
    """Session hook: refresh the texts of every searchable record that was just added, changed
    or deleted (also softly, by moving it to its history), whichever service did it."""
    touched = _touched(session)
    if touched:
        refresh(session.connection(), touched)
