"""The payment tests' fixtures: the fake Mollie, the portal configured to pay through
it, and an invoice link invoicing (faked) knows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_mollie import FakeMollie
from flask import Flask
from flask.testing import FlaskClient
from payment_helpers import INVOICING, Invoicing, clean, pay_settings
from portal_fakes import PortalService
from portal_samples import invoice, token

from service_kit.migrations import upgrade


@pytest.fixture(scope="session")
def mollie_server() -> Iterator[FakeMollie]:
    fake = FakeMollie()
    yield fake
    fake.stop()


@pytest.fixture
def mollie(mollie_server: FakeMollie) -> Iterator[FakeMollie]:
    """The fake Mollie, emptied; nothing the client sent outside Mollie's API by the end."""
    mollie_server.reset()
    yield mollie_server
    assert not mollie_server.violations, "\n".join(mollie_server.violations)


@pytest.fixture(scope="session")
def pay_app(
    portal_database: str, fake_services: dict[str, PortalService], mollie_server: FakeMollie
) -> Flask:
    from customer_portal import create_app

    app = create_app(pay_settings(portal_database, fake_services, mollie_server))
    upgrade(app)
    return app


@pytest.fixture
def app(pay_app: Flask) -> Flask:
    """The app the kit's fixtures (``outbox_rows``) read."""
    return pay_app


@pytest.fixture
def pay_client(pay_app: Flask, fakes: dict[str, PortalService], mollie: FakeMollie) -> FlaskClient:
    clean(pay_app)
    return pay_app.test_client()


@pytest.fixture
def invoicing(fakes: dict[str, PortalService]) -> Callable[..., tuple[str, Invoicing]]:
    """``link, served = invoicing(balance_due=12100)``: an invoice link invoicing knows
    (a customer who reads English, unless ``language`` says otherwise)."""

    def serve(**changes: Any) -> tuple[str, Invoicing]:
        link = fakes[INVOICING].link(token("invoice"), "invoice")
        return link, Invoicing(fakes[INVOICING], invoice(**{"language": "en", **changes}))

    return serve
