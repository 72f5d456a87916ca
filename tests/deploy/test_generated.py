"""The committed deployment files are exactly what tools/deployment.py makes from tools/services.py."""

from __future__ import annotations

import os

import pytest
import services
from deploy_files import files as deploy
from deploy_testing import ROOT


def test_committed_deployment_files_are_what_the_generator_makes(deployed: list[services.Service]) -> None:
    problems = deploy.differences(deployed)
    assert not problems, "run `make deploy-files` and commit the result:\n" + "\n".join(problems)


def test_generated_scripts_are_executable() -> None:
    for relative in deploy.EXECUTABLE:
        assert os.access(ROOT / relative, os.X_OK), f"{relative} is not executable"


def test_every_deployed_service_has_its_folder(deployed: list[services.Service]) -> None:
    missing = [s.name for s in deployed if not s.exists]
    assert not missing, f"deployed but without a pyproject.toml: {missing}"


def test_every_service_folder_is_deployed(deployed: list[services.Service]) -> None:
    # A service folder that appears (its pyproject.toml) joins with `make deploy-files`;
    # until then this says so instead of failing everyone else's run.
    waiting = [s.name for s in services.existing() if s not in deployed]
    if waiting:
        pytest.skip(f"not deployed yet: {', '.join(waiting)} (run `make deploy-files`)")


def test_every_service_folder_is_in_the_service_list() -> None:
    folders = {path.parent.name for path in ROOT.glob("*/pyproject.toml")} - {"service-kit"}
    unknown = folders - set(services.BY_NAME)
    assert not unknown, f"add {sorted(unknown)} to tools/services.py"
