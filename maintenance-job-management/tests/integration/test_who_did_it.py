"""Who added a line, sent an estimate, recorded a decision, changed a price or clocked
in: the token's subject and the name it carried at that moment (issue 16, point 4),
kept when the person is renamed later; and a technician's clock is their own."""

from __future__ import annotations

from alembic import command
from maintenance_job_management.models import db
from sqlalchemy import text

from service_kit.migrations import alembic_config, upgrade
from service_kit.testing import assert_problem

URL = "/api/v1/maintenance-jobs"


def names(body, *fields):
    return tuple((body[field], body[f"{field}_name"]) for field in fields)


def test_lines_estimates_and_decisions_keep_who_by_name(client, jobs, auth_headers):
    job = jobs.in_status("in_progress")
    anna = auth_headers("technician", subject="acc-anna", name="Anna de Vries")
    booked = jobs.labour(job["id"], headers=anna)
    extra = jobs.labour(job["id"], booked=False, description="brake pads", headers=anna)
    assert names(booked, "created_by") == (("acc-anna", "Anna de Vries"),)
    sanne = auth_headers("advisor", subject="acc-sanne", name="Sanne Visser")
    sent = client.post(f"{URL}/{job['id']}/estimates", json={"channel": "counter"}, headers=sanne).get_json()
    assert names(sent, "sent_by") == (("acc-sanne", "Sanne Visser"),)
    decision = {
        "decided_by": "Jan de Vries",
        "channel": "phone",
        "lines": [{"line_id": extra["id"], "approved": True}],
    }
    decided = client.post(f"{URL}/{job['id']}/estimates/{sent['id']}/decision", json=decision, headers=sanne)
    assert decided.status_code == 200, decided.get_json()
    # identity renames both accounts: the same subjects, other names.
    jobs.labour(job["id"], headers=auth_headers("technician", subject="acc-anna", name="Anna Jansen"))
    approvals = client.get(f"{URL}/{job['id']}/approvals", headers=jobs.advisor).get_json()["items"]
    assert sorted(
        (a["channel"], a["decided_by"], a["recorded_by"], a["recorded_by_name"]) for a in approvals
    ) == [
        ("booking", "Anna Jansen", "acc-anna", "Anna Jansen"),
        ("booking", "Anna de Vries", "acc-anna", "Anna de Vries"),
        ("phone", "Jan de Vries", "acc-sanne", "Sanne Visser"),
    ]
    lines = jobs.get(job["id"])["lines"]
    assert sorted(line["created_by_name"] for line in lines) == [
        "Anna Jansen",
        "Anna de Vries",
        "Anna de Vries",
    ]
    estimates = client.get(f"{URL}/{job['id']}/estimates", headers=jobs.advisor).get_json()["items"]
    assert [e["sent_by_name"] for e in estimates] == ["Sanne Visser"]


def test_prices_keep_who_changed_them_last_by_name(client, jobs, auth_headers):
    owner = auth_headers("admin", subject="acc-peter", name="Peter van Leeuwen")
    rate = client.put(
        "/api/v1/labour-rates/default", json={"name": "Workshop", "hourly_rate": 7850}, headers=owner
    )
    assert names(rate.get_json(), "updated_by") == (("acc-peter", "Peter van Leeuwen"),)
    body = {"code": "apk", "name": "APK", "lines": [{"kind": "labour", "description": "APK", "hours": "1"}]}
    canned = client.post("/api/v1/canned-jobs", json=body, headers=owner).get_json()
    assert names(canned, "updated_by") == (("acc-peter", "Peter van Leeuwen"),)
    other = auth_headers("admin", subject="acc-ingrid", name="Ingrid de Wit")
    changed = client.patch(
        f"/api/v1/canned-jobs/{canned['id']}", json={"name": "APK test"}, headers={**other, "If-Match": '"1"'}
    )
    assert names(changed.get_json(), "updated_by") == (("acc-ingrid", "Ingrid de Wit"),)
    again = client.put(
        "/api/v1/labour-rates/default",
        json={"name": "Workshop", "hourly_rate": 7950},
        headers={**other, "If-Match": '"1"'},
    )
    assert names(again.get_json(), "updated_by") == (("acc-ingrid", "Ingrid de Wit"),)


# ------------------------------------------------------------------------ the time clock


def clock(client, job_id, direction, headers, **body):
    return client.post(f"{URL}/{job_id}/clock-{direction}", json=body, headers=headers)


def test_a_technician_clocks_in_as_themselves_under_their_name(client, jobs, auth_headers):
    job = jobs.in_status("in_progress")
    bo = auth_headers("technician", subject="acc-bo", name="Bo Smit")
    entry = clock(client, job["id"], "in", bo).get_json()
    assert names(entry, "technician", "recorded_by") == (("acc-bo", "Bo Smit"), ("acc-bo", "Bo Smit"))
    # Naming themselves is the same as naming no one.
    clock(client, job["id"], "out", bo, technician="acc-bo")
    renamed = auth_headers("technician", subject="acc-bo", name="Bo de Smit")
    clock(client, job["id"], "in", renamed)
    sheet = client.get(f"{URL}/{job['id']}/time-entries", headers=jobs.advisor).get_json()
    assert [e["technician_name"] for e in sheet["entries"]] == ["Bo Smit", "Bo de Smit"]
    assert [(t["technician"], t["technician_name"]) for t in sheet["per_technician"]] == [
        ("acc-bo", "Bo de Smit")
    ]


def test_a_technician_cannot_clock_someone_else_in_or_out(client, jobs, auth_headers):
    job = jobs.in_status("in_progress")
    bo = auth_headers("technician", subject="acc-bo", name="Bo Smit")
    anna = auth_headers("technician", subject="acc-anna", name="Anna de Vries")
    problem = assert_problem(clock(client, job["id"], "in", bo, technician="acc-anna"), 403)
    assert "as themselves" in problem["detail"]
    assert clock(client, job["id"], "in", anna).status_code == 201
    assert_problem(clock(client, job["id"], "out", bo, technician="acc-anna"), 403)
    # Anna's clock still runs; only she (or an admin) stops it.
    assert jobs.get(job["id"])["time"]["clocked_in"] == ["acc-anna"]
    # An advisor has no clock at all, and a technician who is also an advisor none for others.
    assert_problem(clock(client, job["id"], "in", jobs.advisor, technician="acc-bo"), 403)
    both = auth_headers("technician", "advisor", subject="acc-kim", name="Kim")
    assert_problem(clock(client, job["id"], "out", both, technician="acc-anna"), 403)


def test_an_admin_clocks_a_named_technician_under_their_latest_name(client, jobs, auth_headers):
    job = jobs.in_status("in_progress")
    anna = auth_headers("technician", subject="acc-anna", name="Anna de Vries")
    clock(client, job["id"], "in", anna)
    clock(client, job["id"], "out", anna)
    owner = auth_headers("admin", subject="acc-peter", name="Peter van Leeuwen")
    for_anna = clock(client, job["id"], "in", owner, technician="acc-anna")
    assert for_anna.status_code == 201, for_anna.get_json()
    assert names(for_anna.get_json(), "technician", "recorded_by") == (
        ("acc-anna", "Anna de Vries"),
        ("acc-peter", "Peter van Leeuwen"),
    )
    assert clock(client, job["id"], "out", owner, technician="acc-anna").status_code == 200
    # A technician never clocked before: their account id stands in for the name.
    newcomer = clock(client, job["id"], "in", owner, technician="acc-new").get_json()
    assert names(newcomer, "technician") == (("acc-new", "acc-new"),)


def test_rows_made_before_the_migration_get_their_subject_as_the_name(app, client, jobs):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"])
    assert clock(client, job["id"], "in", jobs.technician).status_code == 201
    command.downgrade(alembic_config(app), "0005")
    try:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("UPDATE jobs.job_lines SET created_by = 'tech-old'"))
            connection.execute(
                text("UPDATE jobs.time_entries SET technician = 'tech-old', recorded_by = 'desk-old'")
            )
    finally:
        upgrade(app)
    (line,) = jobs.get(job["id"])["lines"]
    assert names(line, "created_by") == (("tech-old", "tech-old"),)
    (entry,) = client.get(f"{URL}/{job['id']}/time-entries", headers=jobs.advisor).get_json()["entries"]
    assert names(entry, "technician", "recorded_by") == (("tech-old", "tech-old"), ("desk-old", "desk-old"))
