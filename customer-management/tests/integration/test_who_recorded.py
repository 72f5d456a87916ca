"""Who recorded a consent: the token's subject and the name it carried at that moment
(issue 16, point 4), kept when the person is renamed later; records made before the
names were kept got their subject as the name."""

from __future__ import annotations

from alembic import command
from customer_management.models import db
from sqlalchemy import text

from service_kit.migrations import alembic_config, upgrade

GRANT = {"channel": "email", "purpose": "marketing", "granted": True, "source": "counter", "wording": "News?"}


def test_the_name_is_stored_and_a_later_rename_does_not_rewrite_it(client, advisor, auth_headers, register):
    customer = register()
    url = f"/api/v1/customers/{customer['id']}/consents"
    first = client.post(
        url, json=GRANT, headers=auth_headers("advisor", subject="acc-anna", name="Anna de Vries")
    )
    assert first.status_code == 201
    assert (first.get_json()["recorded_by"], first.get_json()["recorded_by_name"]) == (
        "acc-anna",
        "Anna de Vries",
    )
    # Anna marries and identity renames her account: the same subject, a new name.
    renamed = auth_headers("advisor", subject="acc-anna", name="Anna Jansen")
    assert client.post(url, json={**GRANT, "granted": False}, headers=renamed).status_code == 201
    stop = client.post(
        url,
        json={**GRANT, "channel": "email", "source": "sms_stop", "granted": False},
        headers=auth_headers("service", subject="notification-management"),
    )
    assert stop.get_json()["recorded_by_name"] == "notification-management"
    history = client.get(url, headers=advisor).get_json()["history"]
    assert [(e["recorded_by"], e["recorded_by_name"]) for e in history] == [
        ("notification-management", "notification-management"),
        ("acc-anna", "Anna Jansen"),
        ("acc-anna", "Anna de Vries"),
    ]


def test_registering_with_consent_names_who_registered_and_a_token_without_a_name_gives_the_subject(
    client, auth_headers
):
    body = {"kind": "person", "name": "Jan Bakker", "email": "jan@example.com", "consents": [GRANT]}
    created = client.post("/api/v1/customers", json=body, headers=auth_headers("advisor", subject="acc-bas"))
    assert created.status_code == 201, created.get_json()
    ledger = client.get(
        f"/api/v1/customers/{created.get_json()['id']}/consents", headers=auth_headers("advisor")
    ).get_json()
    assert [(e["recorded_by"], e["recorded_by_name"]) for e in ledger["history"]] == [("acc-bas", "acc-bas")]


def test_erasure_removes_the_name_too(client, advisor, auth_headers, register):
    customer = register()
    url = f"/api/v1/customers/{customer['id']}/consents"
    client.post(url, json=GRANT, headers=auth_headers("advisor", subject="acc-anna", name="Anna de Vries"))
    client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor)
    history = client.get(url, headers=advisor).get_json()["history"]
    assert [(e["recorded_by"], e["recorded_by_name"]) for e in history] == [("erased", "erased")]


def test_records_made_before_the_migration_get_their_subject_as_the_name(app, client, register):
    customer = register()
    config = alembic_config(app)
    command.downgrade(config, "0003")
    try:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO customers.consent_records (id, customer_id, channel, purpose, granted,"
                    " source, wording, recorded_by, recorded_at) VALUES (gen_random_uuid(), :customer,"
                    " 'email', 'marketing', true, 'counter', 'News?', 'desk-old', now())"
                ),
                {"customer": customer["id"]},
            )
    finally:
        upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(text("SELECT recorded_by, recorded_by_name FROM customers.consent_records"))
        assert [tuple(row) for row in rows] == [("desk-old", "desk-old")]
