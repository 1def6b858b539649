"""In-memory limits that keep no identifier."""

from __future__ import annotations

from csirt.ratelimit import Budget, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_and_window():
    clock = Clock()
    limiter = RateLimiter(limit=3, window=10, clock=clock)
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    assert limiter.blocked("a")
    clock.now = 11  # the previous window still counts
    assert not limiter.hit("a")
    clock.now = 25  # two windows later everything is forgotten
    assert limiter.hit("a")
    assert not limiter.blocked("a")


def test_keys_are_not_stored():
    limiter = RateLimiter(limit=5, window=10)
    limiter.hit("192.0.2.1")
    stored = repr(limiter.__dict__)
    assert "192.0.2.1" not in stored


def test_reset_and_key_cap():
    limiter = RateLimiter(limit=1, window=10, max_keys=2)
    assert limiter.hit("a")
    assert not limiter.hit("a")
    limiter.reset("a")
    assert limiter.hit("a")
    assert limiter.hit("b")
    assert not limiter.hit("c")  # a flood of new keys is refused, memory stays bounded


def test_global_budget():
    clock = Clock()
    budget = Budget(limit=2, window=60, clock=clock)
    assert budget.spend()
    assert budget.spend()
    assert not budget.spend()
    clock.now = 200
    assert budget.spend()
