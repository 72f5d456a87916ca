"""Web Push (issue 19) against a push service on loopback that checks VAPID and
decrypts every payload with the subscription's own keys (RFC 8291): what the
customer's phone would show. Gone subscriptions (404, 410) are removed; email or SMS
are the fallback only where the customer's preferences allow."""

from __future__ import annotations

import pytest

URL = "/api/v1/notifications/push-subscriptions"
EMAIL_ONLY = {"email": {"service": True, "marketing": True}, "sms": {"service": False, "marketing": False}}


@pytest.fixture
def subscribe(client, auth_headers, push_service):
    """A browser subscribes (the fake push service makes its keys) and a service
    stores the subscription for the customer; the stored subscription's answer."""

    def make(customer_id: str) -> dict:
        browser = push_service.subscribe()
        response = client.post(
            URL,
            json={"customer_id": customer_id, **browser},
            headers=auth_headers("service", subject="portal"),
        )
        assert response.status_code == 201, response.get_json()
        return {**response.get_json(), "browser": browser}

    return make


def token_of(subscription: dict) -> str:
    return subscription["browser"]["endpoint"].rsplit("/", 1)[1]


def test_a_service_message_is_pushed_encrypted_to_every_device_the_customer_subscribed(
    customers, subscribe, notify, dispatcher, push_service, mail, fetch
):
    ann = customers.add(preferred_channel="email")
    phone, laptop = subscribe(ann["id"]), subscribe(ann["id"])
    sent = notify(ann["id"], "vehicle_ready", {"plate": "AB-123-C"})

    stats = dispatcher().run_once()

    assert stats.sent == 1
    assert push_service.refused == []  # VAPID as the push service wants it
    assert sorted(r["token"] for r in push_service.received) == sorted([token_of(phone), token_of(laptop)])
    for received in push_service.received:
        assert received["message"] == {
            "title": "Your vehicle is ready",
            "body": "Garage Jansen: your vehicle AB-123-C is ready to be picked up.",
            "tag": sent["id"],
        }
        assert received["headers"]["TTL"] == "86400"
    assert mail.messages == []  # push instead of the preferred channel
    notification = fetch(sent["id"])
    assert (notification["delivered_channel"], notification["recipient"]) == ("push", "2 devices")
    assert notification["attempts"][0]["channel"] == "push"


def test_the_pushed_message_opens_the_portals_link(customers, subscribe, notify, dispatcher, push_service):
    ann = customers.add(preferred_language="nl")
    subscribe(ann["id"])
    token = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"  # a made-up link token  # pragma: allowlist secret
    link = f"https://portal.garage.example/estimate/{token}"
    notify(ann["id"], "estimate_ready", {"currency": "EUR", "total_gross": 14520, "link_url": link})
    dispatcher().run_once()
    [received] = push_service.received
    assert received["message"]["url"] == link
    assert received["message"]["title"] == "Er ligt een offerte voor uw voertuig klaar"
    assert received["message"]["body"].endswith(f"Online goedkeuren of afwijzen: {link}")


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed_and_email_is_the_fallback(
    status, customers, subscribe, notify, dispatcher, push_service, mail, fetch, client, advisor
):
    ann = customers.add(preferred_channel="email")
    gone = subscribe(ann["id"])
    push_service.answers[token_of(gone)] = status
    sent = notify(ann["id"], "vehicle_ready", {})

    dispatcher().run_once()

    assert fetch(sent["id"])["delivered_channel"] == "email"
    assert len(mail.messages) == 1
    listed = client.get(f"{URL}?customer_id={ann['id']}", headers=advisor).get_json()
    assert listed["items"] == []


def test_one_device_gone_and_one_taking_it_is_sent_by_push(
    customers, subscribe, notify, dispatcher, push_service, mail, client, advisor
):
    ann = customers.add()
    gone, kept = subscribe(ann["id"]), subscribe(ann["id"])
    push_service.answers[token_of(gone)] = 410
    notify(ann["id"], "vehicle_ready", {})
    dispatcher().run_once()
    assert [r["token"] for r in push_service.received] == [token_of(kept)]
    assert mail.messages == []
    listed = client.get(f"{URL}?customer_id={ann['id']}", headers=advisor).get_json()["items"]
    assert [s["id"] for s in listed] == [kept["id"]]
    assert listed[0]["last_sent_at"] is not None


def test_no_fallback_where_the_customers_preferences_do_not_allow_it(
    customers, subscribe, notify, dispatcher, push_service, sms_provider, fetch
):
    ann = customers.add(preferred_channel="sms", consents=EMAIL_ONLY)  # no SMS consent
    push_service.answers[token_of(subscribe(ann["id"]))] = 410
    sent = notify(ann["id"], "vehicle_ready", {})
    dispatcher().run_once()
    notification = fetch(sent["id"])
    assert (notification["status"], notification["skip_reason"]) == ("skipped", "opted_out")
    assert sms_provider.accepted == []


def test_a_push_service_that_may_recover_is_tried_again_later_without_falling_back(
    customers, subscribe, notify, dispatcher, push_service, mail, fetch, later_time, client, advisor
):
    ann = customers.add()
    device = subscribe(ann["id"])
    push_service.answers[token_of(device)] = 503
    sent = notify(ann["id"], "vehicle_ready", {})

    dispatcher().run_once()
    assert fetch(sent["id"])["status"] == "failed"
    assert mail.messages == []

    del push_service.answers[token_of(device)]
    dispatcher().run_once(now=later_time())
    assert fetch(sent["id"])["status"] == "sent"
    assert len(push_service.received) == 1
    assert len(client.get(f"{URL}?customer_id={ann['id']}", headers=advisor).get_json()["items"]) == 1


def test_marketing_and_a_channel_asked_for_are_not_pushed(
    customers, subscribe, notify, dispatcher, push_service, mail, sms_provider
):
    ann = customers.add(consents=EMAIL_ONLY | {"sms": {"service": True, "marketing": False}})
    subscribe(ann["id"])
    notify(ann["id"], "service_due", {"due_km": 120000})  # marketing: by its consent, by email
    notify(ann["id"], "vehicle_ready", {}, channel="sms")
    dispatcher().run_once()
    assert push_service.received == []
    assert len(mail.messages) == 1 and len(sms_provider.accepted) == 1


def test_push_asked_for_without_a_subscription_goes_by_the_preferred_channel(
    customers, notify, dispatcher, mail, fetch
):
    ann = customers.add(preferred_channel="email")
    sent = notify(ann["id"], "vehicle_ready", {}, channel="push")
    dispatcher().run_once()
    assert fetch(sent["id"])["delivered_channel"] == "email"


def test_without_vapid_keys_there_is_no_push(customers, subscribe, notify, dispatcher, push_service, mail):
    ann = customers.add()
    subscribe(ann["id"])
    notify(ann["id"], "vehicle_ready", {})
    dispatcher(push=None).run_once()
    assert push_service.received == [] and len(mail.messages) == 1


# -- the subscriptions ----------------------------------------------------------------


def test_subscriptions_are_stored_once_per_endpoint_and_shown_without_their_secret(
    client, auth_headers, customers, push_service, advisor
):
    ann, bob = customers.add(), customers.add(name="Bob")
    browser = push_service.subscribe()
    service = auth_headers("service", subject="portal")
    first = client.post(URL, json={"customer_id": ann["id"], **browser}, headers=service)
    again = client.post(URL, json={"customer_id": bob["id"], **browser}, headers=service)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["customer_id"] == bob["id"]  # the device is Bob's now
    shown = client.get(URL, headers=advisor).get_json()["items"]
    assert [s["push_service"] for s in shown] == [push_service.url]
    assert "endpoint" not in shown[0] and "keys" not in shown[0]

    gone = client.delete(f"{URL}/{first.get_json()['id']}", headers=advisor)
    assert gone.status_code == 204
    assert client.delete(f"{URL}/{first.get_json()['id']}", headers=advisor).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "https://evil.example/push/abc"}, "endpoint"),
        ({"endpoint": "http://127.0.0.1:1/internal"}, "endpoint"),
        ({"keys": {"p256dh": "AAAA", "auth": "c2VjcmV0c2VjcmV0c2VjcmV0"}}, "keys.p256dh"),
        ({"keys": {"p256dh": "BAAA", "auth": "***"}}, "keys.auth"),
    ],
)
def test_a_subscription_to_elsewhere_or_with_bad_keys_is_refused(
    change, field, client, auth_headers, customers, push_service
):
    ann = customers.add()
    body = {"customer_id": ann["id"], **push_service.subscribe(), **change}
    if "keys" in change and field == "keys.auth":
        body["keys"]["p256dh"] = push_service.subscribe()["keys"]["p256dh"]
    response = client.post(URL, json=body, headers=auth_headers("service"))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
