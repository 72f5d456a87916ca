"""Service and inspection due through the API, against real PostgreSQL, with
maintenance-job-management faked at the HTTP boundary (its answers checked against its
contract): one vehicle's due dates with their reasons, the service intervals, the list
of vehicles due in a period, and the refusals."""

import uuid

import pytest

from service_kit.testing import assert_problem

VEHICLES = "/api/v1/vehicles"
INTERVALS = "/api/v1/vehicles/service-intervals"


@pytest.fixture
def admin(auth_headers):
    return auth_headers("admin")


@pytest.fixture
def intervals(client, admin):
    """The two intervals migration 0004 starts a garage with (the tests empty the tables)."""
    for code, body in {
        "small-service": {
            "name": "small service",
            "months": 12,
            "km": 15000,
            "canned_job_codes": ["small-service", "major-service"],
        },
        "major-service": {"name": "major service", "months": 24, "km": 30000},
    }.items():
        assert client.put(f"{INTERVALS}/{code}", json=body, headers=admin).status_code in (
            200,
            201,
        )  # 200: the migration's rows, in the first test


def reading(client, headers, vehicle_id, value, read_at):
    response = client.post(
        f"{VEHICLES}/{vehicle_id}/odometer-readings",
        json={"value": value, "read_at": read_at},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()


def refresh(app, as_of):
    result = app.test_cli_runner().invoke(args=["refresh-due-dates", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    return result.output


# -------------------------------------------------------------------- one vehicle


def test_a_busy_petrol_car_is_due_by_distance_and_for_its_first_apk(
    client, advisor, register, jobs, intervals
):
    vehicle = register(fuel_type="petrol", first_admission_on="2024-03-15", year=2024)
    major = jobs.canned_job("major-service")
    brakes = jobs.canned_job("brakes")
    jobs.completed(
        vehicle["id"], completed_at="2026-01-10T15:00:00+00:00", odometer_in=40_000, canned_job_ids=(major,)
    )
    jobs.completed(
        vehicle["id"], completed_at="2026-05-02T15:00:00+00:00", odometer_in=None, canned_job_ids=(brakes,)
    )
    reading(client, advisor, vehicle["id"], 40_000, "2026-01-10T09:00:00+00:00")
    reading(client, advisor, vehicle["id"], 52_000, "2026-07-10T09:00:00+00:00")

    response = client.get(
        f"{VEHICLES}/{vehicle['id']}/due", query_string={"as_of": "2026-07-15"}, headers=advisor
    )
    assert response.status_code == 200, response.get_json()
    due = response.get_json()
    service = due["service"]
    assert service["interval"] == "small-service"
    assert service["last_service"]["completed_on"] == "2026-01-10"
    assert service["last_service"]["km"] == 40_000
    assert service["due_by_date"] == "2027-01-10"
    assert service["due_km"] == 55_000
    # 12,000 km in 181 days: 3,000 km to go is 45 days after 10 July.
    assert (service["due_on"], service["due_by"]) == ("2026-08-24", "distance")
    assert service["reminder_date"] == "2027-01-10"
    assert any("12000 km in 181 days" in reason for reason in service["reasons"])
    assert due["use"]["method"] == "readings"
    assert due["use"]["km_per_day"] == pytest.approx(66.2)  # from the job's intake reading at midnight
    # The major service: 18,000 km to go at the same pace.
    [major_due] = [i for i in due["intervals"] if i["interval"] == "major-service"]
    assert (major_due["due_by_date"], major_due["due_km"]) == ("2028-01-10", 70_000)
    assert (major_due["due_on"], major_due["due_by"]) == ("2027-04-08", "distance")
    inspection = due["inspection"]
    assert (inspection["status"], inspection["due_on"], inspection["rule"]) == ("due", "2028-03-15", "APK")
    assert not inspection["estimated"]
    # It asked for the vehicle's completed jobs, with a service token.
    [call] = [c for c in jobs.mock.calls if "/maintenance-jobs" in c.request.url]
    assert f"vehicle_id={vehicle['id']}" in call.request.url
    assert call.request.headers["Authorization"].startswith("Bearer ")


def test_declined_service_work_is_not_a_service(client, advisor, register, jobs, intervals):
    vehicle = register(fuel_type="diesel", first_admission_on="2025-06-01")
    small = jobs.canned_job("small-service")
    jobs.completed(
        vehicle["id"], completed_at="2026-06-01T15:00:00+00:00", odometer_in=20_000, declined=(small,)
    )
    due = client.get(f"{VEHICLES}/{vehicle['id']}/due", query_string={"as_of": "2026-07-01"}, headers=advisor)
    service = due.get_json()["service"]
    assert service["last_service"] is None
    # Counted from the first admission: 12 months.
    assert (service["due_by_date"], service["due_km"]) == ("2026-06-01", 15_000)
    assert due.get_json()["inspection"]["due_on"] == "2028-06-01"


def test_too_few_readings_are_explained(client, advisor, register, jobs, intervals):
    vehicle = register(fuel_type="petrol")
    due = client.get(f"{VEHICLES}/{vehicle['id']}/due", headers=advisor).get_json()
    assert due["use"] == {
        "km_per_day": None,
        "method": "unknown",
        "explanation": due["use"]["explanation"],
    }
    assert "too few odometer readings" in due["use"]["explanation"]
    assert due["inspection"]["status"] == "unknown"


def test_the_due_of_an_unknown_vehicle_is_404(client, advisor, jobs):
    response = client.get(f"{VEHICLES}/{uuid.uuid4()}/due", headers=advisor)
    assert_problem(response, 404)
    assert jobs.job_calls() == 0


def test_maintenance_job_management_down_is_503_naming_it(client, advisor, register, jobs, intervals):
    vehicle = register()
    jobs.down = True
    response = client.get(f"{VEHICLES}/{vehicle['id']}/due", headers=advisor)
    assert_problem(response, 503)
    assert response.get_json()["dependency"] == "maintenance-job-management"


@pytest.mark.parametrize("as_of", ["yesterday", "2026-13-01", "", "2026-02-30", "0001-01-01", "9999-12-31"])
def test_a_bad_as_of_is_422(client, advisor, register, as_of, jobs):
    vehicle = register()
    response = client.get(f"{VEHICLES}/{vehicle['id']}/due", query_string={"as_of": as_of}, headers=advisor)
    assert_problem(response, 422)


# ---------------------------------------------------------------- vehicle's dates


def test_first_admission_and_inspection_expiry_are_kept_and_checked(client, advisor, register):
    vehicle = register(year=2020, first_admission_on="2020-05-04")
    assert vehicle["first_admission_on"] == "2020-05-04"
    assert vehicle["inspection_expires_on"] is None
    url = f"{VEHICLES}/{vehicle['id']}"
    changed = client.patch(url, json={"inspection_expires_on": "2027-05-04"}, headers=advisor)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["inspection_expires_on"] == "2027-05-04"
    too_early = client.patch(url, json={"first_admission_on": "2010-01-01"}, headers=advisor)
    assert_problem(too_early, 422)
    assert "first_admission_on" in too_early.get_json()["errors"]
    for bad in ("1700-01-01", "3000-01-01", "05-04-2020", 12):
        assert_problem(client.patch(url, json={"first_admission_on": bad}, headers=advisor), 422)
    cleared = client.patch(url, json={"first_admission_on": None}, headers=advisor)
    assert cleared.get_json()["first_admission_on"] is None


# -------------------------------------------------------------- service intervals


def test_admins_set_the_service_intervals(client, admin, advisor):
    created = client.put(
        f"{INTERVALS}/timing-belt", json={"name": "timing belt", "km": 120_000}, headers=admin
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["canned_job_codes"] == ["timing-belt"]
    assert (body["months"], body["km"], body["active"], body["version"]) == (None, 120_000, True, 1)
    assert created.headers["ETag"] == '"1"'
    changed = client.put(
        f"{INTERVALS}/timing-belt",
        json={"name": "timing belt", "km": 100_000, "months": 72},
        headers={**admin, "If-Match": '"1"'},
    )
    assert changed.status_code == 200
    assert (changed.get_json()["km"], changed.get_json()["months"], changed.get_json()["version"]) == (
        100_000,
        72,
        2,
    )
    stale = client.put(
        f"{INTERVALS}/timing-belt", json={"name": "x", "km": 1000}, headers={**admin, "If-Match": '"1"'}
    )
    assert_problem(stale, 412)
    listed = client.get(INTERVALS, headers=advisor).get_json()["items"]
    assert [i["code"] for i in listed] == ["timing-belt"]
    assert client.get(f"{INTERVALS}/timing-belt", headers=advisor).status_code == 200
    assert_problem(client.get(f"{INTERVALS}/nothing", headers=advisor), 404)
    assert_problem(client.get(f"{INTERVALS}/NOT A CODE", headers=advisor), 404)


@pytest.mark.parametrize(
    ("code", "body"),
    [
        ("small-service", {"name": "small"}),  # neither months nor km
        ("small-service", {"name": "small", "months": None, "km": None}),
        ("small-service", {"name": "small", "months": 0}),
        ("small-service", {"name": "small", "km": 5}),
        ("small-service", {"name": "", "months": 12}),
        ("small-service", {"months": 12}),
        ("small-service", {"name": "small", "months": 12, "canned_job_codes": ["Not A Code"]}),
        ("small-service", {"name": "small", "months": 12, "canned_job_codes": "small-service"}),
        ("Small_Service", {"name": "small", "months": 12}),
        ("x" * 41, {"name": "small", "months": 12}),
    ],
)
def test_a_bad_service_interval_is_422(client, admin, code, body):
    assert_problem(client.put(f"{INTERVALS}/{code}", json=body, headers=admin), 422)
    assert client.get(INTERVALS, headers=admin).get_json()["items"] == []


def test_a_retired_interval_no_longer_gives_a_due_date(client, advisor, admin, register, jobs, intervals):
    vehicle = register(first_admission_on="2025-01-01")
    for code in ("small-service", "major-service"):
        body = {"name": code, "months": 12, "active": False}
        assert client.put(f"{INTERVALS}/{code}", json=body, headers=admin).status_code == 200
    service = client.get(f"{VEHICLES}/{vehicle['id']}/due", headers=advisor).get_json()["service"]
    assert service["due_on"] is None
    assert service["reasons"] == ["the garage has no service intervals"]


# ---------------------------------------------------------------------------- list


def test_the_list_of_vehicles_due_in_a_period(app, client, advisor, register, jobs, intervals):
    petrol = register(fuel_type="petrol", first_admission_on="2023-01-20")  # APK 2027-01-20
    diesel = register(fuel_type="diesel", first_admission_on="2024-01-05")  # APK 2027-01-05
    later = register(fuel_type="petrol", first_admission_on="2026-01-01")  # APK 2030
    gone = register(fuel_type="diesel", first_admission_on="2024-01-06")
    major = jobs.canned_job("major-service")  # counts as a small one too
    jobs.completed(
        petrol["id"], completed_at="2026-01-25T12:00:00+00:00", odometer_in=30_000, canned_job_ids=(major,)
    )
    jobs.completed(
        diesel["id"], completed_at="2026-03-01T12:00:00+00:00", odometer_in=20_000, canned_job_ids=(major,)
    )
    jobs.completed(
        later["id"], completed_at="2026-06-01T12:00:00+00:00", odometer_in=1_000, canned_job_ids=(major,)
    )
    assert "4 vehicles worked out, 0 without their jobs" in refresh(app, "2026-12-07")
    deregistered = client.patch(f"{VEHICLES}/{gone['id']}", json={"status": "deregistered"}, headers=advisor)
    assert deregistered.status_code == 200

    def due(**query):
        response = client.get(f"{VEHICLES}/due", query_string=query, headers=advisor)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    january = due(**{"from": "2027-01-01", "to": "2027-01-31"})
    assert [(i["plate"], i["kind"], i["due_on"]) for i in january["items"]] == [
        (diesel["plate"], "inspection", "2027-01-05"),
        (petrol["plate"], "inspection", "2027-01-20"),
        (petrol["plate"], "service", "2027-01-25"),
    ]
    first = january["items"][0]
    assert (first["vehicle_id"], first["owner_id"], first["make"]) == (
        diesel["id"],
        diesel["owner_id"],
        "Volkswagen",
    )
    assert first["name"] == "APK"
    service = january["items"][2]
    assert (service["name"], service["due_by"], service["due_km"]) == ("small service", "date", 45_000)
    only_services = due(**{"from": "2027-01-01", "to": "2027-12-31", "kind": "service"})
    assert [(i["plate"], i["due_on"]) for i in only_services["items"]] == [
        (petrol["plate"], "2027-01-25"),
        (diesel["plate"], "2027-03-01"),
        (later["plate"], "2027-06-01"),
    ]
    # Paged: one at a time, in the same order, nothing skipped or repeated.
    seen, cursor = [], None
    while True:
        page = due(
            **{"from": "2027-01-01", "to": "2027-12-31", "limit": 1, **({"cursor": cursor} if cursor else {})}
        )
        seen += [(i["vehicle_id"], i["kind"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = due(**{"from": "2027-01-01", "to": "2027-12-31"})["items"]
    assert seen == [(i["vehicle_id"], i["kind"]) for i in everything]
    assert len(seen) == 5  # 2 inspections and 3 services in 2027; 2030's APK and the deregistered one not
    assert due(**{"from": "2026-01-01", "to": "2026-01-31"})["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2027-01-01"},
        {"to": "2027-01-01"},
        {"from": "2027-02-01", "to": "2027-01-01"},
        {"from": "tomorrow", "to": "2027-01-01"},
        {"from": "2027-01-01", "to": "2027-01-31", "kind": "tyres"},
        {"from": "2027-01-01", "to": "2027-01-31", "cursor": "not-a-cursor"},
        {"from": "2027-01-01", "to": "2027-01-31", "cursor": "WyJ4IiwieSIsInoiXQ"},  # ["x","y","z"]
        {"from": "2027-01-01", "to": "2027-01-31", "limit": 0},
        {"from": "2027-01-01", "to": "2027-01-31", "limit": 201},
    ],
)
def test_a_bad_list_query_is_422(client, advisor, query):
    assert_problem(client.get(f"{VEHICLES}/due", query_string=query, headers=advisor), 422)


def test_a_refresh_without_the_jobs_keeps_the_service_and_stores_the_inspection(
    app, client, advisor, register, jobs, intervals
):
    vehicle = register(fuel_type="diesel", first_admission_on="2024-01-05")
    major = jobs.canned_job("major-service")  # counts as a small one too
    jobs.completed(
        vehicle["id"], completed_at="2026-03-01T12:00:00+00:00", odometer_in=20_000, canned_job_ids=(major,)
    )
    refresh(app, "2026-12-07")
    client.patch(f"{VEHICLES}/{vehicle['id']}", json={"first_admission_on": "2024-02-05"}, headers=advisor)
    jobs.history_down = True  # the catalogue answers, the job history does not
    assert "1 vehicles worked out, 1 without their jobs" in refresh(app, "2026-12-07")
    items = client.get(
        f"{VEHICLES}/due", query_string={"from": "2027-01-01", "to": "2027-12-31"}, headers=advisor
    ).get_json()["items"]
    assert [(i["kind"], i["due_on"]) for i in items] == [
        ("inspection", "2027-02-05"),
        ("service", "2027-03-01"),
    ]
