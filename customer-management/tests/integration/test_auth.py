"""Who may do what: every role reads, advisors and admins write, services record a
consent; the kit's table tests add 401 without a valid token and 403 with the wrong role."""

import uuid

import pytest

from service_kit.auth import ROLES, mint_token
from service_kit.role_testing import RoleTableTests

ALL = set(ROLES)
DESK = {"admin", "advisor"}
CUSTOMER = f"/api/v1/customers/{uuid.uuid4()}"


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/customers", ALL),
        ("POST", "/api/v1/customers", DESK),
        ("GET", CUSTOMER, ALL),
        ("PATCH", CUSTOMER, DESK),
        ("DELETE", CUSTOMER, DESK),
        ("GET", f"{CUSTOMER}/consents", ALL),
        ("POST", f"{CUSTOMER}/consents", DESK | {"service"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_and_services_can_read(client, auth_headers, role):
    assert client.get("/api/v1/customers", headers=auth_headers(role)).status_code == 200


def test_admin_writes(client, app):
    headers = {"Authorization": f"Bearer {mint_token(app.config, roles=['admin'])}"}
    body = {"kind": "person", "name": "Ann", "email": "ann@example.com"}
    assert client.post("/api/v1/customers", json=body, headers=headers).status_code == 201
