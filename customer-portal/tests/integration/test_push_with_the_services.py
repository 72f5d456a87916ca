"""Updates on the phone against the real services: the subscription the appointment page
posts goes through the portal to workshop-scheduling, which sends it (its outbox) to
notification-management for the customer the appointment link was sent to - whatever
the body says."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests
from portal_harness import PORTAL, PortalGarage, confirmed_appointment

from service_kit.garage_harness import Api

# pragma: allowlist nextline secret
KEY = "BNCDGlWqa7_J2WZw-d-hiXJVuokKUBUZNGlQUEFgcJ5jOmu-DLo6Ke1F33L1zO1G_s_UoxXAQkXfMEe0o0cAxZY"


@pytest.fixture
def push_offered(portal_garage: PortalGarage) -> Iterator[PortalGarage]:
    config = portal_garage.apps[PORTAL].config
    config["PUSH_VAPID_PUBLIC_KEY"] = KEY
    try:
        yield portal_garage
    finally:
        config["PUSH_VAPID_PUBLIC_KEY"] = ""


def subscriptions_of(garage: PortalGarage, customer_id: str) -> list[dict[str, str]]:
    items: list[dict[str, str]] = Api(garage, "admin")(
        "notification-management", "GET", "/api/v1/notifications/push-subscriptions", customer_id=customer_id
    )["items"]
    return items


def test_a_subscription_from_the_appointment_page_is_stored_for_the_link_s_customer(
    push_offered: PortalGarage,
) -> None:
    garage = push_offered
    booked = confirmed_appointment(garage, "Noor Jansen")
    customer_id = booked["customer"]["id"]
    browser = requests.Session()
    shown = browser.get(booked["link"], headers={"Accept-Language": "en"}, timeout=10)
    assert shown.status_code == 200, shown.text[:500]
    section = re.search(r'<section class="push" id="push" hidden([^>]*)>', shown.text)
    assert section, "no push section"
    data = {k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', section.group(1))}
    assert data["key"] == KEY
    subscription = {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}",
        "expirationTime": None,
        "keys": {"p256dh": KEY, "auth": "tBHItJI5svbpez7KI4CCXg"},
        "customer_id": str(uuid.uuid4()),  # not the portal's to say: ignored
    }
    answer = browser.post(
        urljoin(garage.portal_url, data["action"]),
        json=subscription,
        headers={"X-CSRFToken": data["csrf"]},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text[:500]
    garage.drain()
    [stored] = subscriptions_of(garage, customer_id)
    assert stored["customer_id"] == customer_id
    assert stored["push_service"] == "https://fcm.googleapis.com"
    assert stored["created_by"] == "workshop-scheduling"
    assert subscriptions_of(garage, subscription["customer_id"]) == []
    # Sent again (a second tap): still one subscription.
    again = browser.post(
        urljoin(garage.portal_url, data["action"]),
        json=subscription,
        headers={"X-CSRFToken": data["csrf"]},
        timeout=10,
    )
    assert again.status_code == 202
    garage.drain()
    assert len(subscriptions_of(garage, customer_id)) == 1
