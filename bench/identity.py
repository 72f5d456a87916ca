"""identity under load: sign-in latency and token issue rates, against identity under
gunicorn (the images' settings and identity's worker set-up from tools/services.py) on a
real PostgreSQL. Prints figures; asserts nothing.

    python bench/identity.py [--seconds 10] [--users 1,4] [--connections 8] [--workers gthread:2x4]

Measured, one after the other:
  sign-in            the password POST of the code flow (POST /oauth/authorize with the
                     CSRF token of the page just fetched: Argon2id verification, the
                     throttle checks, the code), by ``users`` people signing in over and
                     over from Python threads; p50/p95 of that POST, and of the whole
                     flow (page, POST, code exchange at /oauth/token) per sign-in
  client_credentials POST /oauth/token as vehicle-management (wrk): tokens/s, p50/p99
  refresh_token      POST /oauth/token with a refresh token, each connection going on
                     with the rotated one it was given (wrk): tokens/s, p50/p99

Each token is an ES256 signature, an audit row, and for a refresh the rotation (the old
row updated, a new one inserted). Rate limits are off (one client would meet them at
once); identity logs at WARNING to .run/bench-identity/. The Argon2 cost is identity's
default (19 MiB, 2 passes).
PostgreSQL: DATABASE_URL, else an embedded server in .run/bench-pgdata (database
garage_bench_identity, made afresh each run).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from harness import ROOT, Workers, database_url, gunicorn, say, stop, wrk

sys.path.insert(0, str(ROOT / "tools"))
import services  # tools/services.py: the worker set-up identity runs with

# This file is bench/identity.py: with bench/ on the path, ``import identity`` would find
# it instead of the service. The harness is imported; bench/ leaves the path.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

PORT = 18207
CONSOLE = "staff-console"
CONSOLE_SECRET = secrets.token_urlsafe(24)
SERVICE = "vehicle-management"
SERVICE_SECRET = secrets.token_urlsafe(24)
REDIRECT_URI = "http://127.0.0.1:8008/auth/callback"
PASSWORD = "benchmark passphrase " + secrets.token_hex(4)  # pragma: allowlist secret
LOGS = ROOT / ".run" / "bench-identity"

CLIENT_CREDENTIALS_LUA = """
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("BASIC")
"""

# Each thread has one connection and its own chain of refresh tokens: the next request
# carries the token the last answer rotated to.
REFRESH_LUA = """
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("token", tokens[threads])
end
function request()
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = os.getenv("BASIC"),
  }, "grant_type=refresh_token&refresh_token=" .. token)
end
function response(status, headers, body)
  local rotated = string.match(body, '"refresh_token":%s*"([^"]+)"')
  if rotated then token = rotated end
end
"""


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def environment(url: str, issuer: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "IDENTITY_ISSUER": issuer,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "IDENTITY_SERVICE_CLIENTS": SERVICE,
        "VEHICLE_MANAGEMENT_CLIENT_SECRET": SERVICE_SECRET,
        "STAFF_CONSOLE_CLIENT_SECRET": CONSOLE_SECRET,
        "CONSOLE_REDIRECT_URIS": REDIRECT_URI,
    }


def prepare(env: dict[str, str], people: int) -> list[str]:
    """Migrate identity's schema and make ``people`` advisors with the same password."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from identity.models import db
        from identity.service import accounts

        from identity import create_app
        from service_kit.migrations import upgrade

        app = create_app()
        upgrade(app)
        emails = [f"bench{n}@garage.example" for n in range(people)]
        with app.app_context():
            hasher = accounts.password_hasher(app.config)
            for email in emails:
                if accounts.find_by_email(session=db.session(), email=email) is None:
                    accounts.create_account(
                        session=db.session(),
                        hasher=hasher,
                        data={"email": email, "name": email, "roles": ["advisor"], "password": PASSWORD},
                        actor="bench",
                        address=None,
                    )
            db.session.commit()
            db.session.remove()
        return emails
    finally:
        os.environ.clear()
        os.environ.update(saved)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(session: requests.Session, base: str, email: str) -> tuple[float, float, str]:
    """One sign-in through the code flow: (seconds of the password POST, seconds of the
    whole flow, the refresh token)."""
    started = time.perf_counter()
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": CONSOLE,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile offline_access",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = session.get(f"{base}/oauth/authorize", params=query, timeout=30)
    token = CSRF.search(page.text)
    if page.status_code != 200 or token is None:
        raise RuntimeError(f"the sign-in page answered {page.status_code}")
    posted = time.perf_counter()
    answer = session.post(
        f"{base}/oauth/authorize",
        params=query,
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    password_post = time.perf_counter() - posted
    if answer.status_code != 302:
        raise RuntimeError(f"signing in answered {answer.status_code}")
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = session.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CONSOLE, CONSOLE_SECRET),
        timeout=30,
    )
    if tokens.status_code != 200:
        raise RuntimeError(f"the code exchange answered {tokens.status_code}")
    return password_post, time.perf_counter() - started, tokens.json()["refresh_token"]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def sign_ins(base: str, emails: list[str], users: int, seconds: float) -> dict[str, Any]:
    """``users`` people signing in over and over for ``seconds``."""
    posts: list[float] = []
    flows: list[float] = []
    refresh_tokens: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def person(n: int) -> None:
        session = requests.Session()
        email = emails[n % len(emails)]
        while time.monotonic() < deadline:
            try:
                post, flow, refresh = sign_in(session, base, email)
            except (RuntimeError, requests.RequestException) as exc:
                with lock:
                    failures.append(str(exc))
                continue
            with lock:
                posts.append(post)
                flows.append(flow)
                refresh_tokens.append(refresh)

    started = time.monotonic()
    threads = [threading.Thread(target=person, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "users": users,
        "count": len(posts),
        "per_second": len(posts) / elapsed,
        "post_p50": percentile(posts, 50),
        "post_p95": percentile(posts, 95),
        "flow_p50": percentile(flows, 50),
        "flow_p95": percentile(flows, 95),
        "failures": len(failures),
        "refresh_tokens": refresh_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--users", default="1,4", help="people signing in at once, per run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections for the token rates")
    identity = services.BY_NAME["identity"]
    parser.add_argument("--workers", default=f"gthread:{identity.workers}x{identity.threads}")
    args = parser.parse_args()
    os.chdir(ROOT)  # gunicorn puts its working folder on the path: not bench/ (see above)
    shape = Workers.parse(args.workers)
    users = [int(n) for n in args.users.split(",")]

    url, server = database_url("garage_bench_identity", fresh=True)
    base = f"http://127.0.0.1:{PORT}"
    env = environment(url, base)
    LOGS.mkdir(parents=True, exist_ok=True)
    emails = prepare(env, max(max(users), args.connections))
    process = gunicorn("identity:create_app()", PORT, env, shape, log=LOGS / "identity.log")
    try:
        say(f"identity under gunicorn {shape}, {args.seconds} s per measurement (rate limits off)")
        say()
        say("sign-in through the code flow (Python threads, one person each):")
        refresh_tokens: list[str] = []
        for count in users:
            sign_ins(base, emails, count, 2)  # warm-up: connections, the first key, caches
            figures = sign_ins(base, emails, count, args.seconds)
            refresh_tokens += figures["refresh_tokens"]
            say(
                f"  {count} at once: {figures['per_second']:6.1f} sign-ins/s   password POST "
                f"p50 {figures['post_p50']:6.1f} ms  p95 {figures['post_p95']:6.1f} ms   whole flow "
                f"p50 {figures['flow_p50']:6.1f} ms  p95 {figures['flow_p95']:6.1f} ms"
                + (f"   FAILED {figures['failures']}" if figures["failures"] else "")
            )
        say()
        say(f"token issue rate (wrk, {args.connections} connections):")
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "client_credentials.lua"
            script.write_text(CLIENT_CREDENTIALS_LUA)
            basic_service = {"BASIC": basic(SERVICE, SERVICE_SECRET)}
            token_url = f"{base}/oauth/token"
            wrk(token_url, seconds=2, connections=args.connections, script=script, env=basic_service)
            figures = wrk(
                f"{base}/oauth/token",
                seconds=args.seconds,
                connections=args.connections,
                script=script,
                env=basic_service,
            )
            say(f"  client_credentials {figures}")
            chains = refresh_tokens[-args.connections :]
            if len(chains) < args.connections:
                say("  refresh_token      not measured: fewer sign-ins than connections")
            else:
                tokens_file = Path(folder) / "tokens"
                tokens_file.write_text("\n".join(chains) + "\n")
                script = Path(folder) / "refresh.lua"
                script.write_text(REFRESH_LUA)
                figures = wrk(
                    f"{base}/oauth/token",
                    seconds=args.seconds,
                    connections=args.connections,
                    threads=args.connections,
                    script=script,
                    env={"TOKENS_FILE": str(tokens_file), **{"BASIC": basic(CONSOLE, CONSOLE_SECRET)}},
                )
                say(f"  refresh_token      {figures}")
    finally:
        stop(process)
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
