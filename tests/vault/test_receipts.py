"""Receipts: entropy, grouping, normalisation and the check symbol."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csirt.vault.errors import ReceiptFormatError
from csirt.vault.receipts import (
    ALPHABET,
    RECEIPT_BITS,
    RECEIPT_CHARS,
    RECEIPT_MIN_MIXED,
    generate_grouped_code,
    new_receipt,
    normalize_grouped_code,
    normalize_receipt,
)

RECEIPT_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$")
SAMPLE = [new_receipt() for _ in range(30)]


def _swap(receipt: str, i: int, j: int) -> str:
    chars = list(receipt.replace("-", ""))
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def test_receipt_has_at_least_100_random_bits() -> None:
    assert RECEIPT_BITS >= 100
    # The check symbol is not counted: only RECEIPT_CHARS - 1 symbols are random.
    assert (RECEIPT_CHARS - 1) * math.log2(len(ALPHABET)) == RECEIPT_BITS


def test_alphabet_is_crockford_without_confusable_letters() -> None:
    assert len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_receipt_is_grouped_in_fours_from_the_alphabet() -> None:
    for receipt in SAMPLE:
        assert RECEIPT_PATTERN.match(receipt)
        assert normalize_receipt(receipt) == receipt


def test_receipts_are_unique_and_use_every_symbol() -> None:
    receipts = [new_receipt() for _ in range(2000)]
    assert len(set(receipts)) == len(receipts)
    random_symbols = "".join(r.replace("-", "")[:-1] for r in receipts)
    # 46,000 uniform draws from 32 symbols: missing one has probability about 32 * e^-1437.
    assert set(random_symbols) == set(ALPHABET)
    # Each symbol near 1/32 of the draws (expected 1437.5, sd about 37).
    counts = [random_symbols.count(symbol) for symbol in ALPHABET]
    assert min(counts) > 1200
    assert max(counts) < 1700


@pytest.mark.parametrize(
    "typed",
    [
        lambda r: r.lower(),
        lambda r: r.replace("-", ""),
        lambda r: r.replace("-", " "),
        lambda r: "  " + r.replace("-", " - ") + "\n",
        lambda r: r.replace("-", "--"),
        lambda r: "-".join(r.replace("-", "")),
        lambda r: r.replace("-", "ー"),  # katakana long mark from a Japanese IME
        lambda r: r.replace("-", "\u2212"),
        lambda r: "".join(chr(ord(c) + 0xFEE0) if c != "-" else "－" for c in r),  # full width
        lambda r: r.replace("0", "O").replace("1", "I"),
        lambda r: r.replace("0", "o").replace("1", "l"),
        lambda r: r.replace("1", "L"),
    ],
)
def test_normalize_accepts_what_people_type(typed: object) -> None:
    assert callable(typed)
    for receipt in SAMPLE:
        assert normalize_receipt(typed(receipt)) == receipt


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "24 characters, this has 0"),
        ("ABCD-EFGH", "24 characters, this has 8"),
        ("U" * 24, "letters A-Z except U"),
        ("!" * 24, "letters A-Z except U"),
        ("0" * 25, "24 characters, this has 25"),
    ],
)
def test_normalize_rejects_malformed(text: str, message: str) -> None:
    with pytest.raises(ReceiptFormatError, match=message):
        normalize_receipt(text)


def test_error_messages_never_repeat_the_receipt() -> None:
    receipt = SAMPLE[0]
    damaged = _swap(receipt, 0, 23) if receipt[0] != receipt[-1] else receipt[:-1] + "U"
    for text in (damaged, receipt + "A", receipt.replace("-", "")[:-2]):
        with pytest.raises(ReceiptFormatError) as raised:
            normalize_receipt(text)
        assert receipt.replace("-", "")[:6] not in str(raised.value)


def _passes_check(text: str) -> bool:
    """Return whether text is accepted; only the check symbol may refuse it."""
    try:
        normalize_receipt(text)
    except ReceiptFormatError as error:
        return "typing error" not in str(error)
    return True


def test_every_single_symbol_typo_is_caught() -> None:
    for receipt in SAMPLE[:10]:
        compact = receipt.replace("-", "")
        typos = [
            compact[:position] + symbol + compact[position + 1 :]
            for position, original in enumerate(compact)
            for symbol in ALPHABET.replace(original, "")
        ]
        assert len(typos) == 24 * 31
        assert [typo for typo in typos if _passes_check(typo)] == []


def test_every_transposition_is_caught_adjacent_or_not() -> None:
    for receipt in SAMPLE[:10]:
        compact = receipt.replace("-", "")
        swaps = [
            _swap(receipt, i, j)
            for i in range(len(compact))
            for j in range(i + 1, len(compact))
            if compact[i] != compact[j]
        ]
        assert len(swaps) > 200
        assert [swap for swap in swaps if _passes_check(swap)] == []


def test_dropped_or_doubled_symbol_is_caught_by_length() -> None:
    compact = SAMPLE[1].replace("-", "")
    with pytest.raises(ReceiptFormatError, match="this has 23"):
        normalize_receipt(compact[:5] + compact[6:])
    with pytest.raises(ReceiptFormatError, match="this has 25"):
        normalize_receipt(compact[:5] + compact[5] + compact[5:])


@given(st.text(max_size=60))
def test_normalize_only_ever_returns_a_receipt_or_raises_format_error(text: str) -> None:
    try:
        result = normalize_receipt(text)
    except ReceiptFormatError:
        return
    assert RECEIPT_PATTERN.match(result)
    assert normalize_receipt(result) == result


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=8))
def test_grouped_codes_of_any_supported_length_round_trip(random_chars: int, group: int) -> None:
    code = generate_grouped_code(random_chars, group)
    assert len(code.replace("-", "")) == random_chars + 1
    assert all(len(part) <= group for part in code.split("-"))
    assert normalize_grouped_code(code.lower(), random_chars, group, what="code") == code


@pytest.mark.parametrize("random_chars", [0, 31])
def test_grouped_codes_beyond_the_check_field_are_refused(random_chars: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 30"):
        generate_grouped_code(random_chars, 4)


def test_every_receipt_mixes_digits_and_letters() -> None:
    # The public-text guard recognises an unknown receipt by its digits; a uniform draw has
    # fewer than two digits about once in 700 draws, so 20,000 draws meet such a draw (the
    # chance of missing one is about e^-28) and every one of them must have been drawn again.
    for _ in range(20_000):
        compact = new_receipt().replace("-", "")
        assert sum(c.isdigit() for c in compact) >= RECEIPT_MIN_MIXED
        assert sum(c.isalpha() for c in compact) >= RECEIPT_MIN_MIXED
