"""Who may do what: everyone reads the workshop and its appointments, advisors and admins
plan and book, the floor checks vehicles in and out, services ask for availability;
the kit's table tests add 401 without a valid token and 403 with the wrong role. The
customer portal (role portal) reaches only its own operations, and those only with a
link (tests/integration/test_portal.py): no staff operation admits it."""

from __future__ import annotations

import uuid

from service_kit.auth import ROLES
from service_kit.role_testing import RoleTableTests

ALL = set(ROLES)
MANAGERS = {"admin", "advisor"}
FLOOR = {"admin", "advisor", "technician"}
STAFF = ALL - {"portal"}
PORTAL = {"portal"}
SOME_ID = str(uuid.uuid4())


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/workshop/settings", STAFF),
        ("PUT", "/api/v1/workshop/settings", MANAGERS),
        ("GET", "/api/v1/workshop/bays", STAFF),
        ("POST", "/api/v1/workshop/bays", MANAGERS),
        ("GET", f"/api/v1/workshop/bays/{SOME_ID}", STAFF),
        ("PATCH", f"/api/v1/workshop/bays/{SOME_ID}", MANAGERS),
        ("GET", "/api/v1/workshop/technicians", STAFF),
        ("POST", "/api/v1/workshop/technicians", MANAGERS),
        ("GET", f"/api/v1/workshop/technicians/{SOME_ID}", STAFF),
        ("PATCH", f"/api/v1/workshop/technicians/{SOME_ID}", MANAGERS),
        ("GET", "/api/v1/workshop/planning/days/2030-01-07", STAFF),
        ("GET", "/api/v1/workshop/planning/weeks/2030-W02", STAFF),
        (
            "GET",
            "/api/v1/availability?from=2030-01-07&to=2030-01-07&duration=60",
            {"admin", "advisor", "technician", "service"},
        ),
        ("GET", "/api/v1/appointments", STAFF),
        ("POST", "/api/v1/appointments", MANAGERS),
        ("GET", f"/api/v1/appointments/{SOME_ID}", STAFF),
        ("POST", f"/api/v1/appointments/{SOME_ID}/reschedule", MANAGERS),
        ("POST", f"/api/v1/appointments/{SOME_ID}/cancel", MANAGERS),
        ("POST", f"/api/v1/appointments/{SOME_ID}/no-show", MANAGERS),
        ("POST", f"/api/v1/appointments/{SOME_ID}/check-in", FLOOR),
        ("POST", f"/api/v1/appointments/{SOME_ID}/complete", FLOOR),
        # Internal: maintenance-job-management's outbox reports the job's status.
        ("PUT", f"/api/v1/appointments/{SOME_ID}/job", {"service"}),
        ("GET", "/api/v1/workshop/outbox-messages", {"admin"}),
        ("GET", f"/api/v1/workshop/outbox-messages/{SOME_ID}", {"admin"}),
        ("POST", f"/api/v1/workshop/outbox-messages/{SOME_ID}/retry", {"admin"}),
        ("POST", "/api/v1/booking-invitations", MANAGERS | {"service"}),
        # The customer portal, with a link (Portal-Link) of the operation's purpose.
        ("GET", "/api/v1/portal/appointment", PORTAL),
        ("POST", "/api/v1/portal/appointment/confirm", PORTAL),
        ("GET", "/api/v1/portal/appointment/availability?date=2030-01-07", PORTAL),
        ("POST", "/api/v1/portal/appointment/move", PORTAL),
        ("POST", "/api/v1/portal/appointment/cancel", PORTAL),
        ("POST", "/api/v1/portal/appointment/push-subscription", PORTAL),
        ("GET", "/api/v1/portal/booking", PORTAL),
        ("GET", "/api/v1/portal/booking/availability?date=2030-01-07&duration_minutes=60", PORTAL),
        ("POST", "/api/v1/portal/booking", PORTAL),
    ]
