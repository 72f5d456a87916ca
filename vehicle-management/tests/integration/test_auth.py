"""Who may do what: every role reads, advisors and admins register, change and transfer
vehicles, technicians also record odometer readings; the kit's table tests add 401
without a valid token and 403 with the wrong role."""

import uuid

from service_kit.auth import ROLES
from service_kit.role_testing import RoleTableTests

ALL = set(ROLES)
DESK = {"admin", "advisor"}
VEHICLE = f"/api/v1/vehicles/{uuid.uuid4()}"


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
    ]
