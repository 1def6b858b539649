"""ReceiptHasher: one Argon2id run per receipt, split into index and key; bounded concurrency."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from argon2.low_level import Type, hash_secret_raw

from csirt.vault.errors import KeyFormatError, ReceiptFormatError, VaultBusyError
from csirt.vault.kdf import (
    DEFAULT_RECEIPT_PARAMS,
    KdfParams,
    ReceiptHasher,
    argon2id,
    new_installation_salt,
)
from csirt.vault.receipts import new_receipt

SALT = b"0123456789abcdef"


class InstrumentedHasher(ReceiptHasher):
    """A real hasher whose Argon2id step is slowed down and counted, to observe the bound."""

    def __init__(self, *, max_concurrent: int, wait_timeout: float, delay: float) -> None:
        super().__init__(
            SALT,
            time_cost=1,
            memory_kib=8,
            max_concurrent=max_concurrent,
            wait_timeout=wait_timeout,
        )
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.counter_lock = threading.Lock()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.fail_next = False

    def _compute(self, secret: bytes) -> bytes:
        with self.counter_lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.entered.set()
            self.gate.wait(5)  # never hang the suite if the bound is broken
            time.sleep(self.delay)
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("simulated failure inside the hash")
            return super()._compute(secret)
        finally:
            with self.counter_lock:
                self.active -= 1


def test_derive_splits_one_argon2id_output_into_index_and_key() -> None:
    hasher = ReceiptHasher(SALT, time_cost=1, memory_kib=64, max_concurrent=1, wait_timeout=1)
    receipt = new_receipt()
    keys = hasher.derive(receipt)
    output = hash_secret_raw(
        receipt.encode(),
        SALT,
        time_cost=1,
        memory_cost=64,
        parallelism=1,
        hash_len=64,
        type=Type.ID,
    )
    assert keys.key == output[32:]
    assert (
        keys.lookup
        == hashlib.blake2b(output[:32], digest_size=32, person=b"csirt:rcpt-index").digest()
    )
    assert keys.lookup not in output
    assert len(keys.key) == 32


def test_derive_is_deterministic_and_ignores_how_the_receipt_was_typed() -> None:
    hasher = ReceiptHasher.for_tests()
    receipt = new_receipt()
    keys = hasher.derive(receipt)
    assert hasher.derive(receipt.lower().replace("-", " ")) == keys
    assert ReceiptHasher.for_tests().derive(receipt) == keys


def test_different_receipts_and_salts_give_unrelated_keys() -> None:
    hasher = ReceiptHasher.for_tests()
    first, second = new_receipt(), new_receipt()
    assert hasher.derive(first).lookup != hasher.derive(second).lookup
    assert hasher.derive(first).key != hasher.derive(second).key
    other_installation = ReceiptHasher.for_tests(salt=new_installation_salt())
    assert other_installation.derive(first).lookup != hasher.derive(first).lookup


def test_malformed_receipt_is_refused_before_hashing() -> None:
    hasher = InstrumentedHasher(max_concurrent=1, wait_timeout=1, delay=0)
    with pytest.raises(ReceiptFormatError):
        hasher.derive("not a receipt")
    assert hasher.peak == 0


def test_receipt_keys_repr_hides_the_secrets() -> None:
    keys = ReceiptHasher.for_tests().derive(new_receipt())
    assert keys.key.hex() not in repr(keys)
    assert keys.lookup.hex() not in repr(keys)
    assert "memory_kib=8" in repr(ReceiptHasher.for_tests())


def test_defaults_are_memory_hard() -> None:
    assert DEFAULT_RECEIPT_PARAMS.memory_kib >= 32 * 1024
    hasher = ReceiptHasher(new_installation_salt())
    assert hasher.params == DEFAULT_RECEIPT_PARAMS
    assert len(hasher.derive(new_receipt()).key) == 32


def test_concurrent_hashes_never_exceed_the_bound() -> None:
    hasher = InstrumentedHasher(max_concurrent=3, wait_timeout=30, delay=0.03)
    receipt = new_receipt()
    start = threading.Barrier(12)
    results: list[bytes] = []

    def submit() -> None:
        start.wait()
        for _ in range(3):
            results.append(hasher.derive(receipt).lookup)

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 36
    assert len(set(results)) == 1
    assert hasher.peak == 3  # reached, and never more
    assert hasher.active == 0


def test_busy_when_no_slot_frees_within_the_wait() -> None:
    hasher = InstrumentedHasher(max_concurrent=1, wait_timeout=0.05, delay=0)
    hasher.gate.clear()
    holder = threading.Thread(target=hasher.derive, args=(new_receipt(),))
    holder.start()
    assert hasher.entered.wait(5)
    began = time.monotonic()
    with pytest.raises(VaultBusyError):
        hasher.derive(new_receipt())
    assert time.monotonic() - began >= 0.04
    hasher.gate.set()
    holder.join()
    # The slot is free again once the holder finished.
    assert len(hasher.derive(new_receipt()).key) == 32
    assert hasher.peak == 1


def test_a_failing_hash_gives_its_slot_back() -> None:
    hasher = InstrumentedHasher(max_concurrent=1, wait_timeout=0, delay=0)
    hasher.fail_next = True
    with pytest.raises(RuntimeError, match="simulated"):
        hasher.derive(new_receipt())
    assert len(hasher.derive(new_receipt()).key) == 32


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"salt": b"short"}, KeyFormatError, "at least 16 bytes"),
        ({"max_concurrent": 0}, ValueError, "max_concurrent"),
        ({"wait_timeout": -1.0}, ValueError, "wait_timeout"),
        ({"time_cost": 0}, ValueError, "time_cost"),
        ({"memory_kib": 4}, ValueError, "memory_kib"),
        ({"memory_kib": 2 * 1024 * 1024}, ValueError, "memory_kib"),
    ],
)
def test_hasher_refuses_bad_settings(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    settings: dict[str, object] = {"salt": SALT, "time_cost": 1, "memory_kib": 8}
    settings.update(kwargs)
    with pytest.raises(error, match=message):
        ReceiptHasher(**settings)  # type: ignore[arg-type]


def test_kdf_params_bounds() -> None:
    with pytest.raises(ValueError, match="parallelism"):
        KdfParams(time_cost=1, memory_kib=64, parallelism=0)
    with pytest.raises(ValueError, match="time_cost"):
        KdfParams(time_cost=17, memory_kib=64)
    with pytest.raises(KeyFormatError):
        argon2id(b"secret", b"short salt", KdfParams(1, 8), 32)
