"""Helpers of the deployment tests (importable: conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.35.0"  # the Kubernetes API the manifests are validated against
OVERLAYS = ("dev", "prod")
CI = os.environ.get("CI", "").lower() == "true"
SUMMARY: list[str] = []  # lines for the end of the run: image sizes, timings


def unavailable(reason: str) -> None:
    """Skip a local run; under CI a check that cannot run is a failure."""
    if CI:
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name: str, *candidates: Path) -> str:
    for candidate in (*candidates, BIN / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed; `make test` installs it (tests/deploy/requirements.txt)")
    return str(found)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    kubectl = tool("kubectl")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def kind(documents: list[dict[str, Any]], wanted: str) -> dict[str, dict[str, Any]]:
    """The documents of one kind, by name."""
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == wanted}
