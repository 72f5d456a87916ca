from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from console_harness import Garage, calls_held_to_the_contracts, running_garage

from service_kit.testing import database_of_its_own


@pytest.fixture(scope="session")
def garage(postgres_server_url: str) -> Iterator[Garage]:
    """identity, the six services and the console, real, on loopback, on a database of
    their own (the services' own tests empty their tables between tests)."""
    with database_of_its_own(postgres_server_url, "garage_console") as url, running_garage(url) as running:
        # The console's client code is checked against the contracts like every consumer:
        # every call any test made, at the end of the run.
        with calls_held_to_the_contracts(running) as problems:
            yield running
        assert not problems, "\n".join(problems)
