"""Who may do what: every role reads, advisors and admins write, services record a
consent; the kit's table tests add 401 without a valid token and 403 with the wrong role."""

import uuid

import pytest

from service_kit.auth import ROLES, mint_token
from service_kit.links import PORTAL_ROLE
from service_kit.role_testing import RoleTableTests

# The staff and the services; never the customer portal (it reaches no customer).
ALL = set(ROLES) - {PORTAL_ROLE}
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


@pytest.mark.parametrize("role", sorted(ALL))
def test_every_staff_role_and_services_can_read(client, auth_headers, role):
    assert client.get("/api/v1/customers", headers=auth_headers(role)).status_code == 200


def test_admin_writes(client, app):
    headers = {"Authorization": f"Bearer {mint_token(app.config, roles=['admin'])}"}
    body = {"kind": "person", "name": "Ann", "email": "ann@example.com"}
    assert client.post("/api/v1/customers", json=body, headers=headers).status_code == 201


def test_the_customer_portal_can_neither_list_nor_read_customers(client, auth_headers):
    # Its service identity opens only what a customer's link allows, in the services that
    # issue links; customer-management has none for it.
    for path in ("/api/v1/customers", "/api/v1/customers?q=jansen", f"{CUSTOMER}", f"{CUSTOMER}/consents"):
        response = client.get(path, headers=auth_headers(PORTAL_ROLE))
        assert response.status_code == 403, path
