from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from console_harness import Garage, running_garage


@pytest.fixture(scope="session")
def garage(fresh_database_url: str) -> Iterator[Garage]:
    """identity, the six services and the console, real, on loopback, one database."""
    with running_garage(fresh_database_url) as running:
        yield running
