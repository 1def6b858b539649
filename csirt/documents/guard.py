"""Public-text guard: refuse a document whose text could identify a reporter or leak personal data.

Pure: the caller collects the forbidden strings (reporter identity, names and contacts from the
case's sealed or internal data, receipts) into `ForbiddenTerms`; this module never sees where
they came from and never logs them. Findings carry a masked excerpt only.

Matching is done on normalised text (:func:`normalise`): NFKC, case-folded, kanji digits
(〇一二三四五六七八九) as ASCII digits, ``[at]``/``(at)``/``＠`` and spaces around ``@`` as
``@``; numbers are matched by their digits whatever the separators (spaces, dashes, slashes,
dots, brackets), so ``090 - 1234 - 5678``, ``090/1234/5678`` and ``〇九〇‐一二三四‐五六七八``
are all one phone number, and a receipt is found with any spacing. Names are matched as whole
tokens of at least :data:`MIN_TERM_LENGTH` characters, spaced-out letters included: the
username ``pr`` is never found inside "April", nor a display name 検証委員 inside 検証委員会.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from csirt.vault.errors import ReceiptFormatError
from csirt.vault.receipts import RECEIPT_CHARS, RECEIPT_MIN_MIXED, normalize_receipt


class FindingKind(StrEnum):
    """What the guard found."""

    REPORTER_IDENTITY = "reporter_identity"
    SEALED_DATA = "sealed_data"
    RECEIPT = "receipt"
    PHONE = "phone"
    EMAIL = "email"
    MY_NUMBER = "my_number"


# What a lead may let pass as a false positive: names and contact patterns. Never the reporter's
# identity, a receipt or an individual number (My Number).
OVERRIDABLE = frozenset({FindingKind.SEALED_DATA, FindingKind.PHONE, FindingKind.EMAIL})


@dataclass(frozen=True)
class GuardFinding:
    """One forbidden thing in one section; `excerpt` shows context with the match masked.

    `matched` is the matched text (normalised) for the person who wrote the section; it is
    never written to a log or the audit trail (see :func:`override_key`).
    """

    section: str
    kind: FindingKind
    excerpt: str
    matched: str = field(default="", compare=False)

    @property
    def overridable(self) -> bool:
        return self.kind in OVERRIDABLE

    @property
    def key(self) -> str:
        """What an override form sends back (see :func:`override_key`)."""
        return override_key(self)


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


# Terms shorter than this (after normalisation, without spaces) would match everywhere; a short
# surname is still caught as part of the full name the caller passes.
MIN_TERM_LENGTH = 3
_CONTEXT = 8
_MASK = "■"

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70\u301c\uff5e~"
_SEP_CLASS = r"[\s\-./()\[\]" + _DASHES + r"]"
_PHONE_CANDIDATE = re.compile(
    r"(?<![0-9a-z+])(\+?[0-9](?:" + _SEP_CLASS + r"{0,3}[0-9]){7,15})(?![0-9])",
)
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+", re.IGNORECASE)
# Receipts: groups of Crockford base32 separated by dashes, at least 100 bits (20 symbols).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECEIPT_CANDIDATE = re.compile(
    r"(?<![0-9a-z])[0-9a-z]{3,8}(?:[\-" + _DASHES + r"][0-9a-z]{3,8}){2,}(?![0-9a-z])",
    re.IGNORECASE,
)
_RECEIPT_MIN_SYMBOLS = 20
# Runs of letter/digit tokens with any spacing: a receipt of this app is 24 symbols whose last
# is a check symbol (csirt.vault.receipts), so it is recognised however it was spaced.
_TOKEN_RUN = re.compile(r"(?<![0-9a-z])[0-9a-z]+(?:[\s\-" + _DASHES + r"]{1,3}[0-9a-z]+)*")

_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")
_AT = re.compile(r"\s*(?:@|[\[(]\s*at\s*[\])])\s*")
_DOT = re.compile(r"\s*[\[(]\s*dot\s*[\])]\s*")
_HAN_KANA = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u30a0-\u30ff\u31f0-\u31ff々"
# After a Japanese name: a title or honorific (kanji) still ends the name; any other kanji or
# katakana continues a longer word (検証委員 in 検証委員会).
_NAME_SUFFIXES = (
    "氏|様|殿|君|さん|くん|ちゃん|先生|議員|市長|副市長|局長|部長|次長|課長|室長|所長|係長|"
    "主査|主任|主幹|主事|参事|補佐|職員|委員|担当|本人|宅|ら|等"
)


def normalise(text: str) -> str:
    """NFKC, case-folded, kanji digits as ASCII digits, ``[at]``/``(at)``/``＠`` as ``@``."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_KANJI_DIGITS)
    return _DOT.sub(".", _AT.sub("@", text))


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


def _term_pattern(term: str) -> tuple[re.Pattern[str], bool] | None:
    """A pattern for one forbidden term, and whether it runs on squeezed text.

    A number runs on squeezed text (its digits whatever the separators); a name or an address
    runs on the normalised text as a whole token: letters may be spaced out, but an ASCII term
    must not touch other letters or digits, and a Japanese one must not run on into a longer
    word (a title or honorific may follow).
    """
    squeezed, _ = _squeeze(normalise(term))
    if len(squeezed) < MIN_TERM_LENGTH:
        return None
    digits = _digits(squeezed)
    if len(digits) >= 6 and len(digits) >= len(squeezed) - 4:
        # A phone number or other number: match its digits whatever the separators.
        sep = r"[\-./()\[\]" + _DASHES + r"]*"
        pattern = r"(?<!\d)" + sep.join(re.escape(d) for d in digits) + r"(?!\d)"
        return re.compile(pattern), True
    body = r"\s*".join(re.escape(ch) for ch in squeezed)
    before = r"(?<![0-9a-z])" if squeezed[0].isascii() and squeezed[0].isalnum() else ""
    last = squeezed[-1]
    if last.isascii() and last.isalnum():
        after = r"(?![0-9a-z])"
    elif re.match("[" + _HAN_KANA + "]", last):
        after = r"(?:(?=\s*(?:" + _NAME_SUFFIXES + r"))|(?!\s*[" + _HAN_KANA + r"]))"
    else:
        after = ""
    return re.compile(before + body + after), False


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
        compiled = _term_pattern(term)
        if compiled is None:
            continue
        pattern, on_squeezed = compiled
        for match in pattern.finditer(squeezed if on_squeezed else text):
            if on_squeezed:
                start, end = index[match.start()], index[match.end() - 1] + 1
            else:
                start, end = match.span()
            found.append((start, end, _finding(section, kind, text, start, end)))
    return found


def _finding(section: str, kind: FindingKind, text: str, start: int, end: int) -> GuardFinding:
    return GuardFinding(section, kind, _mask(text, start, end), text[start:end].strip())


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
    return start, end, _finding(section, kind, text, start, end)


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
    """The case's receipts, any dashed code of 100+ bits that mixes letters and digits, and any
    receipt of this app (24 symbols with a valid check symbol) however it is spaced."""
    found = []
    for match in _RECEIPT_CANDIDATE.finditer(text):
        code = crockford(match.group(0))
        looks_random = any(c.isdigit() for c in code) and any(c.isalpha() for c in code)
        if code in receipts or (len(code) >= _RECEIPT_MIN_SYMBOLS and looks_random):
            found.append(_span(section, text, match, FindingKind.RECEIPT))
    lengths = {len(r) for r in receipts} | {RECEIPT_CHARS}
    for run in _TOKEN_RUN.finditer(text):
        tokens = list(re.finditer(r"[0-9a-z]+", run.group(0)))
        for first in range(len(tokens)):
            symbols = 0
            for last in range(first, len(tokens)):
                symbols += len(tokens[last].group(0))
                if symbols > max(lengths):
                    break
                if symbols not in lengths:
                    continue
                start = run.start() + tokens[first].start()
                end = run.start() + tokens[last].end()
                if _is_receipt(text[start:end], receipts, tokens[first : last + 1]):
                    found.append(
                        (start, end, _finding(section, FindingKind.RECEIPT, text, start, end))
                    )
    return found


def _is_receipt(candidate: str, receipts: set[str], tokens: list[re.Match[str]]) -> bool:
    """A known receipt, or a checked receipt of this app as people write one: groups of one
    size (the last may be shorter) and the digits every receipt has (new_receipt never issues
    one without them), so that a run of ordinary words never passes by the 1-in-32 chance of a
    valid check symbol."""
    code = crockford(candidate)
    if code in receipts:
        return True
    sizes = {len(t.group(0)) for t in tokens[:-1]}
    uniform = len(sizes) <= 1 and len(tokens[-1].group(0)) <= max(sizes | {24})
    if (
        len(code) != RECEIPT_CHARS
        or not uniform
        or sum(c.isdigit() for c in code) < RECEIPT_MIN_MIXED
    ):
        return False
    try:
        normalize_receipt(code)
    except ReceiptFormatError:
        return False
    return True


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


def override_key(finding: GuardFinding) -> str:
    """What an override names and the audit trail keeps: a digest, never the text itself."""
    digest = hashlib.sha256(f"{finding.kind.value}\0{finding.matched}".encode()).hexdigest()
    return digest[:16]


def apply_override(
    findings: Iterable[GuardFinding], override: Iterable[str]
) -> tuple[list[GuardFinding], list[GuardFinding]]:
    """Split findings into (still refused, let pass): a lead's override names findings by
    their matched text or :func:`override_key`; only :data:`OVERRIDABLE` kinds can pass."""
    wanted = {normalise(o).strip() for o in override if o and o.strip()}
    refused: list[GuardFinding] = []
    passed: list[GuardFinding] = []
    for finding in findings:
        named = finding.matched in wanted or override_key(finding) in wanted
        (passed if named and finding.overridable else refused).append(finding)
    return refused, passed


def describe(findings: Iterable[GuardFinding]) -> list[str]:
    """One line per finding naming the section, the kind and the matched text."""
    return [f"{f.section}: {f.kind.value} “{f.matched}”" for f in findings]
