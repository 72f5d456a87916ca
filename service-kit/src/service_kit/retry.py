"""Retrying later: exponential backoff with jitter, and when to give up.

Shared by every process that works through a queue of things to deliver and must
not hammer a receiver that is down (the notification dispatcher; the outbox relay
can use the same policy). Pure Python: no I/O, no clock, the random source injectable.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


def backoff_seconds(
    failures: int,
    *,
    base_seconds: float,
    max_seconds: float,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after ``failures`` failed tries (1 or more): base * 2**(failures-1),
    capped at ``max_seconds``, of which a random half is jitter, so that workers which
    failed together do not all come back at the same moment."""
    if failures < 1:
        raise ValueError("failures must be at least 1")
    ceiling = min(max_seconds, base_seconds * 2 ** min(failures - 1, 60))
    return ceiling * (0.5 + rng() / 2)


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``max_attempts`` tries, waiting ``backoff_seconds`` between them."""

    max_attempts: int = 20
    base_seconds: float = 2.0
    max_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds <= 0 or self.max_seconds < self.base_seconds:
            raise ValueError("need max_attempts >= 1 and 0 < base_seconds <= max_seconds")

    def delay(self, attempts: int, *, rng: Callable[[], float] = random.random, at_least: float = 0) -> float:
        """Seconds to wait after ``attempts`` failed tries; ``at_least`` is e.g. a Retry-After."""
        wait = backoff_seconds(
            attempts, base_seconds=self.base_seconds, max_seconds=self.max_seconds, rng=rng
        )
        return max(wait, min(at_least, self.max_seconds))

    def gives_up(self, attempts: int) -> bool:
        """True when ``attempts`` failed tries are all this policy allows."""
        return attempts >= self.max_attempts
