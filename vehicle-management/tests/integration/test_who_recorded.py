"""Who recorded an ownership or a reading: the token's subject and the name it carried
at that moment (issue 16, point 4), kept when the person is renamed later; rows made
before the names were kept got their subject as the name."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from vehicle_management.models import db

from service_kit.migrations import alembic_config, upgrade

VEHICLES = "/api/v1/vehicles"


def test_the_name_is_stored_and_a_later_rename_does_not_rewrite_it(client, auth_headers, customers):
    anna = auth_headers("advisor", subject="acc-anna", name="Anna de Vries")
    body = {"plate": "TS-001-X", "make": "Volkswagen", "model": "Golf", "owner_id": str(customers.customer())}
    vehicle = client.post(VEHICLES, json=body, headers=anna).get_json()
    url = f"{VEHICLES}/{vehicle['id']}"
    reading = client.post(f"{url}/odometer-readings", json={"value": 1000}, headers=anna).get_json()
    assert (reading["recorded_by"], reading["recorded_by_name"]) == ("acc-anna", "Anna de Vries")
    # identity renames Anna's account: the same subject, another name.
    renamed = auth_headers("advisor", subject="acc-anna", name="Anna Jansen")
    new_owner = customers.customer(name="Bram Jansen")
    transferred = client.post(
        f"{url}/transfer", json={"new_owner_id": str(new_owner)}, headers={**renamed, "If-Match": '"2"'}
    )
    assert transferred.status_code == 200, transferred.get_json()
    client.post(f"{url}/odometer-readings", json={"value": 2000}, headers=renamed)
    owners = client.get(f"{url}/owners", headers=renamed).get_json()["items"]
    assert [(o["recorded_by"], o["recorded_by_name"]) for o in owners] == [
        ("acc-anna", "Anna Jansen"),
        ("acc-anna", "Anna de Vries"),
    ]
    readings = client.get(f"{url}/odometer-readings", headers=renamed).get_json()["items"]
    assert [(r["value"], r["recorded_by_name"]) for r in readings] == [
        (2000, "Anna Jansen"),
        (1000, "Anna de Vries"),
    ]


def test_rows_made_before_the_migration_get_their_subject_as_the_name(app, client, register):
    vehicle = register()  # its first ownership, recorded by dev-user
    command.downgrade(alembic_config(app), "0002")
    try:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO vehicles.odometer_readings (id, vehicle_id, value, unit, read_at, source,"
                    " corrected, recorded_by, recorded_at) VALUES (gen_random_uuid(), :vehicle, 10, 'km',"
                    " now(), 'workshop', false, 'desk-old', now())"
                ),
                {"vehicle": vehicle["id"]},
            )
            connection.execute(text("UPDATE vehicles.ownerships SET recorded_by = 'desk-older'"))
    finally:
        upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT recorded_by, recorded_by_name FROM vehicles.ownerships"
                " UNION ALL SELECT recorded_by, recorded_by_name FROM vehicles.odometer_readings"
            )
        )
        assert sorted(tuple(row) for row in rows) == [("desk-old", "desk-old"), ("desk-older", "desk-older")]
