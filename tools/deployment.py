"""Writes every deployment file from the service list in tools/services.py.

    python tools/deployment.py write [SERVICE ...]   # make deploy-files
    python tools/deployment.py check                 # fail when a committed file differs

With no SERVICE it deploys every service whose folder has a pyproject.toml. It
writes, per service, ``<service>/Dockerfile``, and for all of them together
``docker-compose.yml``, ``deploy/postgres/init-garage.sh``, ``deploy/nginx/garage.conf``,
``deploy/k8s-dev-secrets.sh`` and ``k8s/`` (base and the dev and prod overlays).
The hand-written pieces it reads or leaves alone: ``deploy/image/`` (the Dockerfile
template and the gunicorn settings),
``.dockerignore``, ``k8s/overlays/prod/settings.env`` and
``k8s/overlays/prod/ingress-host.yaml`` (the operator's values).
Each kind of file is made by its module in tools/deploy_files/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_files.facts import deployed
from deploy_files.files import differences, write
from services import BY_NAME, SERVICES, existing


def say(message: str) -> None:
    sys.stdout.write(message + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write_command = commands.add_parser("write", help="write the deployment files")
    write_command.add_argument("services", nargs="*", help="default: every folder with a pyproject.toml")
    commands.add_parser("check", help="fail when a committed deployment file is not what write would make")
    args = parser.parse_args(argv)
    if args.command == "write":
        unknown = [name for name in args.services if name not in BY_NAME]
        if unknown:
            parser.error(f"unknown services {unknown}; add them to tools/services.py")
        services = [BY_NAME[name] for name in args.services] if args.services else existing()
        services = sorted(services, key=SERVICES.index)
        for relative in write(services):
            say(f"wrote {relative}")
        say("deployment covers: " + ", ".join(s.name for s in services))
        return 0
    problems = differences(deployed())
    for problem in problems:
        say(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
