"""The images, built and run for real.

tools/images.py builds every deployed service's image (starting a private Docker engine,
and making a Debian base, when there are none). Each image then runs against a fresh
database on the host's PostgreSQL (127.0.0.1:5432, or GARAGE_TEST_DATABASE_URL), prepared
by the deployment's own init script with one role and schema per service, under the
settings and hardening docker-compose.yml gives it (read-only root, no capabilities):
the web server until /readyz answers, then the migrations by the image's own command,
then its API (with a token identity issued: the six fetch identity's key set from its image,
running beside them) or, for the staff console, its pages and the browser files the image
carries, its HEALTHCHECK, and its relays and dispatcher. A local run without root or
dockerd skips; under CI=true it must run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import images
import psycopg2
import pytest
import services
import yaml
from deploy_files import facts as deploy
from deploy_testing import ROOT, SUMMARY, tool, unavailable
from psycopg2 import errors, sql
from sqlalchemy.engine import URL, make_url

HOST_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
RUN = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def built(deployed: list[services.Service]) -> Iterator[tuple[images.Engine, dict[str, str]]]:
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        try:
            docker, tags = stack.enter_context(images.built_images(deployed))
        except images.Unavailable as exc:
            unavailable(f"no Docker engine for the image tests: {exc}")
        SUMMARY.append(f"images built in {time.monotonic() - started:.0f} s ({docker.host})")
        for tag in tags.values():
            SUMMARY.append(f"  {tag:46} {docker.image_size(tag) / 1e6:5.0f} MB")
        yield docker, tags
        leftovers = docker.docker("ps", "-aq", "--filter", f"label=garage-test={RUN}").stdout.split()
        if leftovers:
            docker.docker("rm", "-f", *leftovers, check=False)


def connect(url: URL, **overrides: Any) -> Any:
    parameters = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        **overrides,
    }
    connection = psycopg2.connect(**parameters, connect_timeout=5)
    connection.autocommit = True
    return connection


@pytest.fixture(scope="module")
def server() -> URL:
    """A PostgreSQL server the containers reach over TCP on the host's network."""
    url = make_url(os.environ.get("GARAGE_TEST_DATABASE_URL") or HOST_POSTGRES)
    if not url.host or url.host.startswith("/"):
        url = make_url(HOST_POSTGRES)
    try:
        connect(url).close()
    except psycopg2.OperationalError as exc:
        unavailable(f"no PostgreSQL on {url.host}:{url.port} for the image tests: {exc}")
    return url


@pytest.fixture(scope="module")
def database(server: URL, deployed: list[services.Service]) -> Iterator[tuple[URL, dict[str, str]]]:
    """A fresh database made as deploy/postgres/init-garage.sh makes one; the role passwords."""
    name = f"garage_images_{RUN}"
    admin = connect(server)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    passwords = {s.name: secrets.token_hex(12) for s in deployed}
    environment = {
        **os.environ,
        "PGHOST": server.host,
        "PGPORT": str(server.port or 5432),
        "PGUSER": server.username or "postgres",
        "PGDATABASE": name,
        **({"PGPASSWORD": server.password} if server.password else {}),
        **{f"{s.env_prefix}_DB_PASSWORD": passwords[s.name] for s in deployed},
    }
    try:
        tool("psql")
        result = subprocess.run(
            ["sh", str(ROOT / "deploy" / "postgres" / "init-garage.sh")],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"init-garage.sh failed:\n{result.stdout}{result.stderr}"
        yield server.set(database=name), passwords
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def compose_service(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][name]


def run_arguments(entry: dict[str, Any], environment: dict[str, str]) -> list[str]:
    """`docker run` flags for a compose service: its hardening, on the host's network."""
    arguments = ["--network", "host", "--label", f"garage-test={RUN}"]
    if entry.get("read_only"):
        arguments.append("--read-only")
    arguments += [flag for path in entry.get("tmpfs", []) for flag in ("--tmpfs", path)]
    arguments += [flag for cap in entry.get("cap_drop", []) for flag in ("--cap-drop", cap)]
    arguments += [flag for option in entry.get("security_opt", []) for flag in ("--security-opt", option)]
    arguments += [flag for key, value in environment.items() for flag in ("--env", f"{key}={value}")]
    return arguments


def environment_for(
    entry: dict[str, Any], s: services.Service, database: URL, password: str, identity: str = ""
) -> dict[str, str]:
    """The compose entry's environment, defaults filled in, on the host's network: its
    database, and identity (its key set and token endpoint) at ``identity``."""
    environment = {
        key: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)) for key, value in entry["environment"].items()
    }
    if identity:
        for key, value in environment.items():
            environment[key] = value.replace(IDENTITY_IN_COMPOSE, identity)
    environment["DATABASE_URL"] = database.set(username=s.role, password=password).render_as_string(
        hide_password=False
    )
    return environment


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_get(url: str, headers: dict[str, str] | None = None, *, follow: bool = True) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(docker: images.Engine, container: str, port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200:
                return
        if docker.docker("inspect", "--format", "{{.State.Running}}", container).stdout.strip() != "true":
            break
        time.sleep(0.5)
    logs = docker.docker("logs", "--tail", "60", container, check=False)
    pytest.fail(f"/readyz never answered 200:\n{logs.stdout[-4000:]}{logs.stderr[-4000:]}")


def list_path(s: services.Service) -> str:
    """A GET in the service's contract with no path or required parameters."""
    contract = yaml.safe_load((ROOT / "contracts" / f"{s.name}.yaml").read_text())
    for path, operations in contract["paths"].items():
        get = operations.get("get")
        required = [p for p in (get or {}).get("parameters", []) if p.get("required")]
        if get and "{" not in path and not required and "outbox" not in path:
            return path
    pytest.fail(f"contracts/{s.name}.yaml has no GET without parameters")


IDENTITY_IN_COMPOSE = "http://identity:8007"


@pytest.fixture(scope="module")
def identity(
    built: tuple[images.Engine, dict[str, str]],
    database: tuple[URL, dict[str, str]],
    deployed: list[services.Service],
) -> Iterator[tuple[str, str]]:
    """identity's image, migrated and running as compose runs it, on a free port: the six
    fetch its key set and ask it for their tokens there. ``(container, url)``."""
    s = services.BY_NAME["identity"]
    if s not in deployed:
        pytest.skip("identity is not deployed: the services trust identity's tokens")
    docker, tags = built
    url, passwords = database
    migrate = compose_service("identity-migrate")
    result = docker.docker(
        "run", "--rm", *run_arguments(migrate, environment_for(migrate, s, url, passwords[s.name])),
        tags[s.name], *migrate["command"], check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"identity's migrations failed:\n{result.stdout}{result.stderr}"
    port = free_port()
    web = compose_service(s.name)
    environment = environment_for(web, s, url, passwords[s.name])
    environment.update(PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}")
    container = f"garage-test-{RUN}-identity-for-all"
    docker.docker("run", "--detach", "--name", container, *run_arguments(web, environment), tags[s.name])
    try:
        wait_ready(docker, container, port)
        accounts = docker.docker("exec", container, *s.flask("development-accounts"), check=False)
        assert accounts.returncode == 0, accounts.stderr
        yield container, f"http://127.0.0.1:{port}"
    finally:
        docker.docker("rm", "--force", container, check=False)


def identity_token(docker: images.Engine, container: str) -> str:
    """An admin's token as identity issues it (its development-token command, as `make token`)."""
    issued = docker.docker("exec", container, "flask", "--app", "identity", "development-token", "admin")
    return issued.stdout.strip()


@pytest.mark.parametrize("name", [s.name for s in deploy.deployed()])
def test_image_serves_migrates_and_runs_its_processes(
    name: str,
    built: tuple[images.Engine, dict[str, str]],
    database: tuple[URL, dict[str, str]],
    identity: tuple[str, str],
) -> None:
    docker, tags = built
    url, passwords = database
    issuer_container, identity_url = identity
    s = services.BY_NAME[name]
    tag = tags[name]
    started = time.monotonic()

    config = json.loads(docker.docker("image", "inspect", tag).stdout)[0]["Config"]
    assert config["User"] == f"{deploy.UID}:{deploy.UID}", "the image must run as its non-root user"
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])
    assert config["Cmd"] == list(s.gunicorn)
    inside = docker.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", tag, "-c",
        "command -v gcc cc g++ make; ls /opt/venv/bin/pip* 2>/dev/null; "
        f"ls -d /opt/venv/lib/python3*/site-packages/{s.package}/tests "
        "/opt/venv/lib/python3*/site-packages/service_kit/tests 2>/dev/null; true",
    ).stdout  # fmt: skip
    assert inside.strip() == "", f"the image carries build tools, pip or tests:\n{inside}"

    port = free_port()
    web = compose_service(name)
    environment = environment_for(web, s, url, passwords[name], identity_url)
    environment.update(PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}")
    container = f"garage-test-{RUN}-{name}"
    # The image's own command (CMD): no command given.
    docker.docker("run", "--detach", "--name", container, *run_arguments(web, environment), tag)
    wait_ready(docker, container, port)

    migrate = compose_service(f"{name}-migrate")
    result = docker.docker(
        "run", "--rm", *run_arguments(migrate, environment_for(migrate, s, url, passwords[name])),
        tag, *migrate["command"], check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"migrations failed:\n{result.stdout}{result.stderr}"

    if s.contract:
        # A token identity issued, checked against the key set the service fetches from identity.
        path = list_path(s)
        token = identity_token(docker, issuer_container)
        status, body = http_get(f"http://127.0.0.1:{port}{path}", {"Authorization": f"Bearer {token}"})
        assert status == 200, f"GET {path}: {status} {body[:500]!r}"
    else:
        pages_served(s, port)

    workers = []
    for process in s.processes:
        entry = compose_service(f"{name}-{process.name}")
        worker = f"garage-test-{RUN}-{name}-{process.name}"
        docker.docker(
            "run", "--detach", "--name", worker,
            *run_arguments(entry, environment_for(entry, s, url, passwords[name], identity_url)),
            tag, *entry["command"],
        )  # fmt: skip
        workers.append(worker)

    deadline = time.monotonic() + 60
    health = ""
    while time.monotonic() < deadline:
        health = docker.docker("inspect", "--format", "{{.State.Health.Status}}", container).stdout.strip()
        if health == "healthy":
            break
        time.sleep(1)
    assert health == "healthy", f"the image's HEALTHCHECK says {health}"

    time.sleep(max(0.0, 5 - (time.monotonic() - started)))
    for worker in workers:
        state = docker.docker("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", worker).stdout
        logs = docker.docker("logs", worker, check=False)
        assert state.strip() == "true 0", (
            f"{worker} stopped: {state}\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}"
        )
        assert "Traceback" not in logs.stdout + logs.stderr, logs.stderr[-3000:]
    docker.docker("rm", "--force", container, *workers)

    # Its role reads its own schema and nobody else's.
    own = connect(url, user=s.role, password=passwords[name])
    try:
        with own.cursor() as cursor:
            cursor.execute(
                sql.SQL("SELECT count(*) FROM {}.alembic_version").format(sql.Identifier(s.schema))
            )
            assert cursor.fetchone()[0] == 1
            for other in services.SERVICES:
                if other.name != name:
                    with pytest.raises(errors.InsufficientPrivilege):
                        cursor.execute(sql.SQL("SELECT FROM {}.nothing").format(sql.Identifier(other.schema)))
    finally:
        own.close()
    SUMMARY.append(f"  {name}: served, migrated and ran its processes in {time.monotonic() - started:.0f} s")


def pages_served(s: services.Service, port: int) -> None:
    """An app with pages (no contract): signed out, a page sends the person to sign in (the
    console); a link that is none is the friendly refusal, under the app's prefix as the
    ingress serves it (the portal); the browser files its image carries (from the npm
    registry) are served."""
    if s.signs_in_people:
        status, _ = http_get(f"http://127.0.0.1:{port}/board", follow=False)
        assert status in (302, 303), f"GET /board signed out: {status}"
    else:
        status, body = http_get(f"http://127.0.0.1:{port}{s.mounted_at}/estimate/not-a-link", follow=False)
        assert status == 403 and b"<html" in body, f"GET {s.mounted_at}/estimate/not-a-link: {status}"
        stylesheet = f"{s.mounted_at}/static/portal.css".encode()
        assert stylesheet in body, "the page's stylesheet is not under the prefix"
        status, _ = http_get(f"http://127.0.0.1:{port}{stylesheet.decode()}")
        assert status == 200, f"GET {stylesheet.decode()}: {status}"
    for path in s.assets:
        name = path.rsplit("/", 1)[1]
        status, body = http_get(f"http://127.0.0.1:{port}/vendor/{name}")
        assert status == 200 and len(body) > 1000, f"GET /vendor/{name}: {status}"
        assert body == (s.folder / "node_modules" / path).read_bytes(), f"{name} is not the npm package's"


class EngineWithBase(images.Engine):
    """An engine that has every base image already (nothing is pulled or made)."""

    def has_image(self, name: str) -> bool:
        return True


@pytest.mark.parametrize("forced", [None, "0", "1"])
@pytest.mark.parametrize("chosen", [None, images.OFFICIAL_BASE])
def test_the_private_engine_always_builds_from_the_wheelhouse(
    monkeypatch: pytest.MonkeyPatch, forced: str | None, chosen: str | None
) -> None:
    # Its builds have no network (--bridge=none): `pip wheel` can only use deploy/wheelhouse,
    # so the wheelhouse must be filled (offline) even when a registry gave the official base.
    for variable, value in (("GARAGE_OFFLINE_BUILD", forced), ("GARAGE_BASE_IMAGE", chosen)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    assert images.base_image(EngineWithBase(images.PRIVATE_HOST)) == (images.OFFICIAL_BASE, True)
    # The machine's own engine has a network: it builds online unless told otherwise.
    assert images.base_image(EngineWithBase(images.DEFAULT_HOST)) == (images.OFFICIAL_BASE, forced == "1")
