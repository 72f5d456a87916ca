"""The rate limit holds across gunicorn workers because the counts live in Redis."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from service_kit.auth import mint_token
from service_kit.fakes import free_port

REDIS_URL = os.environ.get("GARAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_limit_is_shared_by_two_gunicorn_workers(app, fresh_database_url):
    if not redis_answers():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_STORAGE_URL": REDIS_URL,
        "RATE_LIMIT_READ": "5 per minute",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "customer_management:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        # A subject of its own, so counts left in Redis by an earlier run do not interfere.
        token = mint_token(app.config, roles=["advisor"], subject=f"rate-test-{uuid.uuid4()}")
        statuses = [get(f"{base}/api/v1/customers", token) for _ in range(12)]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert statuses.count(200) == 5, statuses
    assert statuses.count(429) == 7, statuses
