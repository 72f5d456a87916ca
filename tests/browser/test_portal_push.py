"""Updates on the phone (Web Push) in chromium at 390 px, against the real garage
(customer-portal/tests/portal_harness.py): with the portal's VAPID key the appointment
page shows "Get updates on this phone" (without it, nothing), the portal's service
worker registers for the portal's pages under the page's own CSP, and axe finds no
serious or critical violation, in English and Dutch.

Headless chromium reaches no real push service, so ``PushManager.subscribe`` is replaced
(before the page's script runs) by one answering as a browser does; everything after it
is real: push.js posts the subscription, the portal passes it to workshop-scheduling with
the link, and notification-management ends up holding it for the link's customer."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "customer-portal" / "tests"))

PHONE = {"width": 390, "height": 844}
MOBILE = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# pragma: allowlist nextline secret
KEY = "BNCDGlWqa7_J2WZw-d-hiXJVuokKUBUZNGlQUEFgcJ5jOmu-DLo6Ke1F33L1zO1G_s_UoxXAQkXfMEe0o0cAxZY"
ENDPOINT = f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}"
# A browser's subscription, as PushManager.subscribe would give it after asking the push service.
SUBSCRIBE = """
PushManager.prototype.subscribe = function (options) {
  window.subscribedWith = new Uint8Array(options.applicationServerKey).length;
  const json = {endpoint: "ENDPOINT", expirationTime: null,
                keys: {p256dh: "KEY", auth: "tBHItJI5svbpez7KI4CCXg"}};
  return Promise.resolve({endpoint: json.endpoint, options: {}, toJSON: () => json,
                          unsubscribe: () => Promise.resolve(true)});
};
PushManager.prototype.getSubscription = function () { return Promise.resolve(null); };
""".replace("ENDPOINT", ENDPOINT).replace("KEY", KEY)


@pytest.fixture(scope="module")
def portal(postgres_server_url: str) -> Iterator[Any]:
    """identity, the six services and the portal (with a VAPID public key), in this process."""
    from portal_harness import running_portal

    from service_kit.testing import database_of_its_own

    with (
        database_of_its_own(postgres_server_url, "garage_browser_push") as url,
        running_portal(url, {"PUSH_VAPID_PUBLIC_KEY": KEY}) as garage,
    ):
        yield garage


def fits_a_phone(page: Any) -> None:
    page.wait_for_load_state("load")  # styled, as shown
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: {width} px wide"
    box = page.locator("#push button").bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44


def test_updates_are_offered_and_the_subscription_reaches_notification_management(
    portal: Any, offline_context: Any
) -> None:
    from portal_harness import confirmed_appointment

    from service_kit.garage_harness import Api

    booked = confirmed_appointment(portal, "Sanne de Boer")
    context = offline_context(locale="en-GB", **MOBILE)  # the page's own CSP applies
    context.grant_permissions(["notifications"])
    context.add_init_script(SUBSCRIBE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    assert page.goto(booked["link"]).status == 200
    button = page.get_by_role("button", name="Get updates on this phone")
    button.wait_for(state="visible")
    fits_a_phone(page)
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == portal.portal_url + "/", scope
    # A tap on a notification opens the page the message links to, if it is the portal's.
    [worker] = context.service_workers
    assert worker.evaluate(f"portalPage({booked['link']!r})") == booked["link"]
    for elsewhere in ("https://evil.example/appointment/x", "javascript:alert(1)", "//evil.example/"):
        assert worker.evaluate(f"portalPage({elsewhere!r})") == scope
    button.click()
    page.wait_for_selector("text=Done: this phone will get updates about your appointment.")
    assert page.evaluate("window.subscribedWith") == 65  # the garage's key, as bytes
    portal.drain()
    customer_id = booked["customer"]["id"]
    [stored] = Api(portal, "admin")(
        "notification-management", "GET", "/api/v1/notifications/push-subscriptions", customer_id=customer_id
    )["items"]
    assert stored["customer_id"] == customer_id and stored["push_service"] == "https://fcm.googleapis.com"
    assert not context.refused
    assert errors == []


def test_a_refused_permission_is_said_plainly(portal: Any, offline_context: Any) -> None:
    from portal_harness import confirmed_appointment

    booked = confirmed_appointment(portal, "Daan Mulder")
    context = offline_context(locale="nl-NL", **MOBILE)
    context.add_init_script("Notification.requestPermission = () => Promise.resolve('denied');")
    page = context.new_page()
    assert page.goto(booked["link"]).status == 200
    page.get_by_role("button", name="Berichten ontvangen op deze telefoon").click()
    page.wait_for_selector("text=Uw telefoon staat geen berichten van deze site toe.")
    assert not context.refused


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_the_page_with_updates_has_no_serious_accessibility_violation(
    portal: Any, offline_context: Any, accessibility_violations: Any, locale: str
) -> None:
    from portal_harness import confirmed_appointment

    booked = confirmed_appointment(portal, f"Lotte {locale}")
    context = offline_context(locale=locale, bypass_csp=True, **MOBILE)
    page = context.new_page()
    assert page.goto(booked["link"]).status == 200
    page.locator("#push button").wait_for(state="visible")
    assert accessibility_violations(page) == []


def test_without_a_key_there_is_no_button_and_no_script(portal: Any, offline_context: Any) -> None:
    from portal_harness import PORTAL, confirmed_appointment

    booked = confirmed_appointment(portal, "Bram Visser")
    config = portal.apps[PORTAL].config
    config["PUSH_VAPID_PUBLIC_KEY"] = ""
    try:
        context = offline_context(locale="en-GB", **MOBILE)
        page = context.new_page()
        assert page.goto(booked["link"]).status == 200
        assert page.locator("#push").count() == 0
        assert page.locator("script").count() == 0
        assert page.get_by_role("button", name="Get updates on this phone").count() == 0
    finally:
        config["PUSH_VAPID_PUBLIC_KEY"] = KEY
