"""Rate limits that store no identifier.

Keys (a username, a client address) are never kept: each is replaced by a keyed BLAKE2b digest
under a random secret that is replaced every window, so after two windows even the digests
cannot be linked to anything. Per-key counts live in process memory only and vanish on restart.

Global budgets (a number of events per window, whoever sends them) must hold across every node
of a PostgreSQL deployment: :func:`budget_for` gives a :class:`SharedBudget` there, one counter
row per budget and time bucket in ``budget_counters`` (a name, a bucket number and a count:
nothing about any client). On SQLite (one node) the in-memory :class:`Budget` stays.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import BigInteger, String, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from csirt.db import Base, get_db


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


class BudgetCounter(Base):
    """How much of a global budget was spent in one time bucket (no client identifier)."""

    __tablename__ = "budget_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column()


class SharedBudget(Budget):
    """A global budget counted in PostgreSQL, so that N nodes together spend ``limit``, not N x.

    Buckets are fixed windows of wall-clock time (``floor(now / window)``, the nodes' clocks
    kept by NTP). Each spend is one atomic upsert in its own short transaction: the count holds
    even when the request that spent it fails, and no request holds the counter row's lock for
    longer than that statement.
    """

    def __init__(
        self,
        name: str,
        limit: int,
        window: float,
        sessions: Callable[[], Session],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limit, window)
        self.name = name
        self.limit = limit
        self.window = window
        self._sessions = sessions
        self._clock = clock

    def spend(self) -> bool:
        """Count one event in the current bucket; False (nothing counted) when it is spent."""
        if self.limit <= 0:
            return False
        bucket = int(self._clock() // self.window)
        statement = (
            insert(BudgetCounter)
            .values(name=self.name, bucket=bucket, used=1)
            .on_conflict_do_update(
                index_elements=[BudgetCounter.name, BudgetCounter.bucket],
                set_={"used": BudgetCounter.used + 1},
                where=BudgetCounter.used < self.limit,
            )
            .returning(BudgetCounter.used)
        )
        with self._sessions() as session:
            used = session.scalar(statement)
            if used == 1:  # the bucket's first event: drop the buckets before the last one
                session.execute(
                    delete(BudgetCounter).where(
                        BudgetCounter.name == self.name, BudgetCounter.bucket < bucket - 1
                    )
                )
            session.commit()
        return used is not None


def budget_for(app: Flask, name: str, limit: int, window: float) -> Budget:
    """The budget ``name``: shared by every node on PostgreSQL, in memory on SQLite."""
    database = get_db(app)
    if database.engine.dialect.name == "postgresql":
        # Looked up at each spend: tests rebind the app's sessions to their own transaction.
        return SharedBudget(name, limit, window, lambda: get_db(app).sessionmaker())
    return Budget(limit, window)
