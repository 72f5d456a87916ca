"""Who booked an appointment: the token's subject and the name it carried at that
moment (issue 16, point 4), kept when the person is renamed later; appointments booked
before the names were kept got their subject as the name."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from workshop_scheduling.models import db

from service_kit.migrations import alembic_config, upgrade

APPOINTMENTS = "/api/v1/appointments"


def test_the_name_is_stored_and_a_later_rename_does_not_rewrite_it(workshop, client, auth_headers):
    workshop.bay()
    sanne = auth_headers("advisor", subject="acc-sanne", name="Sanne Visser")
    first = workshop.book(headers=sanne, start="09:00", end="10:00")
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["booked_by"], first.get_json()["booked_by_name"]) == (
        "acc-sanne",
        "Sanne Visser",
    )
    # identity renames Sanne's account: the same subject, another name.
    renamed = auth_headers("advisor", subject="acc-sanne", name="Sanne de Boer")
    second = workshop.book(headers=renamed, start="11:00", end="12:00").get_json()
    assert second["booked_by_name"] == "Sanne de Boer"
    listed = client.get(APPOINTMENTS, headers=renamed).get_json()["items"]
    assert sorted((a["booked_by"], a["booked_by_name"]) for a in listed) == [
        ("acc-sanne", "Sanne Visser"),
        ("acc-sanne", "Sanne de Boer"),
    ]
    assert workshop.get(first.get_json()["id"])["booked_by_name"] == "Sanne Visser"


def test_a_token_without_a_name_books_under_its_subject(workshop):
    workshop.bay()
    booked = workshop.booked()
    assert (booked["booked_by"], booked["booked_by_name"]) == ("advisor-bea", "advisor-bea")


def test_appointments_booked_before_the_migration_get_their_subject_as_the_name(app, workshop):
    workshop.bay()
    booked = workshop.booked()
    command.downgrade(alembic_config(app), "0003")
    try:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("UPDATE scheduling.appointments SET booked_by = 'desk-old'"))
    finally:
        upgrade(app)
    assert (workshop.get(booked["id"])["booked_by"], workshop.get(booked["id"])["booked_by_name"]) == (
        "desk-old",
        "desk-old",
    )
