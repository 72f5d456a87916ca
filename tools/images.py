"""Builds the service images (`make images`), with whatever Docker engine and base there are.

    python tools/images.py build [SERVICE ...]   # default: every deployed service
    python tools/images.py standins              # the compose stand-ins (deploy/standins/)
    python tools/images.py stop-engine           # stop the engine this tool started

The engine: ``DOCKER_HOST`` when set, else the machine's Docker socket, else (as root)
a ``dockerd`` of our own from Debian's docker.io, on a private socket with its data in
``/var/tmp/garage-docker``. The private engine uses the overlay2 storage driver where the
kernel allows it and vfs elsewhere, creates no bridge and no iptables rules, and is not
the default socket, so nothing else on the machine (testcontainers included) notices it.
Its data stays, so the base image and the build layers are reused by the next build.

The base: ``GARAGE_BASE_IMAGE`` when set; else ``python:3.11-slim`` when the engine
has it or can pull it; else, when no registry answers, a Debian bookworm base made
here with debootstrap (python3, python3-venv, ca-certificates) and kept as
``garage-base:bookworm-python3.11``. Built on that base, the image cannot reach PyPI
either: the host downloads the wheels into deploy/wheelhouse/ and the build installs
them with no index (``--build-arg PIP_NO_INDEX=1``, no network). The private engine's
builds have no network on any base (no bridge), so with it the wheels always come from
the wheelhouse that way.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_files.facts import LOCAL_BASE, STANDINS, deployed, image
from services import BY_NAME, ROOT, Service

# Fixed on purpose (root only): the next build, CI included, reuses the base and the layers there.
STATE = Path(os.environ.get("GARAGE_DOCKER_STATE", "/var/tmp/garage-docker"))  # nosec B108
PRIVATE_HOST = f"unix://{STATE}/docker.sock"
DEFAULT_HOST = "unix:///var/run/docker.sock"
OFFICIAL_BASE = "python:3.11-slim"
WHEELHOUSE = ROOT / "deploy" / "wheelhouse"
LOGS = ROOT / ".run" / "images"


class Unavailable(RuntimeError):
    """No Docker engine can be had here (not root, no dockerd, no debootstrap ...)."""


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


@dataclass
class Engine:
    host: str
    process: subprocess.Popen[bytes] | None = None  # set when this tool started the engine
    # A shared lock on STATE/users held while this process uses the engine: the private
    # engine is stopped only by a run that can take it exclusively, so never under another.
    users: Any = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "DOCKER_HOST": self.host}
        if self.private:
            # Debian's engine with a client that may lack buildx: the classic builder.
            self.env["DOCKER_BUILDKIT"] = "0"

    @property
    def private(self) -> bool:
        return self.host == PRIVATE_HOST

    def docker(
        self, *args: str, check: bool = True, timeout: float | None = 120, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["docker", *args], env=self.env, capture_output=True, text=True, timeout=timeout, **kwargs
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args[:3])} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    def has_image(self, name: str) -> bool:
        return self.docker("image", "inspect", name, check=False).returncode == 0

    def image_size(self, name: str) -> int:
        return int(self.docker("image", "inspect", "--format", "{{.Size}}", name).stdout.strip())

    def stop(self) -> None:
        """Stop the private engine unless another process is using it; its data stays."""
        users = self.users
        self.users = None
        if users is None or not self.private:
            return
        fcntl.flock(users, fcntl.LOCK_UN)
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            users.close()  # another run (make test, make images) still uses it: it stays up
            return
        try:
            if self.process is not None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
                self.process = None
            else:
                stop_private_engine()
        finally:
            users.close()

    def keep(self) -> None:
        """Leave the engine running for whoever comes next."""
        if self.users is not None:
            self.users.close()
            self.users = None


def _answers(host: str) -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env={**os.environ, "DOCKER_HOST": host},
            capture_output=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _users_lock() -> Any:
    STATE.mkdir(parents=True, exist_ok=True)
    handle = open(STATE / "users.lock", "w")  # noqa: SIM115 - held as long as the engine is used
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def engine() -> Engine:
    """An engine that answers: one already running, else a private one started now."""
    found = _engine()
    if found.private:
        found.users = found.users or _users_lock()
    return found


def _engine() -> Engine:
    candidates = (
        [os.environ["DOCKER_HOST"]] if os.environ.get("DOCKER_HOST") else [DEFAULT_HOST, PRIVATE_HOST]
    )
    for host in candidates:
        users = _users_lock() if host == PRIVATE_HOST and os.geteuid() == 0 else None
        if _answers(host):
            return Engine(host, users=users)
        if users is not None:
            users.close()
    if os.environ.get("DOCKER_HOST"):
        raise Unavailable(f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer")
    if os.geteuid() != 0:
        raise Unavailable("no Docker engine answers, and starting one (dockerd) needs root")
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        raise Unavailable("no Docker engine answers and dockerd is not installed (apt-get install docker.io)")
    STATE.mkdir(parents=True, exist_ok=True)
    # overlay2 where the kernel allows it (several times faster), else vfs, which works anywhere.
    chosen = os.environ.get("GARAGE_DOCKER_STORAGE_DRIVER")
    failures = []
    for driver in [chosen] if chosen else ["overlay2", "vfs"]:
        try:
            return _start_engine(driver)
        except Unavailable as exc:
            failures.append(f"{driver}: {exc}")
    raise Unavailable("dockerd did not start:\n" + "\n".join(failures))


def _start_engine(driver: str) -> Engine:
    log = open(STATE / "dockerd.log", "ab")  # noqa: SIM115 - lives as long as the engine
    process = subprocess.Popen(
        [
            "dockerd",
            f"--host={PRIVATE_HOST}",
            f"--data-root={STATE / 'data'}",
            f"--exec-root={STATE / 'exec'}",
            f"--pidfile={STATE / 'dockerd.pid'}",
            f"--storage-driver={driver}",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _answers(PRIVATE_HOST):
            # Ours, or (when ours lost the race and exited) another run's started just now.
            return Engine(PRIVATE_HOST, process if process.poll() is None else None, users=_users_lock())
        if process.poll() is not None:
            tail = (STATE / "dockerd.log").read_text(errors="replace")[-1500:]
            raise Unavailable(f"dockerd exited with {process.returncode}:\n{tail}")
        time.sleep(0.5)
    process.terminate()
    process.wait()
    raise Unavailable(f"dockerd did not answer within 90 s; see {STATE / 'dockerd.log'}")


def stop_private_engine() -> bool:
    pidfile = STATE / "dockerd.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().strip())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 15)
        for _ in range(120):
            os.kill(pid, 0)
            time.sleep(0.5)
    return True


# --------------------------------------------------------------------------- the base


def debian_mirror() -> str:
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for match in re.finditer(r"^URIs:\s*(\S+)", sources.read_text(), re.MULTILINE):
            if not match.group(1).rstrip("/").endswith("-security"):
                return match.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        match = re.search(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s", legacy.read_text(), re.MULTILINE)
        if match:
            return match.group(1)
    return "http://deb.debian.org/debian"


def make_local_base(docker: Engine) -> str:
    """A python3.11 base from Debian's packages (about a minute), imported as LOCAL_BASE."""
    if shutil.which("debootstrap") is None:
        raise Unavailable(
            "no registry answers and debootstrap is not installed (apt-get install debootstrap)"
        )
    STATE.mkdir(parents=True, exist_ok=True)
    rootfs = Path(tempfile.mkdtemp(prefix="rootfs-", dir=STATE))
    rootfs.chmod(0o755)  # it becomes the image's /: mkdtemp's 0700 would lock out the non-root user
    try:
        say(f"making the base image {LOCAL_BASE} with debootstrap ...")
        result = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm",
                str(rootfs),
                debian_mirror(),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise RuntimeError(f"debootstrap failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        # What an image does not need: package caches and lists, documentation, translations.
        for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*"):
            for path in rootfs.glob(pattern):
                if path.is_file():
                    path.unlink()
        for folder in ("usr/share/man", "usr/share/info", "usr/share/locale"):
            shutil.rmtree(rootfs / folder, ignore_errors=True)
        for path in (rootfs / "usr/share/doc").rglob("*"):
            if path.is_file() and path.name != "copyright":
                path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        docker.docker(
            "import",
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            'CMD ["python3"]',
            "-",
            LOCAL_BASE,
            stdin=tar.stdout,
            timeout=600,
        )
        tar.wait()
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return LOCAL_BASE


def base_image(docker: Engine) -> tuple[str, bool]:
    """(base image, offline): offline when the build cannot reach PyPI either. The private
    engine has no bridge (``--bridge=none``): its builds never have a network, whatever
    the base, so they always install from the wheelhouse. (Building "online" there made
    ``pip wheel`` fail for every service as soon as a dependency was not in the
    wheelhouse yet, e.g. orjson and limits in service-kit, authlib in identity.)"""
    forced = os.environ.get("GARAGE_OFFLINE_BUILD")
    chosen = os.environ.get("GARAGE_BASE_IMAGE")
    if chosen:
        offline = forced == "1" if forced else chosen == LOCAL_BASE
        if not docker.has_image(chosen) and chosen == LOCAL_BASE:
            make_local_base(docker)
        return chosen, offline or docker.private
    if (
        docker.has_image(OFFICIAL_BASE)
        or docker.docker("pull", OFFICIAL_BASE, check=False, timeout=300).returncode == 0
    ):
        return OFFICIAL_BASE, forced == "1" or docker.private
    say(f"no registry answers for {OFFICIAL_BASE}: building on a Debian base made here")
    if not docker.has_image(LOCAL_BASE):
        make_local_base(docker)
    return LOCAL_BASE, True


# --------------------------------------------------------------------------- wheels


def requirements(services: list[Service]) -> list[str]:
    found: list[str] = []
    for folder in [ROOT / "service-kit", *(s.folder for s in services)]:
        with open(folder / "pyproject.toml", "rb") as handle:
            for requirement in tomllib.load(handle)["project"]["dependencies"]:
                if not requirement.startswith("service-kit") and requirement not in found:
                    found.append(requirement)
    return [*found, "setuptools>=68"]  # the local packages' build backend


def _download(requirements_file: str, *, no_index: bool) -> bool:
    """The host's pip downloads wheels for the image's Python (3.11, glibc 2.36, this
    machine's architecture) into the wheelhouse. A package PyPI has as source only (pure
    Python, such as http-ece) is built into a wheel on the host first, and taken from there."""
    for _ in range(10):
        result = _pip_download(requirements_file, no_index=no_index)
        if result.returncode == 0:
            return True
        if no_index:
            return False
        source_only = re.findall(r"No matching distribution found for ([^;\s]+)", result.stderr)
        if not source_only or not _build_wheels(source_only):
            sys.stderr.write(result.stderr[-3000:])
            return False
    return False


def _build_wheels(requirements: list[str]) -> bool:
    """Wheels of source-only packages, built on the host (no dependencies: they are
    downloaded as wheels like the rest)."""
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(WHEELHOUSE)]
    return subprocess.run([*command, *requirements], timeout=900).returncode == 0


def _pip_download(requirements_file: str, *, no_index: bool) -> subprocess.CompletedProcess[str]:
    machine = platform.machine()
    # Debian bookworm has glibc 2.36: any manylinux wheel up to that runs on it.
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(36, 16, -1)]
    platforms += [f"manylinux{legacy}_{machine}" for legacy in ("2014", "2010", "1")]
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(WHEELHOUSE),
        "--only-binary=:all:", "--implementation=cp", "--python-version=3.11",
        *(f"--platform={name}" for name in platforms),
        "--requirement", requirements_file,
    ]  # fmt: skip
    # The wheelhouse too: wheels built here from source-only packages are found there.
    command += ["--find-links", str(WHEELHOUSE), *(["--no-index"] if no_index else [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def fill_wheelhouse(docker: Engine, base: str, services: list[Service]) -> None:
    """Every wheel the images need, in deploy/wheelhouse/.

    pip evaluates markers such as ``python_full_version < "3.11.3"`` with the host's
    Python, not the image's, so the set is then resolved once inside the base image,
    offline, and whatever it still misses is downloaded too."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    wanted = requirements(services)
    for _ in range(5):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=WHEELHOUSE, delete=False) as handle:
            handle.write("\n".join(wanted) + "\n")
        try:
            if not _download(handle.name, no_index=True) and not _download(handle.name, no_index=False):
                raise RuntimeError(f"pip could not download the wheels for {', '.join(wanted)}")
            check = docker.docker(
                "run", "--rm", "--network", "none", "--volume", f"{WHEELHOUSE}:/wheelhouse:ro", base,
                "sh", "-c",
                "python3 -m venv /tmp/venv && /tmp/venv/bin/pip download --quiet --no-index --find-links "
                f"/wheelhouse --dest /tmp/wheels --requirement /wheelhouse/{Path(handle.name).name}",
                check=False, timeout=300,
            )  # fmt: skip
        finally:
            os.unlink(handle.name)
        if check.returncode == 0:
            return
        missing = re.findall(r"No matching distribution found for ([^;\s]+)", check.stdout + check.stderr)
        if not missing:
            raise RuntimeError(f"the wheelhouse does not resolve in {base}:\n{check.stderr[-3000:]}")
        wanted = missing
    raise RuntimeError("the wheelhouse still misses wheels after five rounds")


# --------------------------------------------------------------------------- building


def browser_files(service: Service) -> None:
    """The browser files the image carries (tools/services.py ``assets``), installed from the
    npm registry on the host as `make venv` does, when they are not there yet."""
    missing = [path for path in service.assets if not (service.folder / "node_modules" / path).is_file()]
    if not missing:
        return
    if shutil.which("npm") is None:
        raise Unavailable(f"{service.name} needs {', '.join(missing)} from the npm registry: install npm")
    say(f"{service.name}: npm ci (its browser files)")
    command = ["npm", "ci", "--silent", "--no-audit", "--no-fund", "--prefix", str(service.folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"npm ci --prefix {service.name} failed:\n{result.stderr[-2000:]}")


def build(docker: Engine, service: Service, base: str, offline: bool) -> str:
    tag = image(service)
    browser_files(service)
    LOGS.mkdir(parents=True, exist_ok=True)
    arguments = ["build", "--file", f"{service.name}/Dockerfile", "--build-arg", f"BASE_IMAGE={base}"]
    if offline:
        arguments += ["--build-arg", "PIP_NO_INDEX=1", "--network", "none"]
    started = time.monotonic()
    log = ""
    # The build stage is tagged too: the classic builder keeps the layers of tagged images
    # only, and they are the cache of the next build.
    for target in (["--target", "build", "--tag", f"{tag}-build"], ["--tag", tag]):
        result = docker.docker(*arguments, *target, str(ROOT), check=False, timeout=1200, cwd=str(ROOT))
        log += result.stdout + result.stderr
        (LOGS / f"{service.name}.log").write_text(log)
        if result.returncode != 0:
            raise RuntimeError(
                f"building {tag} failed (log: {LOGS / service.name}.log):\n"
                f"{result.stdout[-4000:]}{result.stderr[-2000:]}"
            )
    say(f"built {tag} in {time.monotonic() - started:.0f} s, {docker.image_size(tag) / 1e6:.0f} MB")
    return tag


@contextlib.contextmanager
def built_images(
    services: list[Service], *, keep_engine: bool = False
) -> Iterator[tuple[Engine, dict[str, str]]]:
    """Engine, base and wheels made as needed; every image built; yields (engine, service -> tag)."""
    docker = engine()
    try:
        # One build at a time on this machine: the base, the wheelhouse and the tags are shared.
        with open(STATE / "build.lock", "w") if STATE.is_dir() else contextlib.nullcontext() as lock:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            base, offline = base_image(docker)
            if offline:
                fill_wheelhouse(docker, base, services)
            tags = {s.name: build(docker, s, base, offline) for s in services}
            if docker.private:
                # What rebuilds untagged; the current images and build stages stay as the cache.
                docker.docker("image", "prune", "--force", check=False)
        yield docker, tags
    finally:
        if keep_engine:
            docker.keep()
        else:
            docker.stop()


def build_standins(docker: Engine) -> dict[str, str]:
    """The stand-ins for compose's third-party images (PostgreSQL, nginx, the mail catcher),
    from Debian packages on the Debian base (made first if need be). Their builds fetch the
    packages from the Debian mirror over the host's network; no registry is asked."""
    if not docker.has_image(LOCAL_BASE):
        make_local_base(docker)
    LOGS.mkdir(parents=True, exist_ok=True)
    built = {}
    for name, (tag, dockerfile) in STANDINS.items():
        started = time.monotonic()
        result = docker.docker(
            "build", "--network", "host", "--file", dockerfile, "--build-arg", f"BASE_IMAGE={LOCAL_BASE}",
            "--tag", tag, str(ROOT), check=False, timeout=1200, cwd=str(ROOT),
        )  # fmt: skip
        log = LOGS / f"standin-{name}.log"
        log.write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            tail = result.stdout[-3000:] + result.stderr[-2000:]
            raise RuntimeError(f"building {tag} failed (log: {log}):\n{tail}")
        say(f"built {tag} in {time.monotonic() - started:.0f} s, {docker.image_size(tag) / 1e6:.0f} MB")
        built[name] = tag
    return built


def main(argv: list[str]) -> int:
    if argv[:1] == ["stop-engine"]:
        say("stopped" if stop_private_engine() else "no engine of ours is running")
        return 0
    if argv[:1] == ["standins"]:
        docker = engine()
        try:
            build_standins(docker)
        finally:
            docker.keep()
        return 0
    if argv[:1] != ["build"]:
        say(__doc__ or "")
        return 2
    names = argv[1:]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        say(f"unknown services {unknown}")
        return 2
    services = [BY_NAME[name] for name in names] if names else deployed()
    with built_images(services, keep_engine=True) as (docker, tags):
        say("")
        for tag in tags.values():
            say(f"  {tag:48} {docker.image_size(tag) / 1e6:6.0f} MB")
        if docker.private:
            say(f"\nThe images are in a private engine: export DOCKER_HOST={docker.host}")
            say("Stop it with: python tools/images.py stop-engine (its images stay)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
