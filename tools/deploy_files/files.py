"""Every generated file, by its path from the repository root: made, written, or
compared with the committed one."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from services import ROOT, Service

from .compose import compose, compose_local, nginx
from .dockerfiles import dockerfile
from .facts import INGRESS_PORT, NOTICE
from .k8s_base import base_kustomization, ingress
from .k8s_overlays import dev_kustomization, dev_mailpit, dev_postgres, namespace, prod_kustomization
from .k8s_policies import common_policies
from .k8s_workloads import k8s_service
from .scripts import dev_secrets_script, init_script


class _Dumper(yaml.SafeDumper):
    """Writes a value used twice twice, not as a YAML anchor and alias: easier to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(documents: list[dict[str, Any]] | dict[str, Any], comment: str = "") -> str:
    docs = documents if isinstance(documents, list) else [documents]
    header = f"# {NOTICE}\n" + "".join(f"# {line}\n" for line in comment.splitlines() if comment)
    body = "---\n".join(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=120) for doc in docs)
    return header + body


def render(services: list[Service]) -> dict[str, str]:
    """Path (relative to the repository root) -> content, for every generated file."""
    files: dict[str, str] = {}
    for s in services:
        files[f"{s.name}/Dockerfile"] = dockerfile(s)
        files[f"k8s/base/{s.name}.yaml"] = dump(
            k8s_service(s), f"{s.name}: port {s.port}, schema {s.schema}."
        )
    files["docker-compose.yml"] = dump(
        compose(services),
        "docker compose up: PostgreSQL, each service's migration then its web server, relays and\n"
        f"dispatcher, an SMTP catcher (http://127.0.0.1:8025) and the API on http://127.0.0.1:{INGRESS_PORT}.",
    )
    files["docker-compose.local.yml"] = dump(
        compose_local(services),
        "With no registry: docker-compose.yml with stand-ins for PostgreSQL, nginx and the mail\n"
        "catcher built from Debian packages (deploy/standins/), the services built offline on the\n"
        "Debian base. tools/compose_local.py builds everything and runs\n"
        "  docker compose -f docker-compose.yml -f docker-compose.local.yml up",
    )
    files["deploy/nginx/garage.conf"] = nginx(services)
    files["deploy/postgres/init-garage.sh"] = init_script(services)
    files["deploy/k8s-dev-secrets.sh"] = dev_secrets_script(services)
    files["k8s/base/kustomization.yaml"] = dump(base_kustomization(services))
    files["k8s/base/network-policies.yaml"] = dump(
        common_policies(), "Deny everything by default; every pod may ask the cluster DNS."
    )
    files["k8s/base/ingress.yaml"] = dump(
        ingress(services), "/api/v1/<resource> to the service that owns it."
    )
    files["k8s/overlays/dev/kustomization.yaml"] = dump(dev_kustomization(services))
    files["k8s/overlays/dev/namespace.yaml"] = dump(namespace("garage-dev"))
    files["k8s/overlays/dev/postgres.yaml"] = dump(
        dev_postgres(services),
        "Development only: one PostgreSQL in the cluster, initialised by init-garage.sh.",
    )
    files["k8s/overlays/dev/mailpit.yaml"] = dump(
        dev_mailpit(services), "Development only: catches all email."
    )
    files["k8s/overlays/dev/init-garage.sh"] = files["deploy/postgres/init-garage.sh"]
    files["k8s/overlays/prod/kustomization.yaml"] = dump(prod_kustomization(services))
    files["k8s/overlays/prod/namespace.yaml"] = dump(namespace("garage"))
    return files


EXECUTABLE = {
    "deploy/postgres/init-garage.sh",
    "deploy/k8s-dev-secrets.sh",
    "k8s/overlays/dev/init-garage.sh",
}


def write(services: list[Service], root: Path = ROOT) -> list[str]:
    written = []
    for relative, content in render(services).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            written.append(relative)
        if relative in EXECUTABLE:
            path.chmod(0o755)
    return written


def differences(services: list[Service], root: Path = ROOT) -> list[str]:
    problems = []
    for relative, content in render(services).items():
        path = root / relative
        if not path.exists():
            problems.append(f"{relative}: missing")
            continue
        actual = path.read_text()
        if actual != content:
            diff = difflib.unified_diff(
                actual.splitlines(), content.splitlines(), relative, "generated", lineterm="", n=1
            )
            problems.append("\n".join(list(diff)[:40]))
    return problems
