"""Who issued an invoice or a credit note and who recorded a payment: the token's
subject and the name it carried at that moment (issue 16, point 4), kept when the
person is renamed later and guarded like the rest of the document; records made
before the names were kept got their subject as the name."""

from __future__ import annotations

import pytest
from alembic import command
from invoicing.models import db
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service_kit.migrations import alembic_config, upgrade

URL = "/api/v1/invoices"


def names(body, *fields):
    return tuple((body[field], body[f"{field}_name"]) for field in fields)


def test_names_are_stored_and_a_later_rename_does_not_rewrite_them(garage, labour, auth_headers):
    by_service = garage.invoice([labour(100, 6000)])
    assert names(by_service, "issued_by") == (("maintenance-job-management", "maintenance-job-management"),)
    owner = auth_headers("admin", subject="acc-peter", name="Peter van Leeuwen")
    by_owner = garage.create(garage.job([labour(100, 6000)])["id"], headers=owner)
    assert by_owner.status_code == 201, by_owner.get_json()
    invoice = by_owner.get_json()
    assert names(invoice, "issued_by") == (("acc-peter", "Peter van Leeuwen"),)
    ingrid = auth_headers("accountant", subject="acc-ingrid", name="Ingrid de Wit")
    paid = garage.pay(invoice["id"], 1000, headers=ingrid).get_json()
    assert names(paid, "recorded_by") == (("acc-ingrid", "Ingrid de Wit"),)
    note = garage.credit(invoice["id"], headers=ingrid).get_json()
    assert names(note, "issued_by") == (("acc-ingrid", "Ingrid de Wit"),)
    # identity renames Ingrid's account: the same subject, another name.
    renamed = auth_headers("accountant", subject="acc-ingrid", name="Ingrid Bakker")
    garage.pay(by_service["id"], 1000, headers=renamed)
    payments = garage.client.get(f"{URL}/{invoice['id']}/payments", headers=renamed).get_json()["items"]
    assert [names(p, "recorded_by") for p in payments] == [(("acc-ingrid", "Ingrid de Wit"),)]
    later = garage.client.get(f"{URL}/{by_service['id']}/payments", headers=renamed).get_json()["items"]
    assert [names(p, "recorded_by") for p in later] == [(("acc-ingrid", "Ingrid Bakker"),)]
    shown = garage.get(invoice["id"])
    assert names(shown, "issued_by") == (("acc-peter", "Peter van Leeuwen"),)
    assert [names(p, "recorded_by") for p in shown["payments"]] == [(("acc-ingrid", "Ingrid de Wit"),)]
    credit_note = garage.client.get(f"/api/v1/credit-notes/{note['id']}", headers=renamed).get_json()
    assert names(credit_note, "issued_by") == (("acc-ingrid", "Ingrid de Wit"),)


def test_the_database_refuses_to_rewrite_who_issued_or_recorded(app, garage, labour):
    invoice = garage.invoice([labour(100, 6000)])
    garage.pay(invoice["id"], 1000)
    with app.app_context():
        for statement in (
            "UPDATE invoicing.invoices SET issued_by_name = 'someone else' WHERE id = :id",
            "UPDATE invoicing.payments SET recorded_by_name = 'someone else' WHERE invoice_id = :id",
        ):
            with pytest.raises(DBAPIError, match="never change"), db.engine.begin() as connection:
                connection.execute(text(statement), {"id": invoice["id"]})


def test_records_made_before_the_migration_get_their_subject_as_the_name(app, garage, labour):
    invoice = garage.invoice([labour(100, 6000)])
    garage.pay(invoice["id"], 1000)
    garage.credit(invoice["id"])
    command.downgrade(alembic_config(app), "0003")
    upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT issued_by, issued_by_name FROM invoicing.invoices"
                " UNION ALL SELECT issued_by, issued_by_name FROM invoicing.credit_notes"
                " UNION ALL SELECT recorded_by, recorded_by_name FROM invoicing.payments"
            )
        )
        assert sorted(tuple(row) for row in rows) == [
            ("acc-1", "acc-1"),
            ("acc-1", "acc-1"),
            ("maintenance-job-management", "maintenance-job-management"),
        ]
    # The guards are back after the backfill.
    with app.app_context(), pytest.raises(DBAPIError, match="never change"), db.engine.begin() as connection:
        connection.execute(text("UPDATE invoicing.payments SET recorded_by_name = 'x'"))
