"""Backoff with jitter: doubles, caps, jitters within the upper half, gives up on time."""

import pytest

from service_kit.retry import RetryPolicy, backoff_seconds


def test_backoff_doubles_from_the_base():
    waits = [backoff_seconds(n, base_seconds=2, max_seconds=1000, rng=lambda: 1.0) for n in range(1, 6)]
    assert waits == [2, 4, 8, 16, 32]


def test_backoff_is_capped():
    assert backoff_seconds(40, base_seconds=2, max_seconds=60, rng=lambda: 1.0) == 60
    assert backoff_seconds(10_000, base_seconds=2, max_seconds=60, rng=lambda: 1.0) == 60


def test_jitter_keeps_the_wait_in_the_upper_half():
    assert backoff_seconds(3, base_seconds=2, max_seconds=60, rng=lambda: 0.0) == 4
    waits = {backoff_seconds(3, base_seconds=2, max_seconds=60) for _ in range(200)}
    assert all(4 <= wait <= 8 for wait in waits)
    assert len(waits) > 100, "jitter spreads the retries"


def test_backoff_needs_a_failure():
    with pytest.raises(ValueError):
        backoff_seconds(0, base_seconds=1, max_seconds=2)


def test_policy_gives_up_after_max_attempts_and_honours_at_least():
    policy = RetryPolicy(max_attempts=3, base_seconds=1, max_seconds=10)
    assert [policy.gives_up(n) for n in (1, 2, 3)] == [False, False, True]
    assert policy.delay(1, rng=lambda: 0.0, at_least=7) == 7
    assert policy.delay(1, rng=lambda: 0.0, at_least=700) == 10


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=10, max_seconds=1)
