"""In-memory rate limits that store no identifier.

Keys (a username, a client address) are never kept: each is replaced by a keyed BLAKE2b digest
under a random secret that is replaced every window, so after two windows even the digests
cannot be linked to anything. Counts live in process memory only and vanish on restart.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Allow at most ``limit`` hits per key in a sliding pair of ``window`` second buckets."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._bucket_start = clock()
        self._secret = secrets.token_bytes(32)
        self._previous_secret = self._secret
        self._current: dict[bytes, int] = {}
        self._previous: dict[bytes, int] = {}

    def _digest(self, key: str) -> bytes:
        return hashlib.blake2b(key.encode(), key=self._secret, digest_size=16).digest()

    def _rotate(self) -> None:
        now = self._clock()
        elapsed = now - self._bucket_start
        if elapsed < self.window:
            return
        if elapsed >= 2 * self.window:
            self._previous = {}
        else:
            # Counts of the last window carry over under the new secret: re-key is impossible
            # (digests are one-way), so the previous bucket keeps its own digests and secret.
            self._previous = self._current
        self._current = {}
        self._previous_secret = self._secret
        self._secret = secrets.token_bytes(32)
        self._bucket_start = now

    def _count(self, key: str) -> tuple[bytes, int]:
        digest = self._digest(key)
        previous = 0
        if self._previous:
            old = hashlib.blake2b(key.encode(), key=self._previous_secret, digest_size=16).digest()
            previous = self._previous.get(old, 0)
        return digest, self._current.get(digest, 0) + previous

    def hit(self, key: str) -> bool:
        """Count one hit; return False when the key is over its limit (the hit is not counted)."""
        with self._lock:
            self._rotate()
            digest, count = self._count(key)
            if count >= self.limit:
                return False
            if len(self._current) >= self._max_keys and digest not in self._current:
                # A flood of distinct keys: refuse rather than grow without bound.
                return False
            self._current[digest] = self._current.get(digest, 0) + 1
            return True

    def blocked(self, key: str) -> bool:
        """Whether the key is over its limit, without counting a hit."""
        with self._lock:
            self._rotate()
            return self._count(key)[1] >= self.limit

    def reset(self, key: str) -> None:
        with self._lock:
            self._current.pop(self._digest(key), None)


class Budget:
    """A global budget: at most ``limit`` events per ``window`` seconds, whoever sends them."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limiter = RateLimiter(limit, window, clock=clock, max_keys=1)

    def spend(self) -> bool:
        return self._limiter.hit("*")
