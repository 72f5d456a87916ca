"""The whole stack under Docker Compose where no registry answers (`make compose-local`).

    python tools/compose_local.py up        # build, `docker compose up`, wait, print the URL and accounts
    python tools/compose_local.py accounts  # identity's development accounts (new passwords)
    python tools/compose_local.py down      # stop it and drop its volumes

`up` builds every service's image on the Debian base (tools/images.py: engine, base and
wheelhouse made as needed) and the stand-ins for PostgreSQL, nginx and the mail catcher from
Debian packages (deploy/standins/), then runs

    docker compose -f docker-compose.yml -f docker-compose.local.yml -p garage-local up --detach

and waits until the ingress answers: the console at http://localhost:$GARAGE_PORT (8080),
the APIs under /api/v1, identity under /oauth and /.well-known, caught mail listed on
$MAILPIT_PORT (8025). tests/deploy/test_compose_stack.py (`make compose-e2e`) runs the
garage-day browser test against it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import images
from deploy_files.facts import INGRESS_PORT, deployed
from services import ROOT

PROJECT = "garage-local"
FILES = ("docker-compose.yml", "docker-compose.local.yml")
READY_SECONDS = 600


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def compose_command() -> list[str]:
    """`docker compose` (the v2 plugin) where there is one, else docker-compose (v1)."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise images.Unavailable("neither `docker compose` nor docker-compose is installed")


@dataclass
class Stack:
    """A compose project of the garage on one engine: ``port`` is the ingress's on the host."""

    engine: images.Engine
    port: int = INGRESS_PORT
    mail_port: int = 8025
    project: str = PROJECT
    command: list[str] = field(default_factory=compose_command)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **self.engine.env,
            "GARAGE_PORT": str(self.port),
            "MAILPIT_PORT": str(self.mail_port),
            "COMPOSE_PROJECT_NAME": self.project,
        }

    def compose(
        self, *args: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        files = [flag for name in FILES for flag in ("--file", str(ROOT / name))]
        result = subprocess.run(
            [*self.command, *files, "--project-name", self.project, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            tail = result.stdout[-3000:] + result.stderr[-3000:]
            raise RuntimeError(f"compose {' '.join(args[:2])} failed:\n{tail}")
        return result

    def build(self) -> None:
        """Every deployed service's image and the stand-ins (the layers of the last build are reused)."""
        services = deployed()
        base, offline = images.base_image(self.engine)
        if offline:
            images.fill_wheelhouse(self.engine, base, services)
        for s in services:
            images.build(self.engine, s, base, offline)
        images.build_standins(self.engine)

    def up(self) -> None:
        # The images are built (build()); compose only starts them.
        self.compose("up", "--detach", "--no-build")
        self.wait_ready()

    def wait_ready(self, timeout: float = READY_SECONDS) -> None:
        """The ingress starts once every service is healthy; then the console answers at /."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=3) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(2)
        states = self.compose("ps", check=False).stdout
        raise RuntimeError(f"{self.url} did not answer within {timeout:.0f} s:\n{states}")

    def exec(self, service: str, *command: str) -> str:
        return self.compose("exec", "-T", service, *command, timeout=120).stdout

    def accounts(self) -> dict[str, tuple[str, str]]:
        """identity's development accounts, one per staff role, each with a new password."""
        lines = self.exec("identity", "flask", "--app", "identity", "development-accounts").splitlines()
        return {role: (email, password) for role, email, password in (line.split() for line in lines if line)}

    def token(self, role: str) -> str:
        """A token identity issues for the development account of ``role``."""
        return self.exec("identity", "flask", "--app", "identity", "development-token", role).strip()

    def logs(self, tail: int = 40) -> str:
        return self.compose("logs", "--no-color", f"--tail={tail}", check=False).stdout

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", check=False, timeout=300)


def main(argv: list[str]) -> int:
    action = argv[0] if argv else ""
    if action not in ("up", "accounts", "down"):
        say(__doc__ or "")
        return 2
    engine = images.engine()
    try:
        stack = Stack(
            engine,
            port=int(os.environ.get("GARAGE_PORT", INGRESS_PORT)),
            mail_port=int(os.environ.get("MAILPIT_PORT", 8025)),
        )
        if action == "down":
            stack.down()
            say("stopped; its volumes are gone")
            return 0
        if action == "up":
            started = time.monotonic()
            stack.build()
            stack.up()
            say(f"\nThe garage runs under compose (ready in {time.monotonic() - started:.0f} s):")
            say(f"  the staff console   {stack.url}")
            say(f"  the APIs            {stack.url}/api/v1/...")
            say(f"  caught mail         http://127.0.0.1:{stack.mail_port}")
        say("Staff accounts (development only, new passwords each time):")
        for role, (email, password) in stack.accounts().items():
            say(f"  {role:11} {email:27} {password}")
        if engine.private:
            say(f"\nThe engine is private: export DOCKER_HOST={engine.host} to use docker and compose")
        say("Stop: python tools/compose_local.py down")
        return 0
    finally:
        engine.keep()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
