"""Who may do what: every role reads, advisors and admins register, change and transfer
vehicles, technicians also record odometer readings, admins set the service intervals
and see the outbox; the kit's table tests add 401 without a valid token and 403 with
the wrong role. The customer portal's role reaches none of it."""

import uuid

from service_kit.auth import ROLES
from service_kit.links import PORTAL_ROLE
from service_kit.role_testing import RoleTableTests

ALL = set(ROLES) - {PORTAL_ROLE}  # every staff role and the services
DESK = {"admin", "advisor"}
VEHICLE = f"/api/v1/vehicles/{uuid.uuid4()}"
OUTBOX = "/api/v1/vehicles/outbox-messages"


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/vehicles", ALL),
        ("POST", "/api/v1/vehicles", DESK),
        ("GET", VEHICLE, ALL),
        ("PATCH", VEHICLE, DESK),
        ("POST", f"{VEHICLE}/transfer", DESK),
        ("GET", f"{VEHICLE}/owners", ALL),
        ("GET", f"{VEHICLE}/odometer-readings", ALL),
        ("POST", f"{VEHICLE}/odometer-readings", DESK | {"technician"}),
        ("GET", f"{VEHICLE}/due", ALL),
        ("GET", "/api/v1/vehicles/due", ALL),
        ("GET", "/api/v1/vehicles/service-intervals", ALL),
        ("GET", "/api/v1/vehicles/service-intervals/small-service", ALL),
        ("PUT", "/api/v1/vehicles/service-intervals/small-service", {"admin"}),
        ("GET", OUTBOX, {"admin"}),
        ("GET", f"{OUTBOX}/{uuid.uuid4()}", {"admin"}),
        ("POST", f"{OUTBOX}/{uuid.uuid4()}/retry", {"admin"}),
    ]
