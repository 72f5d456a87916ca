"""Who may do what: every operation with every role, and without a token (the kit's
table tests). The customer portal's role reaches no staff operation, and only the
portal operations, which also need a link (tests/integration/test_portal.py)."""

from __future__ import annotations

import uuid

from service_kit.auth import ROLES
from service_kit.links import PORTAL_ROLE
from service_kit.role_testing import RoleTableTests

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
