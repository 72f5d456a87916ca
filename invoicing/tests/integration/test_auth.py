"""Who may do what: every operation with every role, and without a token. Technicians
see no money; advisors take payments at the counter (refunds and credit notes are
for accountants and admins) and read and send; `service` creates invoices (from the
job service's outbox) and reads the documents (notification-management fetches the
PDF)."""

from __future__ import annotations

import uuid

from service_kit.role_testing import RoleTableTests

INVOICE = f"/api/v1/invoices/{uuid.uuid4()}"
CREDIT_NOTE = f"/api/v1/credit-notes/{uuid.uuid4()}"
OFFICE = {"admin", "advisor", "accountant"}
BOOKKEEPERS = {"admin", "accountant"}


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
    ]
