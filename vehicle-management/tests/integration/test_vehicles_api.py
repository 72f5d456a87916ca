"""The vehicles API against real PostgreSQL, with customer-management faked at the
HTTP boundary (its answers checked against its contract): every rule and status."""

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from service_kit.auth import TokenVerifier
from service_kit.testing import assert_problem

VEHICLES = "/api/v1/vehicles"


def vehicle_count(client, headers, **filters):
    return len(
        client.get(VEHICLES, query_string={"limit": 200, **filters}, headers=headers).get_json()["items"]
    )


# ----------------------------------------------------------------------- register


def test_registers_a_vehicle_for_an_existing_customer(client, advisor, customers):
    owner = customers.customer()
    response = client.post(
        VEHICLES,
        json={
            "owner_id": str(owner),
            "plate": "ab-12-cd",
            "vin": "1HGCM82633A004352",
            "make": "Honda",
            "model": "Accord",
            "fuel_type": "petrol",
            "colour": "silver",
        },
        headers=advisor,
    )
    assert response.status_code == 201, response.get_json()
    vehicle = response.get_json()
    assert response.headers["Location"].endswith(f"{VEHICLES}/{vehicle['id']}")
    assert response.headers["ETag"] == '"1"'
    assert vehicle["owner_id"] == str(owner)
    assert vehicle["plate"] == "ab-12-cd"
    assert vehicle["plate_normalised"] == "AB12CD"
    assert vehicle["plate_display"] == "AB-12-CD"
    assert vehicle["country"] == "NL"
    assert vehicle["year"] == 2003
    assert vehicle["status"] == "active"
    assert vehicle["odometer"] is None
    assert vehicle["warnings"] == []
    assert uuid.UUID(vehicle["id"]).version == 7

    fetched = client.get(response.headers["Location"], headers=advisor)
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == '"1"'
    assert fetched.get_json() == vehicle


def test_the_owner_check_carries_the_request_id_and_a_service_token(app, client, advisor, customers):
    owner = customers.customer()
    response = client.post(
        VEHICLES,
        json={"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"},
        headers={**advisor, "X-Request-ID": "front-desk-123"},
    )
    assert response.status_code == 201
    [call] = customers.mock.calls
    assert call.request.method == "GET"
    assert call.request.url == f"http://customer-management.test/api/v1/customers/{owner}"
    assert call.request.headers["X-Request-ID"] == "front-desk-123"
    token = call.request.headers["Authorization"].removeprefix("Bearer ")
    assert TokenVerifier(app.config).verify(token).roles == {"service"}


def test_an_unknown_owner_is_422_and_nothing_is_stored(client, advisor, customers):
    owner = customers.unknown()
    response = client.post(
        VEHICLES,
        json={"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"},
        headers=advisor,
    )
    body = assert_problem(response, 422, "owner-not-found")
    assert body["errors"]["owner_id"] == [f"customer {owner} does not exist"]
    assert vehicle_count(client, advisor) == 0


def test_an_erased_owner_is_422(client, advisor, customers):
    owner = customers.customer(status="erased")
    response = client.post(
        VEHICLES,
        json={"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"},
        headers=advisor,
    )
    body = assert_problem(response, 422, "owner-erased")
    assert "erased" in body["errors"]["owner_id"][0]


@pytest.mark.parametrize("failure", ["down", "slow", "failing"])
def test_customer_management_failing_is_503_naming_it_and_nothing_is_stored(
    client, advisor, customers, failure
):
    owner = getattr(customers, failure)()
    started = time.perf_counter()
    response = client.post(
        VEHICLES,
        json={"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"},
        headers=advisor,
    )
    assert time.perf_counter() - started < 2
    body = assert_problem(response, 503, "dependency-failed")
    assert body["dependency"] == "customer-management"
    assert vehicle_count(client, advisor) == 0


def test_an_unexpected_answer_from_customer_management_is_503(client, advisor, customers):
    owner = customers.failing(status=403)
    response = client.post(
        VEHICLES,
        json={"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"},
        headers=advisor,
    )
    body = assert_problem(response, 503)
    assert body["detail"] == "customer-management answered 403 to a customer look-up"


def test_while_customer_management_is_failing_callers_get_503_at_once(client, advisor, customers):
    owner = customers.down()
    body = {"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"}
    for _ in range(3):  # the breaker's threshold in the tests
        assert client.post(VEHICLES, json=body, headers=advisor).status_code == 503
    calls = customers.calls_for(owner)

    started = time.perf_counter()
    response = client.post(VEHICLES, json=body, headers=advisor)
    assert time.perf_counter() - started < 0.1
    assert "not calling it for now" in assert_problem(response, 503)["detail"]
    assert customers.calls_for(owner) == calls, "an open breaker does not call"

    healthy = customers.customer()
    time.sleep(0.25)  # the breaker's cool-down in the tests
    recovered = client.post(VEHICLES, json={**body, "owner_id": str(healthy)}, headers=advisor)
    assert recovered.status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"plate": "--"}, "plate"),
        ({"plate": ""}, "plate"),
        ({"country": "XX"}, "country"),
        ({"country": "NLD"}, "country"),
        ({"vin": "1M8GDM9AXKP04278"}, "vin"),
        ({"vin": "1M8GDM9AXKP04278O"}, "vin"),
        ({"vin": "1M8GDM9AXKP042789"}, "vin"),  # North American with a wrong check digit
        ({"year": 1700}, "year"),
        ({"fuel_type": "steam"}, "fuel_type"),
        ({"make": None}, "make"),
        ({"owner_id": "not-a-uuid"}, "owner_id"),
        ({"colour": "x" * 41}, "colour"),
        ({"make": "Vol\x00vo"}, "make"),
        ({"model": "V60\n"}, "model"),
    ],
)
def test_invalid_vehicles_are_422_naming_the_field_without_asking_for_the_owner(
    client, advisor, customers, fields, field
):
    owner = customers.customer()
    body = {"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60", **fields}
    response = client.post(VEHICLES, json=body, headers=advisor)
    problem = assert_problem(response, 422)
    assert field in problem["errors"], problem
    assert customers.calls_for(owner) == 0


def test_required_fields_are_named(client, advisor):
    problem = assert_problem(client.post(VEHICLES, json={}, headers=advisor), 422)
    assert set(problem["errors"]) == {"owner_id", "plate", "make", "model"}


def test_malformed_json_is_400(client, advisor):
    response = client.post(VEHICLES, data="{not json", content_type="application/json", headers=advisor)
    assert_problem(response, 400)


def test_a_european_vin_with_a_wrong_check_digit_is_accepted_with_a_warning(register):
    vehicle = register(vin="wvwzzz1kzaw000001")
    assert vehicle["vin"] == "WVWZZZ1KZAW000001"
    assert vehicle["year"] == 2010
    assert len(vehicle["warnings"]) == 1
    assert vehicle["warnings"][0].startswith("vin: the check digit (position 9) is Z")


def test_the_model_year_is_read_from_the_vin_unless_given(register):
    assert register(vin="1M8GDM9AXKP042788")["year"] == 1989
    given = register(vin="11111111111111111", year=2001)
    assert given["year"] == 2001
    assert given["warnings"] == []


# ------------------------------------------------------------------ uniqueness


@pytest.mark.parametrize("spelling", ["AB-12-CD", "ab 12 cd", "AB12CD", "Ab.12.Cd"])
def test_a_plate_in_any_spelling_is_taken_once_per_country(client, advisor, register, customers, spelling):
    first = register(plate="AB-12-CD")
    response = client.post(
        VEHICLES,
        json={"owner_id": str(customers.customer()), "plate": spelling, "make": "Fiat", "model": "Panda"},
        headers=advisor,
    )
    body = assert_problem(response, 409, "plate-already-registered")
    assert first["id"] in body["detail"]
    assert register(plate=spelling, country="BE")["plate"] == spelling


def test_every_answer_shows_the_plate_in_its_countrys_format_beside_what_was_typed(client, advisor, register):
    dutch = register(plate="xd 123z")
    shown = (dutch["plate"], dutch["plate_normalised"], dutch["plate_display"])
    assert shown == ("xd 123z", "XD123Z", "XD-123-Z")
    assert client.get(f"{VEHICLES}/{dutch['id']}", headers=advisor).get_json()["plate_display"] == "XD-123-Z"
    [listed] = client.get(VEHICLES, query_string={"plate": "XD123Z"}, headers=advisor).get_json()["items"]
    assert listed["plate_display"] == "XD-123-Z"
    changed = client.patch(f"{VEHICLES}/{dutch['id']}", json={"plate": "12abc3"}, headers=advisor)
    assert (changed.get_json()["plate"], changed.get_json()["plate_display"]) == ("12abc3", "12-ABC-3")
    belgian = register(plate="1-abc-234", country="BE")
    assert belgian["plate_display"] == "1ABC234", "as stored until Belgian rules are added"


def test_the_plate_of_a_deregistered_vehicle_can_be_issued_again(client, advisor, register):
    old = register(plate="AB-12-CD")
    response = client.patch(f"{VEHICLES}/{old['id']}", json={"status": "deregistered"}, headers=advisor)
    assert response.status_code == 200
    assert response.get_json()["deregistered_at"] is not None
    new = register(plate="ab12cd")
    assert new["plate_normalised"] == old["plate_normalised"]
    # The old vehicle cannot come back while its plate is in use.
    reactivate = client.patch(f"{VEHICLES}/{old['id']}", json={"status": "active"}, headers=advisor)
    assert_problem(reactivate, 409, "plate-already-registered")


def test_a_vin_is_registered_once(client, advisor, register, customers):
    register(vin="1M8GDM9AXKP042788")
    response = client.post(
        VEHICLES,
        json={
            "owner_id": str(customers.customer()),
            "plate": "ZZ-99-ZZ",
            "vin": "1m8gdm9axkp042788",
            "make": "MCI",
            "model": "Coach",
        },
        headers=advisor,
    )
    assert_problem(response, 409, "vin-already-registered")


# ---------------------------------------------------------------------- look-ups


def test_get_an_unknown_vehicle_is_404(client, advisor):
    assert_problem(client.get(f"{VEHICLES}/{uuid.uuid4()}", headers=advisor), 404, "vehicle-not-found")
    assert_problem(client.get(f"{VEHICLES}/not-a-uuid", headers=advisor), 404)


@pytest.mark.parametrize("spelling", ["AB-12-CD", "ab 12 cd", "AB12CD", "ab-12cd"])
def test_look_up_by_plate_in_any_spelling(client, advisor, register, spelling):
    wanted = register(plate="AB-12-CD")
    register(plate="AB-12-CD", country="DE")
    register(plate="XY-99-ZZ")
    found = client.get(
        VEHICLES, query_string={"plate": spelling, "country": "nl"}, headers=advisor
    ).get_json()
    assert [v["id"] for v in found["items"]] == [wanted["id"]]
    assert vehicle_count(client, advisor, plate=spelling) == 2


def test_look_up_by_vin_and_by_owner(client, advisor, register, customers):
    owner = customers.customer()
    first = register(owner_id=str(owner), vin="1HGCM82633A004352")
    second = register(owner_id=str(owner))
    register()
    by_vin = client.get(VEHICLES, query_string={"vin": "1hgcm82633a004352"}, headers=advisor).get_json()
    assert [v["id"] for v in by_vin["items"]] == [first["id"]]
    by_owner = client.get(VEHICLES, query_string={"owner_id": str(owner)}, headers=advisor).get_json()
    assert [v["id"] for v in by_owner["items"]] == [first["id"], second["id"]]


def test_a_look_up_that_cannot_match_is_an_empty_list(client, advisor, register):
    register()
    assert vehicle_count(client, advisor, plate="--") == 0
    assert vehicle_count(client, advisor, vin="short") == 0
    assert vehicle_count(client, advisor, owner_id=str(uuid.uuid4())) == 0


def test_control_characters_in_look_ups_are_422(client, advisor):
    for field in ("plate", "country", "vin"):
        response = client.get(VEHICLES, query_string={field: "\x00\x00"}, headers=advisor)
        assert field in assert_problem(response, 422)["errors"]


def test_a_reading_note_may_have_several_lines(client, advisor, register):
    vehicle = register()
    note = "cluster replaced\n\tby the dealer"
    response = client.post(
        f"{VEHICLES}/{vehicle['id']}/odometer-readings", json={"value": 5, "note": note}, headers=advisor
    )
    assert response.status_code == 201
    assert response.get_json()["note"] == note


def test_deregistered_vehicles_are_listed_on_request(client, advisor, register):
    gone = register()
    register()
    client.patch(f"{VEHICLES}/{gone['id']}", json={"status": "deregistered"}, headers=advisor)
    assert vehicle_count(client, advisor) == 1
    assert vehicle_count(client, advisor, status="deregistered") == 1


def test_keyset_pages_walk_every_vehicle_once_oldest_first(client, advisor, register):
    ids = [register()["id"] for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(VEHICLES, query_string=query, headers=advisor).get_json()
        seen += [v["id"] for v in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3


def test_a_made_up_cursor_or_limit_is_422(client, advisor):
    assert (
        "cursor" in assert_problem(client.get(f"{VEHICLES}?cursor=nonsense", headers=advisor), 422)["errors"]
    )
    assert "limit" in assert_problem(client.get(f"{VEHICLES}?limit=201", headers=advisor), 422)["errors"]


# ------------------------------------------------------------------------ PATCH


def test_patch_with_if_match_and_a_stale_etag(client, advisor, register):
    vehicle = register(colour="red")
    url = f"{VEHICLES}/{vehicle['id']}"
    changed = client.patch(
        url, json={"colour": "blue", "plate": "AB 99 ZZ"}, headers={**advisor, "If-Match": '"1"'}
    )
    assert changed.status_code == 200
    assert changed.headers["ETag"] == '"2"'
    assert changed.get_json()["plate"] == "AB 99 ZZ"
    assert changed.get_json()["plate_normalised"] == "AB99ZZ"
    stale = client.patch(url, json={"colour": "green"}, headers={**advisor, "If-Match": '"1"'})
    body = assert_problem(stale, 412)
    assert "version 2" in body["detail"]
    assert client.get(url, headers=advisor).get_json()["colour"] == "blue"


def test_patch_null_clears_an_optional_field(client, advisor, register):
    vehicle = register(colour="red", vin="1HGCM82633A004352")
    changed = client.patch(f"{VEHICLES}/{vehicle['id']}", json={"colour": None, "vin": None}, headers=advisor)
    assert changed.status_code == 200
    assert changed.get_json()["colour"] is None
    assert changed.get_json()["vin"] is None
    assert changed.get_json()["year"] == 2003


def test_patch_applies_the_same_rules(client, advisor, register):
    taken = register(plate="AB-12-CD")
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}"
    assert_problem(client.patch(url, json={"plate": "ab 12 cd"}, headers=advisor), 409)
    assert_problem(client.patch(url, json={"vin": "1M8GDM9AXKP042789"}, headers=advisor), 422)
    assert_problem(client.patch(url, json={"make": ""}, headers=advisor), 422)
    assert client.patch(url, json={"plate": "ab 12 cd", "country": "BE"}, headers=advisor).status_code == 200
    assert client.get(f"{VEHICLES}/{taken['id']}", headers=advisor).get_json()["version"] == 1


def test_the_owner_changes_only_through_a_transfer(client, advisor, register):
    vehicle = register()
    response = client.patch(
        f"{VEHICLES}/{vehicle['id']}", json={"owner_id": str(uuid.uuid4())}, headers=advisor
    )
    assert "owner_id" in assert_problem(response, 422)["errors"]


def test_patch_an_unknown_vehicle_is_404(client, advisor):
    assert_problem(client.patch(f"{VEHICLES}/{uuid.uuid4()}", json={"colour": "red"}, headers=advisor), 404)


# ------------------------------------------------------------------ idempotency


def test_a_repeated_create_with_one_idempotency_key_registers_one_vehicle(client, advisor, customers):
    owner = customers.customer()
    body = {"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"}
    headers = {**advisor, "Idempotency-Key": "front-desk-click-1"}
    first = client.post(VEHICLES, json=body, headers=headers)
    again = client.post(VEHICLES, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert customers.calls_for(owner) == 1
    other = client.post(VEHICLES, json={**body, "plate": "ZZ-99-ZZ"}, headers=headers)
    assert_problem(other, 422)


def test_an_idempotency_key_is_not_used_up_by_a_failed_attempt(client, advisor, customers):
    owner = customers.down()
    body = {"owner_id": str(owner), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"}
    headers = {**advisor, "Idempotency-Key": "retry-me"}
    assert client.post(VEHICLES, json=body, headers=headers).status_code == 503
    customers.customer(owner)  # customer-management is back
    assert client.post(VEHICLES, json=body, headers=headers).status_code == 201


# --------------------------------------------------------------------- transfer


def test_transfer_keeps_the_history_of_owners(client, advisor, register, customers):
    first_owner = customers.customer()
    vehicle = register(owner_id=str(first_owner))
    new_owner = customers.customer(name="Bram Jansen")
    url = f"{VEHICLES}/{vehicle['id']}"
    response = client.post(
        f"{url}/transfer", json={"new_owner_id": str(new_owner)}, headers={**advisor, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["owner_id"] == str(new_owner)
    assert response.headers["ETag"] == '"2"'

    history = client.get(f"{url}/owners", headers=advisor).get_json()["items"]
    assert [h["owner_id"] for h in history] == [str(new_owner), str(first_owner)]
    assert [h["current"] for h in history] == [True, False]
    assert history[0]["owned_until"] is None
    assert history[1]["owned_until"] == history[0]["owned_from"]
    assert history[0]["recorded_by"] == "dev-user"
    assert vehicle_count(client, advisor, owner_id=str(first_owner)) == 0
    assert vehicle_count(client, advisor, owner_id=str(new_owner)) == 1


def test_a_transfer_can_be_dated_back(client, advisor, register, customers):
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}"
    owned_from = client.get(f"{url}/owners", headers=advisor).get_json()["items"][0]["owned_from"]
    too_early = client.post(
        f"{url}/transfer",
        json={"new_owner_id": str(customers.customer()), "transferred_at": "2020-01-01T00:00:00+00:00"},
        headers=advisor,
    )
    assert "transferred_at" in assert_problem(too_early, 422, "invalid-transfer")["errors"]
    naive = client.post(
        f"{url}/transfer",
        json={"new_owner_id": str(customers.customer()), "transferred_at": "2030-01-01T00:00:00"},
        headers=advisor,
    )
    assert "transferred_at" in assert_problem(naive, 422)["errors"]
    assert client.get(f"{url}/owners", headers=advisor).get_json()["items"][0]["owned_from"] == owned_from


@pytest.mark.parametrize(
    ("make_owner", "status", "type_suffix"),
    [("unknown", 422, "owner-not-found"), ("down", 503, "dependency-failed"), ("slow", 503, None)],
)
def test_transfer_checks_the_new_owner(client, advisor, register, customers, make_owner, status, type_suffix):
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}"
    new_owner = getattr(customers, make_owner)()
    response = client.post(f"{url}/transfer", json={"new_owner_id": str(new_owner)}, headers=advisor)
    body = assert_problem(response, status, type_suffix)
    if status == 422:
        assert "new_owner_id" in body["errors"]
    after = client.get(url, headers=advisor).get_json()
    assert after["owner_id"] == vehicle["owner_id"]
    assert after["version"] == 1
    assert len(client.get(f"{url}/owners", headers=advisor).get_json()["items"]) == 1


def test_transfer_to_an_erased_customer_is_422(client, advisor, register, customers):
    vehicle = register()
    response = client.post(
        f"{VEHICLES}/{vehicle['id']}/transfer",
        json={"new_owner_id": str(customers.customer(status="erased"))},
        headers=advisor,
    )
    assert_problem(response, 422, "owner-erased")


def test_transfer_to_the_current_owner_is_409(client, advisor, register):
    vehicle = register()
    response = client.post(
        f"{VEHICLES}/{vehicle['id']}/transfer", json={"new_owner_id": vehicle["owner_id"]}, headers=advisor
    )
    assert_problem(response, 409, "already-owner")


def test_transfer_of_an_unknown_or_deregistered_vehicle(client, advisor, register, customers):
    new_owner = customers.customer()
    unknown = client.post(
        f"{VEHICLES}/{uuid.uuid4()}/transfer", json={"new_owner_id": str(new_owner)}, headers=advisor
    )
    assert_problem(unknown, 404)
    vehicle = register()
    client.patch(f"{VEHICLES}/{vehicle['id']}", json={"status": "deregistered"}, headers=advisor)
    gone = client.post(
        f"{VEHICLES}/{vehicle['id']}/transfer", json={"new_owner_id": str(new_owner)}, headers=advisor
    )
    assert_problem(gone, 409, "vehicle-deregistered")
    assert customers.calls_for(new_owner) == 0


def test_transfer_with_a_stale_etag_is_412(client, advisor, register, customers):
    vehicle = register()
    client.patch(f"{VEHICLES}/{vehicle['id']}", json={"colour": "red"}, headers=advisor)
    response = client.post(
        f"{VEHICLES}/{vehicle['id']}/transfer",
        json={"new_owner_id": str(customers.customer())},
        headers={**advisor, "If-Match": '"1"'},
    )
    assert_problem(response, 412)


def test_owner_history_of_an_unknown_vehicle_is_404(client, advisor):
    assert_problem(client.get(f"{VEHICLES}/{uuid.uuid4()}/owners", headers=advisor), 404)


# --------------------------------------------------------------------- odometer


def test_odometer_readings_only_go_up_unless_corrected(client, advisor, register, auth_headers):
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}/odometer-readings"
    technician = auth_headers("technician")
    first = client.post(url, json={"value": 52_000}, headers=technician)
    assert first.status_code == 201, first.get_json()
    assert first.headers["Location"].endswith(url)
    reading = first.get_json()
    assert (reading["unit"], reading["source"], reading["corrected"]) == ("km", "workshop", False)

    lower = client.post(url, json={"value": 51_000}, headers=technician)
    problem = assert_problem(lower, 422, "odometer-went-down")
    assert "52000 km" in problem["errors"]["value"][0]

    corrected = client.post(
        url, json={"value": 12, "corrected": True, "note": "instrument cluster replaced"}, headers=advisor
    )
    assert corrected.status_code == 201
    assert client.post(url, json={"value": 40}, headers=technician).status_code == 201

    readings = client.get(url, headers=auth_headers("service")).get_json()["items"]
    assert [r["value"] for r in readings] == [40, 12, 52_000]
    current = client.get(f"{VEHICLES}/{vehicle['id']}", headers=advisor).get_json()
    assert current["odometer"]["value"] == 40
    assert current["odometer"]["unit"] == "km"
    assert current["version"] == 4


def test_a_backdated_reading_does_not_replace_the_latest(client, advisor, register):
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}/odometer-readings"
    latest = client.post(url, json={"value": 30_000, "read_at": "2026-01-10T10:00:00+01:00"}, headers=advisor)
    assert latest.status_code == 201
    old = client.post(
        url,
        json={"value": 20_000, "read_at": "2025-06-01T10:00:00+02:00", "source": "import"},
        headers=advisor,
    )
    assert old.status_code == 201
    odometer = client.get(f"{VEHICLES}/{vehicle['id']}", headers=advisor).get_json()["odometer"]
    assert odometer == {"value": 30_000, "unit": "km", "read_at": "2026-01-10T09:00:00+00:00"}
    too_high = client.post(
        url, json={"value": 35_000, "read_at": "2025-07-01T10:00:00+00:00"}, headers=advisor
    )
    assert_problem(too_high, 422)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": -1}, "value"),
        ({"value": "many"}, "value"),
        ({}, "value"),
        ({"value": 1, "unit": "furlong"}, "unit"),
        ({"value": 1, "source": "guess"}, "source"),
        ({"value": 1, "read_at": "2026-01-01T10:00:00"}, "read_at"),
        ({"value": 1, "read_at": "2999-01-01T10:00:00+00:00"}, "read_at"),
    ],
)
def test_invalid_readings_are_422(client, advisor, register, body, field):
    vehicle = register()
    response = client.post(f"{VEHICLES}/{vehicle['id']}/odometer-readings", json=body, headers=advisor)
    assert field in assert_problem(response, 422)["errors"]


def test_readings_of_unknown_or_deregistered_vehicles(client, advisor, register):
    assert_problem(
        client.post(f"{VEHICLES}/{uuid.uuid4()}/odometer-readings", json={"value": 1}, headers=advisor), 404
    )
    assert_problem(client.get(f"{VEHICLES}/{uuid.uuid4()}/odometer-readings", headers=advisor), 404)
    vehicle = register()
    client.patch(f"{VEHICLES}/{vehicle['id']}", json={"status": "deregistered"}, headers=advisor)
    response = client.post(
        f"{VEHICLES}/{vehicle['id']}/odometer-readings", json={"value": 1}, headers=advisor
    )
    assert_problem(response, 409)


def test_readings_are_paged_latest_first(client, advisor, register):
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}/odometer-readings"
    for day, value in enumerate([100, 200, 300], start=1):
        client.post(url, json={"value": value, "read_at": f"2026-01-0{day}T08:00:00+00:00"}, headers=advisor)
    page = client.get(url, query_string={"limit": 2}, headers=advisor).get_json()
    assert [r["value"] for r in page["items"]] == [300, 200]
    rest = client.get(
        url, query_string={"limit": 2, "cursor": page["next_cursor"]}, headers=advisor
    ).get_json()
    assert [r["value"] for r in rest["items"]] == [100]
    assert rest["next_cursor"] is None


# ----------------------------------------- auth on real vehicles (the table: test_auth.py)


@pytest.mark.parametrize(
    ("role", "method", "path_suffix", "status"),
    [
        ("technician", "post", "", 403),
        ("accountant", "post", "", 403),
        ("service", "post", "", 403),
        ("technician", "patch", "/{id}", 403),
        ("technician", "post", "/{id}/transfer", 403),
        ("accountant", "post", "/{id}/odometer-readings", 403),
        ("service", "post", "/{id}/odometer-readings", 403),
        ("accountant", "get", "", 200),
        ("service", "get", "/{id}", 200),
        ("technician", "get", "/{id}/owners", 200),
        ("technician", "get", "/{id}/odometer-readings", 200),
    ],
)
def test_roles(client, register, auth_headers, role, method, path_suffix, status):
    vehicle = register()
    path = VEHICLES + path_suffix.format(id=vehicle["id"])
    response = getattr(client, method)(path, json={"value": 1}, headers=auth_headers(role))
    assert response.status_code == status, response.get_json()


def test_times_with_any_offset_are_stored_in_utc_and_unrepresentable_ones_are_422(
    client, advisor, register, customers
):
    """Found by the system tests' contract fuzzing: PostgreSQL takes UTC offsets only up
    to 15:59, so a reading at "...-23:59" (valid RFC 3339) was a 500; a time whose UTC
    falls outside years 1-9999 could not be stored either."""
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}"
    reading = client.post(
        f"{url}/odometer-readings",
        json={"value": 272, "read_at": "2020-07-26T15:02:50-23:59"},
        headers=advisor,
    )
    assert reading.status_code == 201, reading.get_json()
    assert reading.get_json()["read_at"] == "2020-07-27T15:01:50+00:00"
    for read_at in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        refused = client.post(
            f"{url}/odometer-readings", json={"value": 300, "read_at": read_at}, headers=advisor
        )
        assert "read_at" in assert_problem(refused, 422)["errors"], read_at
    moment = datetime.now(UTC)
    far_east = moment.astimezone(timezone(timedelta(hours=23, minutes=59)))
    transfer = client.post(
        f"{url}/transfer",
        json={"new_owner_id": str(customers.customer()), "transferred_at": far_east.isoformat()},
        headers=advisor,
    )
    assert transfer.status_code == 200, transfer.get_json()
    owners = client.get(f"{url}/owners", headers=advisor).get_json()["items"]
    assert datetime.fromisoformat(owners[0]["owned_from"]) == moment
