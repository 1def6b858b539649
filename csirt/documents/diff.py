"""Differences between two versions of a document: changed lines, marked character by character
(Japanese has no spaces between words)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.documents.builders import SECTIONS
from csirt.documents.errors import DocumentValidationError
from csirt.documents.models import Document, DocumentVersion


@dataclass(frozen=True)
class Segment:
    """A run of unchanged or changed text (deleted on the old side, inserted on the new)."""

    text: str
    changed: bool


@dataclass(frozen=True)
class DiffRow:
    """One line pair: tag is equal, replace, delete or insert."""

    tag: str
    old: tuple[Segment, ...]
    new: tuple[Segment, ...]


@dataclass(frozen=True)
class SectionDiff:
    """The changed lines of one section."""

    key: str
    rows: tuple[DiffRow, ...]


def _inline(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Character-level marks (Japanese has no spaces between words)."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i2 > i1:
            left.append(Segment(old[i1:i2], tag != "equal"))
        if j2 > j1:
            right.append(Segment(new[j1:j2], tag != "equal"))
    return tuple(left), tuple(right)


def diff_versions(
    old: Mapping[str, str], new: Mapping[str, str], keys: Sequence[str]
) -> list[SectionDiff]:
    """Per section, the changed lines between two versions (unchanged sections are left out)."""
    result = []
    for key in keys:
        before = old.get(key, "").splitlines()
        after = new.get(key, "").splitlines()
        if before == after:
            continue
        rows: list[DiffRow] = []
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                rows += [
                    DiffRow("equal", (Segment(x, False),), (Segment(x, False),))
                    for x in before[i1:i2]
                ]
            elif tag == "delete":
                rows += [DiffRow("delete", (Segment(x, True),), ()) for x in before[i1:i2]]
            elif tag == "insert":
                rows += [DiffRow("insert", (), (Segment(x, True),)) for x in after[j1:j2]]
            else:
                olds, news = before[i1:i2], after[j1:j2]
                for n in range(max(len(olds), len(news))):
                    a = olds[n] if n < len(olds) else None
                    b = news[n] if n < len(news) else None
                    if a is not None and b is not None:
                        left, right = _inline(a, b)
                        rows.append(DiffRow("replace", left, right))
                    elif a is not None:
                        rows.append(DiffRow("delete", (Segment(a, True),), ()))
                    else:
                        rows.append(DiffRow("insert", (), (Segment(b or "", True),)))
        result.append(SectionDiff(key, tuple(rows)))
    return result


def diff_document(session: Session, document: Document, old: int, new: int) -> list[SectionDiff]:
    """The diff between two versions of a document."""
    before = version(session, document, old)
    after = version(session, document, new)
    return diff_versions(before.sections, after.sections, SECTIONS[document.kind])


def version(session: Session, document: Document, number: int | None = None) -> DocumentVersion:
    """One version of the document (the newest by default)."""
    wanted = document.current_version if number is None else number
    row = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == wanted
        )
    )
    if row is None:
        raise DocumentValidationError({"version": f"no version {wanted}"})
    return row
