"""Submission envelopes: officer, receipt and custodian access; binding; padding."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csirt.vault.envelope import (
    MIN_PADDED_BYTES,
    SubmissionEnvelope,
    new_identity_key,
    new_submission_key,
    open_field,
    open_identity,
    open_identity_key,
    open_submission_key_as_officer,
    open_submission_key_with_receipt,
    padded_length,
    seal_field,
    seal_identity,
    wrap_identity_key,
    wrap_submission_key_for_officer,
    wrap_submission_key_for_receipt,
)
from csirt.vault.errors import KeyFormatError, TamperedError
from csirt.vault.kdf import ReceiptHasher
from csirt.vault.receipts import new_receipt
from csirt.vault.sealing import generate_keypair, new_secret_key, seal_for, secret_seal

OFFICER = generate_keypair()
OTHER_OFFICER = generate_keypair()
CUSTODIAN = generate_keypair()
HASHER = ReceiptHasher.for_tests()


def test_intake_flow_officer_receipt_and_custodian() -> None:
    # Intake: the reporter submits; the server seals and forgets every key.
    receipt = new_receipt()
    receipt_keys = HASHER.derive(receipt)
    envelope = SubmissionEnvelope.create(42)
    answers = envelope.seal_field("answers", "名簿が流出しています".encode())
    officer_wrap = envelope.wrap_for_officer(OFFICER.public)
    receipt_wrap = envelope.wrap_for_receipt(receipt_keys.key)
    identity_key = new_identity_key()
    identity = seal_identity(identity_key, b"Taro Yamada, taro@example.jp", 42)
    custodian_wrap = wrap_identity_key(identity_key, CUSTODIAN.public)
    del envelope, identity_key

    # The officer reads the answers but holds nothing that opens the identity.
    as_officer = SubmissionEnvelope.open_as_officer(42, OFFICER, officer_wrap)
    assert as_officer.open_field("answers", answers).decode() == "名簿が流出しています"
    with pytest.raises(TamperedError):
        open_identity(as_officer.key, identity, 42)
    with pytest.raises(TamperedError):
        open_identity_key(OFFICER, custodian_wrap)

    # The reporter comes back with the receipt, typed differently.
    again = HASHER.derive(receipt.lower().replace("-", " "))
    as_reporter = SubmissionEnvelope.open_with_receipt(42, again.key, receipt_wrap)
    assert as_reporter.open_field("answers", answers) == as_officer.open_field("answers", answers)

    # A custodian approves: only then is the identity key re-sealed to the officer.
    approved_wrap = wrap_identity_key(open_identity_key(CUSTODIAN, custodian_wrap), OFFICER.public)
    officer_identity_key = open_identity_key(OFFICER.private, approved_wrap)
    assert open_identity(officer_identity_key, identity, 42) == b"Taro Yamada, taro@example.jp"


def test_access_granted_by_an_existing_officer() -> None:
    sub_key = new_submission_key()
    first_wrap = wrap_submission_key_for_officer(sub_key, OFFICER.public)
    with pytest.raises(TamperedError):
        open_submission_key_as_officer(OTHER_OFFICER, first_wrap)
    granted = wrap_submission_key_for_officer(
        open_submission_key_as_officer(OFFICER, first_wrap), OTHER_OFFICER.public
    )
    assert open_submission_key_as_officer(OTHER_OFFICER, granted) == sub_key


def test_a_field_moved_to_another_name_or_row_does_not_open() -> None:
    sub_key = new_submission_key()
    blob = seal_field(sub_key, "answers", b"tip", 42)
    assert open_field(sub_key, "answers", blob, 42) == b"tip"
    with pytest.raises(TamperedError):
        open_field(sub_key, "message:1", blob, 42)
    with pytest.raises(TamperedError):
        open_field(sub_key, "answers", blob, 43)
    with pytest.raises(TamperedError):
        open_field(new_submission_key(), "answers", blob, 42)
    with pytest.raises(TamperedError):
        open_identity(sub_key, blob, 42)


def test_receipt_wrap_is_bound_to_its_receipt_and_row() -> None:
    sub_key = new_submission_key()
    receipt_key = HASHER.derive(new_receipt()).key
    blob = wrap_submission_key_for_receipt(sub_key, receipt_key, 7)
    assert open_submission_key_with_receipt(receipt_key, blob, 7) == sub_key
    with pytest.raises(TamperedError):
        open_submission_key_with_receipt(receipt_key, blob, 8)
    with pytest.raises(TamperedError):
        open_submission_key_with_receipt(HASHER.derive(new_receipt()).key, blob, 7)


def test_identity_and_submission_key_wraps_are_not_interchangeable() -> None:
    key = new_secret_key()
    identity_wrap = wrap_identity_key(key, OFFICER.public)
    submission_wrap = wrap_submission_key_for_officer(key, OFFICER.public)
    with pytest.raises(TamperedError, match="expected kind"):
        open_submission_key_as_officer(OFFICER, identity_wrap)
    with pytest.raises(TamperedError, match="expected kind"):
        open_identity_key(OFFICER, submission_wrap)
    with pytest.raises(TamperedError, match="expected kind"):
        open_identity_key(OFFICER, seal_for(OFFICER.public, b"I" + key[:31]))


def test_receipt_wrap_of_the_wrong_length_is_refused() -> None:
    receipt_key = new_secret_key()
    forged = secret_seal(receipt_key, b"k" * 31, context=b"csirt:submission:7:key-for-receipt")
    with pytest.raises(TamperedError, match="wrong length"):
        open_submission_key_with_receipt(receipt_key, forged, 7)


def test_string_submission_ids_work() -> None:
    submission_id = str(uuid.uuid4())
    envelope = SubmissionEnvelope.create(submission_id)
    blob = envelope.seal_field("answers", b"x")
    assert SubmissionEnvelope(submission_id, envelope.key).open_field("answers", blob) == b"x"
    with pytest.raises(TamperedError):
        open_field(envelope.key, "answers", blob, str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("submission_id", "error"),
    [(True, TypeError), (1.5, TypeError), (-1, ValueError), ("", ValueError), ("1:2", ValueError)],
)
def test_submission_ids_are_validated(submission_id: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        seal_field(new_submission_key(), "answers", b"x", submission_id)  # type: ignore[arg-type]
    with pytest.raises(error):
        SubmissionEnvelope(submission_id, new_submission_key())  # type: ignore[arg-type]


def test_field_names_and_keys_are_validated() -> None:
    with pytest.raises(ValueError, match="field name"):
        seal_field(new_submission_key(), "", b"x", 1)
    with pytest.raises(KeyFormatError):
        seal_field(b"short", "answers", b"x", 1)
    with pytest.raises(KeyFormatError):
        wrap_submission_key_for_receipt(new_submission_key(), b"short", 1)
    with pytest.raises(KeyFormatError):
        SubmissionEnvelope(1, b"short")


def test_envelope_repr_hides_the_key() -> None:
    envelope = SubmissionEnvelope.create(5)
    assert envelope.key.hex() not in repr(envelope)
    assert "5" in repr(envelope)


def test_padding_hides_exact_sizes() -> None:
    sub_key = new_submission_key()
    small = {len(seal_field(sub_key, "answers", b"x" * n, 1)) for n in range(0, 240)}
    assert len(small) == 1
    big = {len(seal_field(sub_key, "attachment:1", b"x" * n, 1)) for n in range(60000, 60500)}
    assert len(big) == 1
    identity_sizes = {len(seal_identity(new_identity_key(), b"n" * n, 1)) for n in (1, 30, 200)}
    assert len(identity_sizes) == 1


@given(st.integers(min_value=0, max_value=1 << 40))
def test_padded_length_is_a_small_overhead_bucket(length: int) -> None:
    padded = padded_length(length)
    assert padded >= max(length, MIN_PADDED_BYTES)
    assert padded <= max(length, MIN_PADDED_BYTES) * 1.12
    assert padded_length(padded) == padded


@given(st.binary(max_size=5000), st.text(min_size=1, max_size=30))
def test_fields_round_trip(data: bytes, name: str) -> None:
    sub_key = new_submission_key()
    assert open_field(sub_key, name, seal_field(sub_key, name, data, 9), 9) == data


@pytest.mark.parametrize(
    "padded",
    [
        b"\x00" * 4,  # shorter than the length prefix
        (300).to_bytes(8, "big") + b"x" * 248,  # claims more than it holds
        (4).to_bytes(8, "big") + b"abcd" + b"\x01" + bytes(243),  # non-zero padding
    ],
)
def test_malformed_padding_is_refused_even_when_authentic(padded: bytes) -> None:
    # Only the key holder can produce these; refusing them still keeps open_field total.
    sub_key = new_submission_key()
    blob = secret_seal(sub_key, padded, context=b"csirt:submission:3:field:answers")
    with pytest.raises(TamperedError, match="padded plaintext"):
        open_field(sub_key, "answers", blob, 3)
