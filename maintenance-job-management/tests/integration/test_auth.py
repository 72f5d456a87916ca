"""Who may do what: every operation with every role, and without a token (the kit's
table tests). The customer portal's role reaches no staff operation, and only the
portal operations, which also need a link (tests/integration/test_portal.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from service_kit.auth import ROLES
from service_kit.links import PORTAL_ROLE
from service_kit.role_testing import Operation, RoleTableTests, assert_roles, assert_unauthenticated
from service_kit.testing import assert_problem

ALL = set(ROLES) - {PORTAL_ROLE}  # every staff role and the services
PORTAL = {PORTAL_ROLE}
J = f"/api/v1/maintenance-jobs/{uuid.uuid4()}"


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/maintenance-jobs", ALL),
        ("POST", "/api/v1/maintenance-jobs", {"admin", "service"}),
        ("GET", J, ALL),
        ("PATCH", J, {"admin", "advisor", "technician"}),
        ("POST", f"{J}/reschedule", {"service"}),
        ("POST", f"{J}/start", {"admin", "technician"}),
        ("POST", f"{J}/hold", {"admin", "advisor", "technician"}),
        ("POST", f"{J}/resume", {"admin", "advisor", "technician"}),
        ("POST", f"{J}/complete", {"admin", "technician"}),
        ("POST", f"{J}/cancel", {"admin", "advisor", "service"}),
        ("POST", f"{J}/lines", {"admin", "advisor", "technician"}),
        ("GET", f"{J}/lines/{uuid.uuid4()}", ALL),
        ("PATCH", f"{J}/lines/{uuid.uuid4()}", {"admin", "advisor", "technician"}),
        ("DELETE", f"{J}/lines/{uuid.uuid4()}", {"admin", "advisor", "technician"}),
        ("GET", "/api/v1/maintenance-jobs/recommendations", ALL),
        ("GET", f"{J}/estimates", ALL),
        ("POST", f"{J}/estimates", {"admin", "advisor"}),
        ("GET", f"{J}/estimates/{uuid.uuid4()}", ALL),
        ("GET", f"{J}/estimates/{uuid.uuid4()}/pdf", ALL),
        ("GET", f"{J}/work-order", ALL),
        ("POST", f"{J}/estimates/{uuid.uuid4()}/decision", {"admin", "advisor"}),
        ("GET", f"{J}/approvals", ALL),
        ("POST", f"{J}/clock-in", {"admin", "technician"}),
        ("POST", f"{J}/clock-out", {"admin", "technician"}),
        ("GET", f"{J}/time-entries", ALL),
        # Internal: workshop-scheduling's outbox reports the appointment's status.
        ("PUT", f"{J}/appointment", {"service"}),
        ("GET", "/api/v1/maintenance-jobs/outbox-messages", {"admin"}),
        ("GET", f"/api/v1/maintenance-jobs/outbox-messages/{uuid.uuid4()}", {"admin"}),
        ("POST", f"/api/v1/maintenance-jobs/outbox-messages/{uuid.uuid4()}/retry", {"admin"}),
        ("GET", "/api/v1/labour-rates", ALL),
        ("GET", "/api/v1/labour-rates/default", ALL),
        ("PUT", "/api/v1/labour-rates/default", {"admin"}),
        ("GET", "/api/v1/canned-jobs", ALL),
        ("POST", "/api/v1/canned-jobs", {"admin"}),
        ("GET", f"/api/v1/canned-jobs/{uuid.uuid4()}", ALL),
        ("PATCH", f"/api/v1/canned-jobs/{uuid.uuid4()}", {"admin"}),
        ("POST", f"{J}/canned-jobs", {"admin", "advisor", "technician"}),
        ("POST", f"{J}/hand-over", {"admin", "advisor"}),
        ("GET", "/api/v1/feedback", {"admin", "advisor"}),
        ("GET", "/api/v1/feedback/summary", {"admin", "advisor"}),
        # The customer portal: its role, and a link (none here: 403 link-not-valid).
        ("GET", "/api/v1/portal/estimate", PORTAL),
        ("POST", "/api/v1/portal/estimate/decision", PORTAL),
        ("GET", "/api/v1/portal/visit", PORTAL),
        ("POST", "/api/v1/portal/visit/feedback", PORTAL),
    ]

    def test_each_role_is_allowed_or_forbidden(
        self, client: Any, auth_headers: Callable[..., dict[str, str]], operation: Operation
    ) -> None:
        method, path, allowed = operation
        if set(allowed) != PORTAL:
            assert_roles(client, auth_headers, method, path, allowed)
            return
        # A portal operation: every other role is forbidden as such; the portal's own
        # role without a link is refused for want of the link; no token is a 401.
        for role in ROLES:
            response = client.open(path, method=method, json={}, headers=auth_headers(role))
            if role == PORTAL_ROLE:
                assert_problem(response, 403, "link-not-valid")
            else:
                assert_problem(response, 403, ":forbidden")
        assert_unauthenticated(client.open(path, method=method, json={}))
