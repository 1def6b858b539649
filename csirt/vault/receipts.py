"""Receipts: random codes a reporter can read aloud, with a check character that catches typos.

A receipt is 23 random symbols from Crockford's base32 alphabet (no I, L, O, U) plus one check
symbol, shown in six groups of four: ``7KQ2-M9XD-...``.  The check symbol is a weighted sum over
GF(32) with distinct weights per position, so every single-symbol typo and every swap of two
different symbols (adjacent or not) is caught before any hashing happens.  The check symbol is
not secret and adds no entropy; RECEIPT_BITS counts only the random symbols.
"""

from __future__ import annotations

import math
import secrets
import unicodedata

from csirt.vault.errors import ReceiptFormatError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE_OF = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's decoding rule: letters that look like digits read as those digits.
_CONFUSABLES = {"O": "0", "I": "1", "L": "1"}
# Separators people type between groups, including the katakana long-vowel mark a Japanese IME
# produces for "-" and the various Unicode dashes that survive NFKC.
_SEPARATORS = frozenset(" \t\r\n-_.\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70")

BITS_PER_SYMBOL = int(math.log2(len(ALPHABET)))
RECEIPT_GROUP = 4
RECEIPT_RANDOM_CHARS = 23
RECEIPT_CHARS = RECEIPT_RANDOM_CHARS + 1  # plus the check symbol
RECEIPT_BITS = RECEIPT_RANDOM_CHARS * BITS_PER_SYMBOL  # 115
RECEIPT_MIN_MIXED = 2  # every receipt has at least this many digits and this many letters

# GF(2^5) with the primitive polynomial x^5 + x^2 + 1; its generator x has order 31, so codes of
# up to 31 symbols get distinct non-zero position weights.
_GF_POLY = 0b100101
_GF_ORDER = 31


def _gf_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _GF_POLY
    return product


def _weights(count: int) -> list[int]:
    weights = [1]
    for _ in range(count - 1):
        weights.append(_gf_mul(weights[-1], 2))
    return weights


def _check_value(values: list[int]) -> int:
    """Return the symbol that makes the weighted sum of the whole code zero."""
    total = 0
    # Data symbol i has weight x^(i+1); the check symbol has weight x^0 = 1.
    for weight, value in zip(_weights(len(values) + 1)[1:], values, strict=True):
        total ^= _gf_mul(weight, value)
    return total


def _format(values: list[int], group: int) -> str:
    text = "".join(ALPHABET[value] for value in values)
    return "-".join(text[start : start + group] for start in range(0, len(text), group))


def generate_grouped_code(random_chars: int, group: int) -> str:
    """Return random_chars random symbols plus a check symbol, grouped by `group`."""
    if not 1 <= random_chars < _GF_ORDER:
        raise ValueError("a checked code holds between 1 and 30 random symbols")
    values = [secrets.randbelow(len(ALPHABET)) for _ in range(random_chars)]
    return _format([*values, _check_value(values)], group)


def normalize_grouped_code(text: str, random_chars: int, group: int, *, what: str) -> str:
    """Return the canonical grouped form of a typed code or raise ReceiptFormatError."""
    # The messages below never repeat what was typed: it may be a live receipt.
    compact = [
        _CONFUSABLES.get(char, char)
        for char in unicodedata.normalize("NFKC", text).upper()
        if char not in _SEPARATORS
    ]
    expected = random_chars + 1
    if len(compact) != expected:
        raise ReceiptFormatError(f"a {what} has {expected} characters, this has {len(compact)}")
    if any(char not in _VALUE_OF for char in compact):
        raise ReceiptFormatError(f"a {what} uses only the digits 0-9 and the letters A-Z except U")
    values = [_VALUE_OF[char] for char in compact]
    if _check_value(values[:-1]) != values[-1]:
        raise ReceiptFormatError(f"this {what} contains a typing error; please check it")
    return _format(values, group)


def new_receipt() -> str:
    """Return a fresh receipt of RECEIPT_BITS random bits, e.g. ``7KQ2-M9XD-...``.

    A receipt always mixes at least RECEIPT_MIN_MIXED digits and letters: the public-text guard
    (csirt.documents.guard) tells a receipt from a run of ordinary words by its digits, so a code
    drawn without them (about 1 in 700 draws) is drawn again.  Rejecting those draws removes less
    than 0.003 bits of the 115.
    """
    while True:
        receipt = generate_grouped_code(RECEIPT_RANDOM_CHARS, RECEIPT_GROUP)
        digits = sum(char.isdigit() for char in receipt)
        letters = sum(char.isalpha() for char in receipt)
        if min(digits, letters) >= RECEIPT_MIN_MIXED:
            return receipt


def normalize_receipt(text: str) -> str:
    """Return the canonical form of a typed receipt; ReceiptFormatError if it cannot be one."""
    return normalize_grouped_code(text, RECEIPT_RANDOM_CHARS, RECEIPT_GROUP, what="receipt")
