"""Reading built documents back the way a reader (or Word) sees them."""

from __future__ import annotations

import io

import docx
from docx.document import Document
from docx.table import Table

from csirt.documents.blocks import NBSP, WORD_JOINER
from csirt.documents.builders import build_document, to_bytes
from csirt.documents.facts import CaseFacts


def roundtrip(kind: str, facts: CaseFacts, **kwargs: object) -> Document:
    """Build, save to bytes and re-open with python-docx."""
    kwargs.setdefault("draft", False)
    built = build_document(kind, facts, **kwargs)  # type: ignore[arg-type]
    return docx.Document(io.BytesIO(to_bytes(built)))


def headings(document: Document, level: int = 1) -> list[str]:
    """Texts of the paragraphs in 'Heading <level>' style, in order."""
    name = f"Heading {level}"
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == name]


def seen(text: str) -> str:
    """Text as a reader sees it: without the invisible word joiners that keep dates and
    numbers in table cells on one line."""
    return text.replace(WORD_JOINER, "").replace(NBSP, " ")


def rows(table: Table) -> list[list[str]]:
    """Cell texts of each row below the header."""
    return [[seen(cell.text) for cell in row.cells] for row in table.rows[1:]]


def header(table: Table) -> list[str]:
    """Cell texts of the header row."""
    return [seen(cell.text) for cell in table.rows[0].cells]


def body_text(document: Document) -> str:
    """All paragraph and table text of the body."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return seen("\n".join(parts))


def title(document: Document) -> str:
    """Text of the first Title paragraph."""
    return next(p.text for p in document.paragraphs if p.style.name == "Title")
