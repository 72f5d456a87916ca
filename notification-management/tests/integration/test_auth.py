"""Who may do what: services and admins ask for notifications; advisors and admins read
history, retry and edit templates; accountants and services read history too;
technicians do not deal with customer messages. Advisors and admins read and answer
the customers' text messages; admins see and retry the outbox. The kit's table tests add 401
without a valid token and 403 with the wrong role."""

from service_kit.role_testing import RoleTableTests

SOME_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
TEMPLATE = "/api/v1/notification-templates/vehicle_ready/en"
DESK = {"admin", "advisor"}
HISTORY = DESK | {"accountant", "service"}


class TestRoles(RoleTableTests):
    operations = [
        ("GET", "/api/v1/notifications", HISTORY),
        ("POST", "/api/v1/notifications", {"admin", "service"}),
        ("GET", f"/api/v1/notifications/{SOME_ID}", HISTORY),
        ("POST", f"/api/v1/notifications/{SOME_ID}/retry", DESK),
        ("GET", "/api/v1/notification-templates", DESK),
        ("GET", TEMPLATE, DESK),
        ("PUT", TEMPLATE, DESK),
        ("POST", f"{TEMPLATE}/preview", DESK),
        ("GET", "/api/v1/conversations", DESK),
        ("GET", f"/api/v1/conversations/{SOME_ID}", DESK),
        ("POST", f"/api/v1/conversations/{SOME_ID}/messages", DESK),
        ("GET", "/api/v1/notifications/push-subscriptions", DESK | {"service"}),
        ("POST", "/api/v1/notifications/push-subscriptions", {"service"}),
        ("DELETE", f"/api/v1/notifications/push-subscriptions/{SOME_ID}", DESK | {"service"}),
        ("GET", "/api/v1/notifications/outbox-messages", {"admin"}),
        ("GET", f"/api/v1/notifications/outbox-messages/{SOME_ID}", {"admin"}),
        ("POST", f"/api/v1/notifications/outbox-messages/{SOME_ID}/retry", {"admin"}),
    ]
