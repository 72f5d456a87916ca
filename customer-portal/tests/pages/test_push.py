"""Updates on the phone (Web Push): the appointment page offers them only with a VAPID
key, the portal passes the browser's subscription to workshop-scheduling with the link
(never a customer of its own), a form without its CSRF token or a body that is not a
subscription is refused without a call, and the service's refusals are the usual pages.
The service worker is served from the portal's root."""

from __future__ import annotations

import re
from typing import Any

import pytest
from customer_portal.config import load_config
from flask import Flask
from flask.testing import FlaskClient
from portal_fakes import PortalService
from portal_pages import text_of
from portal_samples import appointment, token

from service_kit.config import ConfigError
from service_kit.fakes import problem

WS = "workshop-scheduling"
APPOINTMENT = "/api/v1/portal/appointment"
PUSH = APPOINTMENT + "/push-subscription"
# A P-256 public key as notification-management's `vapid-public-key` prints it.
# pragma: allowlist nextline secret
KEY = "BNCDGlWqa7_J2WZw-d-hiXJVuokKUBUZNGlQUEFgcJ5jOmu-DLo6Ke1F33L1zO1G_s_UoxXAQkXfMEe0o0cAxZY"
SUBSCRIPTION = {
    # pragma: allowlist nextline secret
    "endpoint": "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91bHkxPush",
    "expirationTime": None,
    "keys": {"p256dh": KEY, "auth": "tBHItJI5svbpez7KI4CCXg"},
}


@pytest.fixture
def with_key(portal_app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(portal_app.config, "PUSH_VAPID_PUBLIC_KEY", KEY)
    return KEY


def served(fakes: dict[str, PortalService], **changes: Any) -> str:
    link = fakes[WS].link(token(), "appointment")
    fakes[WS].route("GET", APPOINTMENT, (200, appointment(**changes)))
    fakes[WS].route("POST", PUSH, (202, {"push_service": "https://fcm.googleapis.com"}))
    return link


def section_of(page: Any) -> dict[str, str]:
    html = page.get_data(as_text=True)
    match = re.search(r'<section class="push" id="push" hidden([^>]*)>', html)
    assert match, "no push section"
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1)))


def test_without_a_key_the_page_is_as_it_was(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    link = served(fakes)
    page = client.get(f"/appointment/{link}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="push"' not in html and "push.js" not in html and "<script" not in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf
    headers = {"X-CSRFToken": csrf.group(1)}
    answer = client.post(f"/appointment/{link}/push", json=SUBSCRIPTION, headers=headers)
    assert answer.status_code == 404
    assert fakes[WS].received(PUSH) == []


def test_with_a_key_the_page_offers_updates_in_english_and_dutch(
    client: FlaskClient, fakes: dict[str, PortalService], with_key: str
) -> None:
    link = served(fakes)
    page = client.get(f"/appointment/{link}", headers={"Accept-Language": "en"})
    section = section_of(page)
    assert section["key"] == with_key
    assert section["action"] == f"/appointment/{link}/push"
    assert section["worker"] == "/sw.js"
    assert section["csrf"]
    assert "Get updates on this phone" in text_of(page)
    assert '<script src="/static/push.js" defer></script>' in page.get_data(as_text=True)
    dutch = client.get(f"/appointment/{link}?lang=nl")
    assert "Berichten ontvangen op deze telefoon" in text_of(dutch)
    assert section_of(dutch)["done"].startswith("Gelukt")


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
def test_no_updates_are_offered_for_an_appointment_that_is_over(
    client: FlaskClient, fakes: dict[str, PortalService], with_key: str, status: str
) -> None:
    link = served(fakes, status=status, changeable=False)
    assert 'id="push"' not in client.get(f"/appointment/{link}").get_data(as_text=True)


def test_the_subscription_goes_to_scheduling_with_the_link(
    client: FlaskClient, fakes: dict[str, PortalService], with_key: str
) -> None:
    link = served(fakes)
    csrf = section_of(client.get(f"/appointment/{link}"))["csrf"]
    answer = client.post(
        f"/appointment/{link}/push",
        json={**SUBSCRIPTION, "customer_id": "someone-else"},
        headers={"X-CSRFToken": csrf},
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json() == {"subscribed": True}
    [sent] = fakes[WS].received(PUSH)
    assert sent.headers["Portal-Link"] == link
    # Only what the services take: the endpoint and the keys, no customer of the portal's.
    assert sent.json == {"endpoint": SUBSCRIPTION["endpoint"], "keys": SUBSCRIPTION["keys"]}


def test_without_the_csrf_token_nothing_is_sent(
    client: FlaskClient, fakes: dict[str, PortalService], with_key: str
) -> None:
    link = served(fakes)
    client.get(f"/appointment/{link}")
    for headers in ({}, {"X-CSRFToken": "forged"}):
        answer = client.post(f"/appointment/{link}/push", json=SUBSCRIPTION, headers=headers)
        assert answer.status_code == 400
    assert fakes[WS].received(PUSH) == []


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {},
        {"endpoint": SUBSCRIPTION["endpoint"]},
        {"endpoint": SUBSCRIPTION["endpoint"], "keys": "x"},
        {"endpoint": 12, "keys": SUBSCRIPTION["keys"]},
        {"endpoint": "", "keys": SUBSCRIPTION["keys"]},
        {"endpoint": "https://x/" + "y" * 2000, "keys": SUBSCRIPTION["keys"]},
        {"endpoint": SUBSCRIPTION["endpoint"], "keys": {"p256dh": KEY}},
        {"endpoint": SUBSCRIPTION["endpoint"], "keys": {"p256dh": KEY, "auth": "a" * 41}},
    ],
)
def test_a_body_that_is_not_a_subscription_is_refused_without_a_call(
    client: FlaskClient, fakes: dict[str, PortalService], with_key: str, body: Any
) -> None:
    link = served(fakes)
    csrf = section_of(client.get(f"/appointment/{link}"))["csrf"]
    answer = client.post(f"/appointment/{link}/push", json=body, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 400
    assert fakes[WS].received(PUSH) == []


def test_the_service_s_refusals_are_the_usual_pages(
    client: FlaskClient, fakes: dict[str, PortalService], with_key: str
) -> None:
    link = served(fakes)
    csrf = section_of(client.get(f"/appointment/{link}"))["csrf"]
    fakes[WS].route("POST", PUSH, (422, problem(422, "the endpoint is not a push service")))
    refused = client.post(f"/appointment/{link}/push", json=SUBSCRIPTION, headers={"X-CSRFToken": csrf})
    assert refused.status_code == 422
    expired = fakes[WS].refuse(token(), "expired")
    gone = client.post(f"/appointment/{expired}/push", json=SUBSCRIPTION, headers={"X-CSRFToken": csrf})
    assert gone.status_code == 410 and "expired" in text_of(gone)
    not_a_token = client.post("/appointment/nonsense/push", json=SUBSCRIPTION, headers={"X-CSRFToken": csrf})
    assert not_a_token.status_code == 403


def test_the_service_worker_is_served_from_the_root(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.mimetype == "text/javascript"
    assert "showNotification" in worker.get_data(as_text=True)
    assert "no-store" in worker.headers["Cache-Control"]
    mounted = client.get("/sw.js", environ_overrides={"SCRIPT_NAME": "/portal"})
    assert mounted.status_code == 200


def test_the_key_must_be_a_vapid_public_key() -> None:
    assert load_config(env={"PUSH_VAPID_PUBLIC_KEY": KEY})["PUSH_VAPID_PUBLIC_KEY"] == KEY
    assert load_config(env={"PUSH_VAPID_PUBLIC_KEY": KEY + "="})["PUSH_VAPID_PUBLIC_KEY"] == KEY
    assert load_config(env={})["PUSH_VAPID_PUBLIC_KEY"] == ""
    for bad in ("not a key", "AAAA", KEY[:-4], "A" + KEY[1:], KEY.replace("_", "/")):
        with pytest.raises(ConfigError):
            load_config(env={"PUSH_VAPID_PUBLIC_KEY": bad})
