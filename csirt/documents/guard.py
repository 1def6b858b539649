"""Public-text guard: refuse a document whose text could identify a reporter or leak personal data.

Pure: the caller collects the forbidden strings (reporter identity, names and contacts from the
case's sealed or internal data, receipts) into `ForbiddenTerms`; this module never sees where
they came from and never logs them. Findings carry a masked excerpt only.

Matching is done on NFKC-normalised, case-folded text with white space removed, so that
full-width digits (０９０), full-width letters and spaced-out names (山 田　太 郎) are caught.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FindingKind(StrEnum):
    """What the guard found."""

    REPORTER_IDENTITY = "reporter_identity"
    SEALED_DATA = "sealed_data"
    RECEIPT = "receipt"
    PHONE = "phone"
    EMAIL = "email"
    MY_NUMBER = "my_number"


@dataclass(frozen=True)
class GuardFinding:
    """One forbidden thing in one section; `excerpt` shows context with the match masked."""

    section: str
    kind: FindingKind
    excerpt: str


@dataclass(frozen=True)
class ForbiddenTerms:
    """Strings that must not appear in public text, and the contacts that may.

    `allowed_contacts` is the organisation's own public phone numbers and e-mail addresses
    (CaseFacts.organisation.contact): those are not reported by the pattern checks.
    """

    reporter_identity: tuple[str, ...] = ()
    sealed_terms: tuple[str, ...] = ()
    receipts: tuple[str, ...] = ()
    allowed_contacts: tuple[str, ...] = field(default=())


class PublicTextRefusedError(ValueError):
    """An export was refused because the text holds forbidden content."""

    def __init__(self, findings: list[GuardFinding]) -> None:
        self.findings = findings
        where = ", ".join(f"{f.section}: {f.kind.value}" for f in findings)
        super().__init__(f"public-text guard refused the document ({where})")


# Terms shorter than this (after normalisation) would match everywhere; a one-character
# surname is still caught as part of the full name the caller passes.
MIN_TERM_LENGTH = 2
_CONTEXT = 8
_MASK = "■"

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"
_SEP_CLASS = r"[\s\-.()" + _DASHES + r"]"
_PHONE_CANDIDATE = re.compile(
    r"(?<![0-9a-z+])(\+?[0-9](?:" + _SEP_CLASS + r"{0,2}[0-9]){7,15})(?![0-9])",
)
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+", re.IGNORECASE)
# Receipts: groups of Crockford base32 separated by dashes, at least 100 bits (20 symbols).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECEIPT_CANDIDATE = re.compile(
    r"(?<![0-9a-z])[0-9a-z]{3,8}(?:[\-" + _DASHES + r"][0-9a-z]{3,8}){2,}(?![0-9a-z])",
    re.IGNORECASE,
)
_RECEIPT_MIN_SYMBOLS = 20


def normalise(text: str) -> str:
    """NFKC and case-folded: full-width letters and digits become ASCII."""
    return unicodedata.normalize("NFKC", text).casefold()


def _squeeze(text: str) -> tuple[str, list[int]]:
    """Text without white space, and for each kept character its index in `text`."""
    kept = []
    index = []
    for position, char in enumerate(text):
        if not char.isspace():
            kept.append(char)
            index.append(position)
    return "".join(kept), index


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _phone_key(text: str) -> str:
    """Digits of a phone number with +81 written as the domestic leading 0."""
    digits = _digits(text)
    if text.lstrip().startswith("+81"):
        return "0" + digits[2:]
    return digits


def crockford(text: str) -> str:
    """A receipt-like code in canonical form: upper case, I/L->1, O->0, no separators."""
    table = str.maketrans({"I": "1", "L": "1", "O": "0"})
    upper = normalise(text).upper().translate(table)
    return "".join(ch for ch in upper if ch in _CROCKFORD)


def is_my_number(digits: str) -> bool:
    """True for 12 digits whose last is the check digit of the individual number.

    Check digit (番号法施行令 / 総務省令): with P(n) the n-th digit counting from the right of
    the first eleven, Q(n) = n+1 for n <= 6 and n-5 for n >= 7; r = sum(P(n)Q(n)) mod 11;
    check = 0 when r <= 1, else 11 - r.
    """
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = digits[:11]
    total = 0
    for n in range(1, 12):
        p = int(body[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def _mask(text: str, start: int, end: int) -> str:
    before = text[max(0, start - _CONTEXT) : start]
    after = text[end : end + _CONTEXT]
    prefix = "…" if start > _CONTEXT else ""
    suffix = "…" if end + _CONTEXT < len(text) else ""
    hidden = _MASK * min(end - start, 12)
    return f"{prefix}{before}{hidden}{after}{suffix}".replace("\n", " ")


def _term_pattern(term: str) -> re.Pattern[str] | None:
    """A pattern for one forbidden term in squeezed text; digits may be split by separators."""
    squeezed, _ = _squeeze(normalise(term))
    if len(squeezed) < MIN_TERM_LENGTH:
        return None
    digits = _digits(squeezed)
    if len(digits) >= 6 and len(digits) >= len(squeezed) - 4:
        # A phone number or other number: match its digits whatever the separators.
        sep = r"[\-.()" + _DASHES + r"]*"
        return re.compile(r"(?<!\d)" + sep.join(re.escape(d) for d in digits) + r"(?!\d)")
    return re.compile(re.escape(squeezed))


def _find_terms(
    section: str,
    text: str,
    squeezed: str,
    index: list[int],
    terms: Iterable[str],
    kind: FindingKind,
) -> list[tuple[int, int, GuardFinding]]:
    found = []
    for term in terms:
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        for match in pattern.finditer(squeezed):
            start, end = index[match.start()], index[match.end() - 1] + 1
            found.append((start, end, GuardFinding(section, kind, _mask(text, start, end))))
    return found


def check_public_text(sections: Mapping[str, str], forbidden: ForbiddenTerms) -> list[GuardFinding]:
    """Every forbidden term and every phone, e-mail, My Number or receipt in the sections."""
    allowed_phones = {_phone_key(c) for c in forbidden.allowed_contacts if "@" not in c}
    allowed_emails = {normalise(c).strip() for c in forbidden.allowed_contacts if "@" in c}
    receipts = {crockford(r) for r in forbidden.receipts if crockford(r)}
    findings: list[GuardFinding] = []
    for section, raw in sections.items():
        text = normalise(raw)
        squeezed, index = _squeeze(text)
        spans: list[tuple[int, int, GuardFinding]] = []
        spans += _find_terms(
            section,
            text,
            squeezed,
            index,
            forbidden.reporter_identity,
            FindingKind.REPORTER_IDENTITY,
        )
        spans += _find_terms(
            section, text, squeezed, index, forbidden.sealed_terms, FindingKind.SEALED_DATA
        )
        spans += _find_receipts(section, text, receipts)
        for match in _EMAIL.finditer(text):
            if match.group(0) not in allowed_emails:
                spans.append(_span(section, text, match, FindingKind.EMAIL))
        for match in _PHONE_CANDIDATE.finditer(text):
            spans += _number_finding(section, text, match, allowed_phones)
        findings += _without_overlaps(spans)
    return findings


def _span(
    section: str, text: str, match: re.Match[str], kind: FindingKind
) -> tuple[int, int, GuardFinding]:
    start, end = match.span()
    return start, end, GuardFinding(section, kind, _mask(text, start, end))


def _number_finding(
    section: str, text: str, match: re.Match[str], allowed_phones: set[str]
) -> list[tuple[int, int, GuardFinding]]:
    candidate = match.group(1)
    digits = _digits(candidate)
    if is_my_number(digits):
        return [_span(section, text, match, FindingKind.MY_NUMBER)]
    international = candidate.startswith("+")
    domestic = digits.startswith("0") and len(digits) in (10, 11)
    if (international and 8 <= len(digits) <= 15) or domestic:
        if _phone_key(candidate) in allowed_phones:
            return []
        return [_span(section, text, match, FindingKind.PHONE)]
    return []


def _find_receipts(
    section: str, text: str, receipts: set[str]
) -> list[tuple[int, int, GuardFinding]]:
    """The case's receipts, and any dashed code of 100+ bits that mixes letters and digits."""
    found = []
    for match in _RECEIPT_CANDIDATE.finditer(text):
        code = crockford(match.group(0))
        looks_random = any(c.isdigit() for c in code) and any(c.isalpha() for c in code)
        if code in receipts or (len(code) >= _RECEIPT_MIN_SYMBOLS and looks_random):
            found.append(_span(section, text, match, FindingKind.RECEIPT))
    return found


def _without_overlaps(
    spans: list[tuple[int, int, GuardFinding]],
) -> list[GuardFinding]:
    """Keep the first (most specific) finding of overlapping spans: terms before patterns."""
    kept: list[tuple[int, int, GuardFinding]] = []
    for start, end, finding in spans:
        if any(start < k_end and k_start < end for k_start, k_end, _ in kept):
            continue
        kept.append((start, end, finding))
    kept.sort(key=lambda item: item[0])
    return [finding for _, _, finding in kept]


def forbidden_for_case(
    *,
    reporter_identity: Iterable[str] = (),
    sealed_terms: Iterable[str] = (),
    receipts: Iterable[str] = (),
    public_phone: str = "",
    public_email: str = "",
) -> ForbiddenTerms:
    """ForbiddenTerms with the organisation's public phone and e-mail allowed."""
    allowed = tuple(x for x in (public_phone, public_email) if x)
    return ForbiddenTerms(
        reporter_identity=tuple(reporter_identity),
        sealed_terms=tuple(sealed_terms),
        receipts=tuple(receipts),
        allowed_contacts=allowed,
    )
