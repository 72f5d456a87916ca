"""Customer endpoints against a real PostgreSQL, through Flask's test client."""

import uuid

import pytest

from service_kit.testing import assert_problem

ANN = {
    "kind": "person",
    "name": "Ann de Vries",
    "email": "Ann@Example.com",
    "phone": "06 1234 5678",
    "address": {"street": "Oudegracht 1", "postal_code": "3511 AA", "city": "Utrecht", "country": "NL"},
    "preferred_channel": "sms",
    "preferred_language": "nl",
}


# -- create ---------------------------------------------------------------------------


def test_create_answers_201_with_location_etag_and_normalised_contact_data(client, advisor):
    response = client.post("/api/v1/customers", json=ANN, headers=advisor)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/customers/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert uuid.UUID(body["id"]).version == 7
    assert body["phone"] == "+31612345678"
    assert body["email"] == "Ann@example.com"
    assert body["address"]["city"] == "Utrecht"
    assert body["status"] == "active"
    assert body["version"] == 1
    assert body["consents"]["sms"] == {"service": True, "marketing": False}
    assert body["marketing_consent"] is False


def test_business_customer_keeps_company_details(client, advisor):
    response = client.post(
        "/api/v1/customers",
        json={
            "kind": "business",
            "name": "Acme Logistics BV",
            "vat_number": "NL123456789B01",
            "contact_person": "Bob Jansen",
            "phone": "+31 30 123 4567",
            "preferred_channel": "sms",
        },
        headers=advisor,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["kind"], body["vat_number"], body["contact_person"]) == (
        "business",
        "NL123456789B01",
        "Bob Jansen",
    )


# -- payment terms -------------------------------------------------------------------


def test_payment_terms_default_by_kind_a_person_on_collection_a_business_on_account(register):
    person = register(kind="person")
    business = register(kind="business", vat_number="NL123456789B01")
    assert (person["payment_terms_days"], business["payment_terms_days"]) == (0, 30)


def test_the_business_default_is_the_configured_one(app, register, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_PAYMENT_TERMS_DAYS", 21)
    assert register(kind="business")["payment_terms_days"] == 21
    assert register(kind="person")["payment_terms_days"] == 0


def test_payment_terms_given_are_kept_and_can_be_changed(client, advisor, register):
    business = register(kind="business", payment_terms_days=45)
    assert business["payment_terms_days"] == 45
    assert register(kind="person", payment_terms_days=14)["payment_terms_days"] == 14
    response = client.patch(
        f"/api/v1/customers/{business['id']}",
        json={"payment_terms_days": 60},
        headers={**advisor, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["payment_terms_days"] == 60
    read = client.get(f"/api/v1/customers/{business['id']}", headers=advisor).get_json()
    assert read["payment_terms_days"] == 60


def test_malformed_json_is_400(client, advisor):
    response = client.post(
        "/api/v1/customers", data="{not json", content_type="application/json", headers=advisor
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "robot"}, "kind"),
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"email": None, "phone": None}, "email"),
        ({"vat_number": "NL123456789B01"}, "vat_number"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"preferred_language": "Dutch"}, "preferred_language"),
        ({"address": {"country": "XX"}}, "address.country"),
        ({"address": {"country": "NLD"}}, "address"),
        ({"favourite_colour": "red"}, "favourite_colour"),
        ({"email": None, "preferred_channel": "email"}, "preferred_channel"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
        ({"payment_terms_days": 366}, "payment_terms_days"),
        ({"payment_terms_days": None}, "payment_terms_days"),
    ],
)
def test_invalid_fields_are_422_with_a_field_map(client, advisor, change, field):
    body = {**ANN, **change}
    response = client.post("/api/v1/customers", json=body, headers=advisor)
    problem = assert_problem(response, 422)
    assert field in problem["errors"], problem
    assert client.get("/api/v1/customers", headers=advisor).get_json()["items"] == []


def test_missing_required_fields_are_named(client, advisor):
    problem = assert_problem(client.post("/api/v1/customers", json={}, headers=advisor), 422)
    assert {"kind", "name"} <= set(problem["errors"])


def test_email_is_unique_among_active_customers_case_insensitively(client, advisor, register):
    register(email="ann@example.com")
    response = client.post("/api/v1/customers", json={**ANN, "email": "ANN@example.com"}, headers=advisor)
    assert_problem(response, 409)


def test_email_of_an_erased_customer_can_be_used_again(client, advisor, register):
    first = register(email="ann@example.com")
    assert client.delete(f"/api/v1/customers/{first['id']}", headers=advisor).status_code == 204
    assert (
        client.post(
            "/api/v1/customers", json={**ANN, "email": "ann@example.com"}, headers=advisor
        ).status_code
        == 201
    )


def test_consent_given_at_registration_is_recorded(client, advisor):
    response = client.post(
        "/api/v1/customers",
        json={
            **ANN,
            "consents": [
                {
                    "channel": "sms",
                    "purpose": "marketing",
                    "granted": True,
                    "source": "counter",
                    "wording": "Offers?",
                }
            ],
        },
        headers=advisor,
    )
    body = response.get_json()
    assert body["consents"]["sms"]["marketing"] is True
    assert body["marketing_consent"] is True
    ledger = client.get(f"/api/v1/customers/{body['id']}/consents", headers=advisor).get_json()
    assert [entry["wording"] for entry in ledger["history"]] == ["Offers?"]


# -- idempotency ----------------------------------------------------------------------


def test_same_idempotency_key_twice_makes_one_customer(client, advisor):
    headers = {**advisor, "Idempotency-Key": "front-desk-42"}
    first = client.post("/api/v1/customers", json=ANN, headers=headers)
    again = client.post("/api/v1/customers", json=ANN, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert len(client.get("/api/v1/customers", headers=advisor).get_json()["items"]) == 1


def test_same_idempotency_key_with_another_body_is_422(client, advisor):
    headers = {**advisor, "Idempotency-Key": "front-desk-43"}
    client.post("/api/v1/customers", json=ANN, headers=headers)
    problem = assert_problem(
        client.post("/api/v1/customers", json={**ANN, "name": "Other"}, headers=headers), 422
    )
    assert "Idempotency-Key" in problem["errors"]


def test_a_failed_create_does_not_burn_its_idempotency_key(client, advisor):
    headers = {**advisor, "Idempotency-Key": "retry-after-fix"}
    assert client.post("/api/v1/customers", json={**ANN, "email": "bad"}, headers=headers).status_code == 422
    assert client.post("/api/v1/customers", json={**ANN, "email": "bad"}, headers=headers).status_code == 422
    assert client.post("/api/v1/customers", json=ANN, headers=headers).status_code == 201


def test_overlong_idempotency_key_is_400(client, advisor):
    assert_problem(
        client.post("/api/v1/customers", json=ANN, headers={**advisor, "Idempotency-Key": "k" * 256}), 400
    )


# -- read -----------------------------------------------------------------------------


def test_get_answers_with_etag(client, advisor, register):
    customer = register()
    response = client.get(f"/api/v1/customers/{customer['id']}", headers=advisor)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.get_json() == customer


def test_unknown_customer_is_404(client, advisor):
    assert_problem(client.get(f"/api/v1/customers/{uuid.uuid4()}", headers=advisor), 404)


def test_malformed_id_is_404(client, advisor):
    assert_problem(client.get("/api/v1/customers/not-a-uuid", headers=advisor), 404)


# -- list, filters, search, pagination --------------------------------------------------


def test_pages_cover_every_customer_once_in_creation_order(client, advisor, register):
    created = [register()["id"] for _ in range(7)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/customers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=advisor).get_json()
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created


def test_rows_added_while_paging_do_not_shift_pages(client, advisor, register):
    first = [register()["id"] for _ in range(4)]
    page1 = client.get("/api/v1/customers?limit=2", headers=advisor).get_json()
    late = register()["id"]
    page2 = client.get(f"/api/v1/customers?limit=2&cursor={page1['next_cursor']}", headers=advisor).get_json()
    page3 = client.get(f"/api/v1/customers?limit=2&cursor={page2['next_cursor']}", headers=advisor).get_json()
    ids = [i["id"] for p in (page1, page2, page3) for i in p["items"]]
    assert ids == [*first, late]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=abc", "cursor=garbage", "q=ab", "status=gone"]
)
def test_bad_list_parameters_are_422(client, advisor, query):
    assert_problem(client.get(f"/api/v1/customers?{query}", headers=advisor), 422)


def test_filters_by_kind_channel_email_and_phone(client, advisor, register):
    person = register(phone="0612345678", preferred_channel="sms")
    business = register(kind="business", name="Garage Supplies BV")

    def ids(query):
        return [
            c["id"] for c in client.get(f"/api/v1/customers?{query}", headers=advisor).get_json()["items"]
        ]

    assert ids("kind=business") == [business["id"]]
    assert ids("preferred_channel=sms") == [person["id"]]
    assert ids(f"email={person['email'].upper()}") == [person["id"]]
    assert ids("phone=%2B31%206%2012345678") == [person["id"]]
    assert ids("phone=nonsense") == []


@pytest.mark.parametrize(
    "q", ["vries", "VRIES", "ann@exa", "example.com", "12345678", "06 1234 5678", "+316123"]
)
def test_search_matches_name_email_and_phone_fragments(client, advisor, register, q):
    ann = register(name="Ann de Vries", email="ann@example.com", phone="0612345678")
    register(name="Piet Bakker", email="piet@bakker.nl", phone="0201234567")
    found = client.get("/api/v1/customers", query_string={"q": q}, headers=advisor).get_json()["items"]
    assert [c["id"] for c in found] == [ann["id"]]


def test_search_treats_like_wildcards_literally(client, advisor, register):
    register(name="Ann de Vries")
    found = client.get("/api/v1/customers", query_string={"q": "%%%"}, headers=advisor).get_json()["items"]
    assert found == []


def test_erased_customers_are_listed_only_when_asked_for(client, advisor, register):
    kept, gone = register(), register()
    client.delete(f"/api/v1/customers/{gone['id']}", headers=advisor)
    assert [c["id"] for c in client.get("/api/v1/customers", headers=advisor).get_json()["items"]] == [
        kept["id"]
    ]
    erased = client.get("/api/v1/customers?status=erased", headers=advisor).get_json()["items"]
    assert [c["id"] for c in erased] == [gone["id"]]


# -- update -----------------------------------------------------------------------------


def test_patch_changes_fields_and_bumps_the_version(client, advisor, register):
    customer = register()
    response = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"notes": "prefers mornings", "address": {"city": "Amersfoort"}},
        headers={**advisor, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["notes"], body["address"]["city"], body["version"]) == ("prefers mornings", "Amersfoort", 2)
    assert response.headers["ETag"] == '"2"'


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(client, advisor, register):
    customer = register()
    client.patch(f"/api/v1/customers/{customer['id']}", json={"notes": "a"}, headers=advisor)
    problem = assert_problem(
        client.patch(
            f"/api/v1/customers/{customer['id']}", json={"notes": "b"}, headers={**advisor, "If-Match": '"1"'}
        ),
        412,
    )
    assert problem["current_version"] == 2
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=advisor).get_json()["notes"] == "a"


def test_an_unquoted_if_match_is_malformed_not_stale_and_changes_nothing(client, advisor, register):
    customer = register(notes="as registered")
    url = f"/api/v1/customers/{customer['id']}"
    unquoted = client.patch(url, json={"notes": "b"}, headers={**advisor, "If-Match": "1"})
    problem = assert_problem(unquoted, 400)
    assert "double quotes" in problem["detail"]
    assert client.get(url, headers=advisor).get_json()["notes"] == "as registered"


def test_a_customer_id_that_is_no_uuid_is_a_404_saying_so(client, advisor):
    problem = assert_problem(client.get("/api/v1/customers/42", headers=advisor), 404)
    assert problem["detail"] == "'42' is not an id: ids here are UUIDs"


def test_patch_revalidates_the_whole_customer(client, advisor, register):
    customer = register(phone=None)
    problem = assert_problem(
        client.patch(f"/api/v1/customers/{customer['id']}", json={"email": None}, headers=advisor), 422
    )
    assert "email" in problem["errors"]


def test_patch_to_an_email_in_use_is_409(client, advisor, register):
    register(email="taken@example.com")
    other = register()
    assert_problem(
        client.patch(
            f"/api/v1/customers/{other['id']}", json={"email": "TAKEN@example.com"}, headers=advisor
        ),
        409,
    )


def test_patch_of_unknown_customer_is_404(client, advisor):
    assert_problem(
        client.patch(f"/api/v1/customers/{uuid.uuid4()}", json={"notes": "x"}, headers=advisor), 404
    )


def test_patch_of_erased_customer_is_409(client, advisor, register):
    customer = register()
    client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor)
    assert_problem(
        client.patch(f"/api/v1/customers/{customer['id']}", json={"notes": "x"}, headers=advisor), 409
    )


def test_patch_with_unknown_field_is_422(client, advisor, register):
    customer = register()
    assert_problem(
        client.patch(f"/api/v1/customers/{customer['id']}", json={"status": "erased"}, headers=advisor), 422
    )


# -- erasure ----------------------------------------------------------------------------


def test_erasure_anonymises_but_keeps_the_id_resolvable(client, advisor, register):
    customer = register(
        name="Ann de Vries",
        phone="0612345678",
        notes="allergic to cats",
        address={"street": "Oudegracht 1", "city": "Utrecht", "country": "NL"},
    )
    assert client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor).status_code == 204
    erased = client.get(f"/api/v1/customers/{customer['id']}", headers=advisor).get_json()
    assert erased["status"] == "erased"
    assert erased["erased_at"]
    assert erased["name"] == "Erased customer"
    for personal in ("email", "phone", "notes"):
        assert erased[personal] is None
    assert set(erased["address"].values()) == {None}
    assert erased["consents"] == {
        "email": {"service": False, "marketing": False},
        "sms": {"service": False, "marketing": False},
    }
    assert client.get("/api/v1/customers?q=vries&status=erased", headers=advisor).get_json()["items"] == []


def test_erasing_twice_is_fine_and_erasing_nobody_is_404(client, advisor, register):
    customer = register()
    assert client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor).status_code == 204
    assert client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor).status_code == 204
    assert_problem(client.delete(f"/api/v1/customers/{uuid.uuid4()}", headers=advisor), 404)


def test_erasure_removes_who_recorded_consent(client, advisor, auth_headers, register):
    customer = register()
    client.post(
        f"/api/v1/customers/{customer['id']}/consents",
        json={
            "channel": "email",
            "purpose": "marketing",
            "granted": True,
            "source": "web",
            "wording": "News?",
        },
        headers=auth_headers("advisor", subject="desk-anna"),
    )
    client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor)
    ledger = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=advisor).get_json()
    assert [entry["recorded_by"] for entry in ledger["history"]] == ["erased"]
    assert ledger["current"]["email"]["marketing"] is False


# -- consent ledger ----------------------------------------------------------------------


def test_consent_ledger_keeps_every_event_and_derives_the_current_state(
    client, advisor, auth_headers, register
):
    customer = register(phone="0612345678")
    url = f"/api/v1/customers/{customer['id']}/consents"
    grant = {
        "channel": "sms",
        "purpose": "marketing",
        "granted": True,
        "source": "counter",
        "wording": "Deals by SMS?",
    }
    created = client.post(url, json=grant, headers=auth_headers("advisor", subject="desk-anna"))
    assert created.status_code == 201
    assert created.get_json()["recorded_by"] == "desk-anna"
    stop = {**grant, "granted": False, "source": "sms_stop", "wording": "STOP"}
    assert (
        client.post(
            url, json=stop, headers=auth_headers("service", subject="notification-management")
        ).status_code
        == 201
    )
    ledger = client.get(url, headers=advisor).get_json()
    assert ledger["current"]["sms"]["marketing"] is False
    assert [(e["granted"], e["source"]) for e in ledger["history"]] == [
        (False, "sms_stop"),
        (True, "counter"),
    ]
    customer_now = client.get(f"/api/v1/customers/{customer['id']}", headers=advisor).get_json()
    assert customer_now["consents"]["sms"]["marketing"] is False


def test_invalid_consent_is_422_and_unknown_customer_404(client, advisor, register):
    customer = register()
    bad = {"channel": "pigeon", "purpose": "marketing", "granted": "maybe", "source": "web", "wording": ""}
    problem = assert_problem(
        client.post(f"/api/v1/customers/{customer['id']}/consents", json=bad, headers=advisor), 422
    )
    assert {"channel", "granted", "wording"} <= set(problem["errors"])
    assert_problem(client.get(f"/api/v1/customers/{uuid.uuid4()}/consents", headers=advisor), 404)


def test_consent_for_an_erased_customer_is_409(client, advisor, register):
    customer = register()
    client.delete(f"/api/v1/customers/{customer['id']}", headers=advisor)
    grant = {"channel": "email", "purpose": "marketing", "granted": True, "source": "web", "wording": "News?"}
    assert_problem(
        client.post(f"/api/v1/customers/{customer['id']}/consents", json=grant, headers=advisor), 409
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Ann\x00"}, "name"),
        ({"name": "Ann\nBob"}, "name"),
        ({"address": {"city": "U\x1btrecht"}}, "address"),
    ],
)
def test_control_characters_are_refused(client, advisor, change, field):
    problem = assert_problem(client.post("/api/v1/customers", json={**ANN, **change}, headers=advisor), 422)
    assert any(key.startswith(field) for key in problem["errors"]), problem


def test_notes_may_have_line_breaks(client, advisor):
    response = client.post("/api/v1/customers", json={**ANN, "notes": "line one\nline two"}, headers=advisor)
    assert response.status_code == 201
