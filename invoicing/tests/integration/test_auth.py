"""Who may do what: every operation with every role, and without a token. Technicians
see no money; advisors take payments at the counter (refunds and credit notes are
for accountants and admins) and read and send; `service` creates invoices (from the
job service's outbox) and reads the documents (notification-management fetches the
PDF). The customer portal (role `portal`) reaches its three operations only, and
those only with a pay link (test_portal has the link's refusals); no other operation
admits it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from service_kit.links import LINK_HEADER
from service_kit.role_testing import RoleTableTests, assert_roles

INVOICE = f"/api/v1/invoices/{uuid.uuid4()}"
CREDIT_NOTE = f"/api/v1/credit-notes/{uuid.uuid4()}"
PORTAL = "/api/v1/portal/invoice"
OFFICE = {"admin", "advisor", "accountant"}
BOOKKEEPERS = {"admin", "accountant"}


class WithPayLink:
    """The test client, carrying a real pay link on the portal's operations: the role
    check is what is tried there, not the link (without one the portal is a 403 too)."""

    def __init__(self, client: Any, link: Any) -> None:
        self.client = client
        self.link = link

    def open(self, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        if path.startswith(PORTAL):
            headers = {**(headers or {}), LINK_HEADER: self.link()}
        return self.client.open(path, headers=headers, **kwargs)


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/invoices", OFFICE),
        ("POST", "/api/v1/invoices", {"admin", "service"}),
        ("GET", "/api/v1/invoices/receivables", OFFICE),
        ("GET", INVOICE, OFFICE | {"service"}),
        ("GET", f"{INVOICE}/pdf", OFFICE | {"service"}),
        ("POST", f"{INVOICE}/send", OFFICE),
        ("GET", f"{INVOICE}/payments", OFFICE),
        ("POST", f"{INVOICE}/payments", OFFICE),
        ("GET", f"{INVOICE}/payments/{uuid.uuid4()}/receipt", OFFICE),
        ("GET", "/api/v1/payments?from=2026-03-05", OFFICE),
        ("GET", "/api/v1/credit-notes", OFFICE),
        ("POST", "/api/v1/credit-notes", BOOKKEEPERS),
        ("GET", CREDIT_NOTE, OFFICE | {"service"}),
        ("GET", f"{CREDIT_NOTE}/pdf", OFFICE | {"service"}),
        ("GET", "/api/v1/invoices/outbox-messages", {"admin"}),
        ("GET", f"/api/v1/invoices/outbox-messages/{uuid.uuid4()}", {"admin"}),
        ("POST", f"/api/v1/invoices/outbox-messages/{uuid.uuid4()}/retry", {"admin"}),
        ("GET", PORTAL, {"portal"}),
        ("GET", f"{PORTAL}/pdf", {"portal"}),
        ("POST", f"{PORTAL}/payments", {"portal"}),
    ]

    @pytest.fixture
    def linked_client(self, garage: Any, portal: Any) -> WithPayLink:
        made: list[str] = []

        def link() -> str:  # an invoice only for the rows that need one
            if not made:
                made.append(portal.link(garage.invoice()["id"]))
            return made[0]

        return WithPayLink(garage.client, link)

    def test_each_role_is_allowed_or_forbidden(
        self, linked_client: WithPayLink, auth_headers: Any, operation: Any
    ) -> None:
        assert_roles(linked_client, auth_headers, *operation)
