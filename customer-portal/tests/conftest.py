"""The portal's tests: the portal app on a database of its own, and the three services it
calls faked at the HTTP boundary (portal_fakes.PortalService, checked against their
contracts). The integration tests run it against the real services (portal_harness)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).parent))

from portal_fakes import PortalService, portal_settings

from service_kit.migrations import upgrade
from service_kit.testing import database_of_its_own

CALLED = ("workshop-scheduling", "maintenance-job-management", "invoicing")


@pytest.fixture(scope="session")
def portal_database(postgres_server_url: str) -> Iterator[str]:
    with database_of_its_own(postgres_server_url, "garage_portal") as url:
        yield url


@pytest.fixture(scope="session")
def fake_services() -> Iterator[dict[str, PortalService]]:
    fakes = {name: PortalService(name) for name in CALLED}
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture(scope="session")
def portal_app(portal_database: str, fake_services: dict[str, PortalService]) -> Flask:
    from customer_portal import create_app

    app = create_app(portal_settings(portal_database, fake_services))
    upgrade(app)
    return app


@pytest.fixture
def fakes(fake_services: dict[str, PortalService]) -> Iterator[dict[str, PortalService]]:
    """The three fakes, emptied for the test; no answer outside a contract by the end."""
    for fake in fake_services.values():
        fake.reset()
    yield fake_services
    violations = [v for fake in fake_services.values() for v in fake.violations]
    assert not violations, "\n".join(violations)
    missing = sorted(m for fake in fake_services.values() for m in fake.missing)
    assert not missing, f"called, but not in the contracts: {missing}"


@pytest.fixture
def client(portal_app: Flask, fakes: dict[str, PortalService]) -> FlaskClient:
    for service_client in portal_app.extensions["customer_portal_services"].values():
        service_client.breaker.reset()
    return portal_app.test_client()


@pytest.fixture(scope="session")
def portal_garage(postgres_server_url: str) -> Iterator[Any]:
    """identity, the six services and the portal, real, on loopback, on a database of their
    own (portal_harness); every call the portal makes in the run held to the contracts."""
    from portal_harness import calls_held_to_the_contracts, running_portal

    with database_of_its_own(postgres_server_url, "garage_portal_it") as url, running_portal(url) as garage:
        with calls_held_to_the_contracts(garage) as problems:
            yield garage
        assert not problems, "\n".join(problems)
