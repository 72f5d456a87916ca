"""Who may do what: the admin API is for admins only; the kit's table tests add 401
without a valid token and 403 with the wrong role."""

import uuid

from service_kit.role_testing import RoleTableTests

ADMIN = {"admin"}
ACCOUNT = f"/api/v1/accounts/{uuid.uuid4()}"


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/accounts", ADMIN),
        ("POST", "/api/v1/accounts", ADMIN),
        ("GET", ACCOUNT, ADMIN),
        ("PATCH", ACCOUNT, ADMIN),
        ("POST", f"{ACCOUNT}/disable", ADMIN),
        ("POST", f"{ACCOUNT}/enable", ADMIN),
        ("POST", f"{ACCOUNT}/password", ADMIN),
        ("POST", f"{ACCOUNT}/unlock", ADMIN),
        ("POST", f"{ACCOUNT}/second-factor", ADMIN),
        ("GET", "/api/v1/audit-events", ADMIN),
        # The outbox (the password reset email): dead messages, sent again by an admin.
        ("GET", "/api/v1/accounts/outbox-messages", ADMIN),
        ("GET", f"/api/v1/accounts/outbox-messages/{uuid.uuid4()}", ADMIN),
        ("POST", f"/api/v1/accounts/outbox-messages/{uuid.uuid4()}/retry", ADMIN),
    ]
