"""The admin API: accounts with problems, ETags, Idempotency-Key and pages; every change
is on the audit record with who and from where."""

from service_kit.testing import assert_problem

NEW_PASSWORD = "a new long password"  # pragma: allowlist secret
TOO_SHORT = "short"  # pragma: allowlist secret


def test_create_get_and_list_an_account(client, admin, make_account):
    account = make_account(name="Anna de Vries", email="Anna@Garage.nl", roles=["advisor", "technician"])
    assert account["email"] == "anna@garage.nl"
    assert account["roles"] == ["advisor", "technician"]
    assert account["status"] == "active" and account["lock"] is None and account["second_factor"] is False
    assert "password" not in account and "password_hash" not in account
    got = client.get(f"/api/v1/accounts/{account['id']}", headers=admin)
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    page = client.get("/api/v1/accounts?role=technician", headers=admin).get_json()
    assert [a["id"] for a in page["items"]] == [account["id"]]


def test_an_email_is_one_account(client, admin, make_account):
    make_account(email="same@garage.nl")
    body = {"name": "Other", "email": "SAME@garage.nl", "roles": ["advisor"]}
    assert_problem(client.post("/api/v1/accounts", json=body, headers=admin), 409)


def test_a_short_password_or_unknown_role_is_refused(client, admin):
    body = {"name": "X", "email": "x@garage.nl", "roles": ["advisor"], "password": TOO_SHORT}
    assert (
        "password" in assert_problem(client.post("/api/v1/accounts", json=body, headers=admin), 422)["errors"]
    )
    body = {"name": "X", "email": "x@garage.nl", "roles": ["owner"]}
    assert "roles" in assert_problem(client.post("/api/v1/accounts", json=body, headers=admin), 422)["errors"]


def test_create_is_idempotent(client, admin):
    body = {"name": "Bram", "email": "bram@garage.nl", "roles": ["accountant"]}
    headers = {**admin, "Idempotency-Key": "create-bram"}
    first = client.post("/api/v1/accounts", json=body, headers=headers)
    again = client.post("/api/v1/accounts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]


def test_role_change_needs_the_current_version_and_is_audited(client, admin, make_account):
    account = make_account()
    path = f"/api/v1/accounts/{account['id']}"
    stale = client.patch(path, json={"roles": ["admin"]}, headers={**admin, "If-Match": '"7"'})
    assert_problem(stale, 412)
    changed = client.patch(path, json={"roles": ["admin"]}, headers={**admin, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.get_json()["roles"] == ["admin"]
    events = client.get("/api/v1/audit-events?kind=roles_changed", headers=admin).get_json()["items"]
    assert events[0]["account_id"] == account["id"]
    assert events[0]["actor"] == "dev-user"
    assert events[0]["address"] == "127.0.0.1"
    assert events[0]["detail"] == {"before": ["advisor"], "after": ["admin"]}


def test_disable_enable_and_set_password_are_audited(client, admin, make_account):
    account = make_account()
    path = f"/api/v1/accounts/{account['id']}"
    assert client.post(f"{path}/disable", headers=admin).get_json()["status"] == "disabled"
    assert client.post(f"{path}/enable", headers=admin).get_json()["status"] == "active"
    assert client.post(f"{path}/password", json={"password": NEW_PASSWORD}, headers=admin).status_code == 200
    assert_problem(client.post(f"{path}/password", json={"password": TOO_SHORT}, headers=admin), 422)
    kinds = [
        e["kind"]
        for e in client.get(f"/api/v1/audit-events?account_id={account['id']}", headers=admin).get_json()[
            "items"
        ]
    ]
    assert kinds == ["password_changed", "account_enabled", "account_disabled", "account_created"]


def test_an_unknown_account_is_404(client, admin):
    assert_problem(client.get("/api/v1/accounts/0190d4a5-0000-7000-8000-000000000000", headers=admin), 404)
