"""What bad input gets, across every service: bounded strings and pages, unknown fields
refused, no client-writable ids, versions, numbers, totals or timestamps, body size."""

from __future__ import annotations

from service_kit.auth import mint_token

# Fields a client must never set: the server owns them.
SERVER_OWNED = {"id", "version", "created_at", "updated_at", "number"}
# A status a client may set because the transition is the client's own decision.
CLIENT_OWNED_STATUS = {
    # Deregistering a vehicle (sold abroad, scrapped) is the front desk's call; every
    # other status in the garage moves only through a transition endpoint.
    ("vehicle-management", "patch", "/api/v1/vehicles/{vehicle_id}"),
}


def test_every_string_a_client_sends_is_bounded(body_fields):
    unbounded = [
        f"{service} {method.upper()} {path}: {name}"
        for service, method, path, fields in body_fields
        for name, field in fields
        if field.get("type") == "string" and not {"maxLength", "enum", "format"} & set(field)
    ]
    assert unbounded == []


def test_no_client_sets_what_the_server_owns(body_fields):
    writable = []
    for service, method, path, fields in body_fields:
        for name, _ in fields:
            leaf = name.rsplit(".", 1)[-1]
            owned = leaf in SERVER_OWNED or "total" in leaf
            if leaf == "status" and (service, method, path) not in CLIENT_OWNED_STATUS:
                owned = True
            if owned:
                writable.append(f"{service} {method.upper()} {path}: {name}")
    assert writable == []


def test_every_page_size_is_bounded(api_operations):
    unbounded = [
        f"{service} {method.upper()} {path}"
        for service, method, path, operation, _ in api_operations
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "limit" and not 1 <= parameter["schema"].get("maximum", 10**9) <= 200
    ]
    assert unbounded == []


def test_unknown_fields_are_refused_by_every_body_operation(
    apps, api_body_operation, fill_path, caller_headers
):
    service, method, path, operation, shared = api_body_operation
    app = apps[service]
    headers = caller_headers(app, operation, "mass-assigner")
    url = fill_path(path, [*shared, *operation.get("parameters", [])])
    response = getattr(app.test_client(), method)(url, json={"smuggled_field": 1}, headers=headers)
    assert response.status_code == 422, (response.status_code, response.get_json())
    assert "smuggled_field" in response.get_json()["errors"]


def test_every_service_refuses_an_oversized_body(apps, api_operations):
    for service, app in apps.items():
        path = next(p for s, m, p, _, _ in api_operations if s == service and m == "post")
        response = app.test_client().post(path, data=b"{" + b" " * (2 * 1024 * 1024) + b"}")
        assert response.status_code == 413, (service, response.status_code)


# What identity keeps for itself on an account: a client sets none of it through a body.
IDENTITY_OWNED = {
    "status",
    "lock",
    "locked_until",
    "failed_attempts",
    "second_factor",
    "totp_secret",
    "password_hash",
    "last_sign_in_at",
}


def test_no_account_body_grants_the_service_role_or_sets_what_identity_owns(body_fields):
    bodies = [(method, path, fields) for owner, method, path, fields in body_fields if owner == "identity"]
    assert {path for _, path, _ in bodies} >= {"/api/v1/accounts", "/api/v1/accounts/{account_id}"}
    for method, path, fields in bodies:
        names = {name for name, _ in fields}
        assert names & IDENTITY_OWNED == set(), f"{method.upper()} {path}"
        for name, field in fields:
            if name == "roles":
                # `service` is for client credentials only: no person holds it.
                assert set(field["items"]["enum"]) == {"admin", "advisor", "technician", "accountant"}


def test_identity_refuses_the_service_role_and_an_overlong_password(apps):
    app = apps["identity"]
    headers = {"Authorization": f"Bearer {mint_token(app.config, roles=['admin'], subject='limits')}"}
    body = {"name": "Some One", "email": "some.one@garage.example", "roles": ["service"]}
    response = app.test_client().post("/api/v1/accounts", json=body, headers=headers)
    assert response.status_code == 422 and "roles" in response.get_json()["errors"]
    body = {**body, "roles": ["advisor"], "password": "p" * 257}
    response = app.test_client().post("/api/v1/accounts", json=body, headers=headers)
    assert response.status_code == 422 and "password" in response.get_json()["errors"]
