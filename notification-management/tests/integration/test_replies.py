"""Replies heard (issue 19): Twilio's inbound-SMS webhook, signed as Twilio signs it;
STOP and START change the customer's SMS consent in customer-management (through the
outbox, faked at HTTP); a replay is ignored; other texts land in the customer's
conversation, which staff read and answer by SMS."""

from __future__ import annotations

import secrets

import pytest
from notification_management import twilio
from notification_management.models import db
from sqlalchemy import text

from service_kit.testing import run_concurrently

from ..conftest import SMS_INBOUND_URL, TWILIO_AUTH_TOKEN

WEBHOOK = "/webhooks/twilio/sms"
GARAGE_NUMBER = "+3197010203040"


def sid() -> str:
    return "SM" + secrets.token_hex(16)


def form(sender: str, body: str, message_sid: str | None = None) -> dict[str, str]:
    """What Twilio posts for an incoming SMS (the fields we read and a few more)."""
    return {
        "ToCountry": "NL",
        "SmsMessageSid": message_sid or sid(),
        "NumMedia": "0",
        "SmsSid": message_sid or "",
        "SmsStatus": "received",
        "Body": body,
        "To": GARAGE_NUMBER,
        "NumSegments": "1",
        "MessageSid": message_sid or "",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


@pytest.fixture
def text_in(client):
    """Post an SMS as Twilio would, signed; returns the response."""

    def post(sender: str, body: str, *, message_sid: str | None = None, token: str = TWILIO_AUTH_TOKEN, **kw):
        message_sid = message_sid or sid()
        params = form(sender, body, message_sid)
        signature = kw.pop("signature", None) or twilio.signature(token, SMS_INBOUND_URL, params.items())
        return client.post(WEBHOOK, data=params, headers={twilio.SIGNATURE_HEADER: signature}, **kw)

    return post


def answer_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return response.get_data(as_text=True)


def count(app, table: str) -> int:
    with app.app_context():
        return db.session.execute(text(f"SELECT count(*) FROM notifications.{table}")).scalar_one()


# -- STOP and START -------------------------------------------------------------------


def test_stop_withdraws_sms_consent_and_the_next_sms_is_skipped_with_the_reason(
    app, customers, text_in, notify, dispatcher, sms_provider, fetch
):
    ann = customers.add(preferred_channel="sms", phone="+31612345678")

    reply = answer_of(text_in("+31612345678", " Stop "))

    assert "<Message>Garage Jansen: you will receive no more text messages from us." in reply
    assert count(app, "outbox_messages") == 2  # service and marketing, relayed by the dispatcher
    assert customers.consents == []

    later = notify(ann["id"], "vehicle_ready", {"plate": "AB-123-C"})
    stats = dispatcher().run_once()

    recorded = sorted((c["answer"]["purpose"], c["answer"]["granted"]) for c in customers.consents)
    assert recorded == [("marketing", False), ("service", False)]
    for consent in customers.consents:
        assert consent["answer"]["channel"] == "sms" and consent["answer"]["source"] == "sms_stop"
        assert '"STOP"' in consent["answer"]["wording"]
        assert consent["key"].startswith("sms-stop-")
        assert consent["headers"]["Authorization"].startswith("Bearer ")
    assert stats.skipped == 1
    notification = fetch(later["id"])
    assert (notification["status"], notification["skip_reason"]) == ("skipped", "opted_out")
    assert sms_provider.accepted == []


@pytest.mark.parametrize(
    "word", ["STOPP", "uit", "Unsubscribe", "STOPALL", "cancel", "end", "QUIT.", "stop!"]
)
def test_every_stop_word_stops(app, customers, text_in, word):
    customers.add(phone="+31612345678", preferred_language="nl")
    assert "u ontvangt geen sms-berichten meer" in answer_of(text_in("+31612345678", word))
    assert count(app, "outbox_messages") == 2


def test_start_gives_service_messages_back(app, customers, text_in, notify, dispatcher, sms_provider, fetch):
    ann = customers.add(preferred_channel="sms", phone="+31612345678")
    text_in("+31612345678", "STOP")
    dispatcher().run_once()

    reply = answer_of(text_in("+31612345678", "start"))
    assert "you will receive text messages about your vehicle again" in reply
    sent = notify(ann["id"], "vehicle_ready", {})
    dispatcher().run_once()

    granted = [c["answer"] for c in customers.consents if c["answer"]["granted"]]
    assert [(c["purpose"], c["channel"]) for c in granted] == [("service", "sms")]  # not marketing
    assert [c["source"] for c in granted] == ["sms_start"]  # the ledger says it was START
    assert fetch(sent["id"])["status"] == "sent"
    assert len(sms_provider.accepted) == 1


def test_help_is_answered_and_changes_nothing(app, customers, text_in):
    customers.add(phone="+31612345678")
    assert "Reply STOP to stop them" in answer_of(text_in("+31612345678", "HELP"))
    assert count(app, "outbox_messages") == 0


def test_a_number_two_customers_share_stops_for_both(app, customers, text_in, client, advisor, dispatcher):
    ann = customers.add(phone="+31612345678")
    bob = customers.add(name="Bob de Vries", phone="+31612345678")
    text_in("+31612345678", "STOP")
    dispatcher().run_once()
    assert sorted(c["answer"]["customer_id"] for c in customers.consents) == sorted(
        [ann["id"], bob["id"]] * 2
    )
    for customer in (ann, bob):
        conversation = client.get(f"/api/v1/conversations/{customer['id']}", headers=advisor).get_json()
        assert [m["kind"] for m in conversation["messages"]] == ["stop", "auto_reply"]
        assert conversation["awaiting_reply"] is False


# -- the signature, replays, bad requests ---------------------------------------------


def test_twilios_published_example_signature():
    params = {
        "CallSid": "CA1234567890ABCDE",  # Twilio's published example  # pragma: allowlist secret
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio.signature("12345", url, params.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio.is_signed("12345", url, params.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    # With the default port, as Twilio's validators accept it.
    assert twilio.is_signed(
        "12345",
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        params.items(),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
    )
    repeated = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    repeated_signature = "IK+Dwps556ElfBT0I3Rgjkr1wJU="  # a signature, no secret  # pragma: allowlist secret
    assert twilio.signature("12345", url, repeated) == repeated_signature
    assert not twilio.is_signed("12345", url + "&extra=1", params.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not twilio.is_signed("", url, params.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_a_forged_signature_is_refused_and_nothing_is_stored(app, client, customers, text_in):
    customers.add(phone="+31612345678")
    forged = text_in("+31612345678", "STOP", token="not-the-auth-token")
    assert forged.status_code == 403
    assert forged.mimetype == "application/problem+json"
    params = form("+31612345678", "STOP", sid())
    assert client.post(WEBHOOK, data=params).status_code == 403  # no signature
    for_other_url = twilio.signature(
        TWILIO_AUTH_TOKEN, "https://evil.example/webhooks/twilio/sms", params.items()
    )
    assert (
        client.post(WEBHOOK, data=params, headers={twilio.SIGNATURE_HEADER: for_other_url}).status_code == 403
    )
    signed = twilio.signature(TWILIO_AUTH_TOKEN, SMS_INBOUND_URL, params.items())
    tampered = {**params, "From": "+31687654321"}
    assert client.post(WEBHOOK, data=tampered, headers={twilio.SIGNATURE_HEADER: signed}).status_code == 403
    assert count(app, "inbound_sms") == 0 and count(app, "outbox_messages") == 0


def test_a_replayed_message_is_ignored(app, customers, text_in, dispatcher):
    customers.add(phone="+31612345678")
    message_sid = sid()
    first = answer_of(text_in("+31612345678", "STOP", message_sid=message_sid))
    again = answer_of(text_in("+31612345678", "STOP", message_sid=message_sid))

    assert "<Message>" in first
    assert again == twilio.twiml(None)  # no second confirmation
    assert count(app, "inbound_sms") == 1
    assert count(app, "conversation_messages") == 2  # the STOP and our answer, once
    assert count(app, "outbox_messages") == 2
    dispatcher().run_once()
    assert len(customers.consents) == 2


def test_one_message_delivered_twice_at_the_same_moment_counts_once(app, customers, text_in):
    customers.add(phone="+31612345678")
    message_sid = sid()
    answers = run_concurrently(lambda _: text_in("+31612345678", "STOP", message_sid=message_sid), range(4))
    bodies = sorted(answer_of(response) for response in answers)
    assert bodies.count(twilio.twiml(None)) == 3  # one confirmation only
    assert count(app, "inbound_sms") == 1 and count(app, "outbox_messages") == 2


def test_requests_that_are_not_an_incoming_sms_are_refused(app, client, customers, text_in, monkeypatch):
    bad_sid = text_in("+31612345678", "hello", message_sid="SM-not-a-sid")
    assert bad_sid.status_code == 400
    assert text_in("0612345678", "hello").status_code == 400  # From not E.164
    assert client.post(WEBHOOK, json={"Body": "STOP"}).status_code == 415
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
    assert text_in("+31612345678", "hello").status_code == 404  # not configured
    assert count(app, "inbound_sms") == 0


# -- conversations --------------------------------------------------------------------


def test_a_reply_lands_in_the_conversation_and_staff_answer_it_by_sms(
    app, customers, text_in, client, advisor, dispatcher, sms_provider
):
    ann = customers.add(phone="+31612345678", preferred_channel="email")

    assert answer_of(text_in("+31612345678", "Is my car ready yet?")) == twilio.twiml(None)

    listed = client.get("/api/v1/conversations?awaiting_reply=true", headers=advisor).get_json()
    [conversation] = listed["items"]
    assert conversation["customer_id"] == ann["id"]
    assert (conversation["last_text"], conversation["last_direction"], conversation["message_count"]) == (
        "Is my car ready yet?",
        "inbound",
        1,
    )
    assert count(app, "outbox_messages") == 0

    answered = client.post(
        f"/api/v1/conversations/{ann['id']}/messages",
        json={"text": "Yes, you can pick it up until 18:00."},
        headers={**advisor, "Idempotency-Key": "answer-1"},
    )
    assert answered.status_code == 202, answered.get_json()
    message = answered.get_json()
    assert (message["direction"], message["kind"], message["delivery_status"]) == (
        "outbound",
        "reply",
        "pending",
    )
    again = client.post(
        f"/api/v1/conversations/{ann['id']}/messages",
        json={"text": "Yes, you can pick it up until 18:00."},
        headers={**advisor, "Idempotency-Key": "answer-1"},
    )
    assert again.get_json()["id"] == message["id"]

    dispatcher().run_once()

    [sms] = sms_provider.accepted  # by SMS, though the customer prefers email: it answers a text
    assert (sms["to"], sms["text"]) == ("+31612345678", "Garage Jansen: Yes, you can pick it up until 18:00.")
    shown = client.get(f"/api/v1/conversations/{ann['id']}", headers=advisor).get_json()
    assert [(m["direction"], m["kind"]) for m in shown["messages"]] == [
        ("inbound", "message"),
        ("outbound", "reply"),
    ]
    assert shown["messages"][1]["delivery_status"] == "sent"
    assert shown["messages"][1]["author"]
    assert shown["awaiting_reply"] is False
    assert client.get("/api/v1/conversations?awaiting_reply=true", headers=advisor).get_json()["items"] == []


def test_an_answer_to_a_customer_who_stopped_is_skipped_with_the_reason(
    customers, text_in, client, advisor, dispatcher, sms_provider
):
    ann = customers.add(phone="+31612345678")
    text_in("+31612345678", "Can you do Friday?")
    text_in("+31612345678", "STOP")
    client.post(
        f"/api/v1/conversations/{ann['id']}/messages", json={"text": "Friday is fine."}, headers=advisor
    )
    dispatcher().run_once()
    shown = client.get(f"/api/v1/conversations/{ann['id']}", headers=advisor).get_json()
    assert (shown["messages"][-1]["delivery_status"], shown["messages"][-1]["skip_reason"]) == (
        "skipped",
        "opted_out",
    )
    assert sms_provider.accepted == []


def test_conversation_refusals(customers, text_in, client, advisor, auth_headers):
    ann = customers.add(phone="+31612345678")
    stranger = customers.add(phone="+31687654321")
    text_in("+31612345678", "hello")
    path = f"/api/v1/conversations/{ann['id']}/messages"
    assert client.post(path, json={"text": "   "}, headers=advisor).status_code == 422
    assert client.post(path, json={"text": "x" * 1001}, headers=advisor).status_code == 422
    assert client.post(path, json={}, headers=advisor).status_code == 422
    assert client.post(path, json={"text": "hi"}, headers=auth_headers("technician")).status_code == 403
    assert client.get("/api/v1/conversations", headers=auth_headers("service")).status_code == 403
    assert client.get("/api/v1/conversations").status_code == 401
    no_conversation = f"/api/v1/conversations/{stranger['id']}"
    assert client.get(no_conversation, headers=advisor).status_code == 404
    assert client.post(no_conversation + "/messages", json={"text": "hi"}, headers=advisor).status_code == 404
    assert client.get("/api/v1/conversations?cursor=nonsense", headers=advisor).status_code == 422


def test_an_unknown_number_is_answered_but_makes_no_conversation(app, text_in, client, advisor):
    assert "<Message>" in answer_of(text_in("+31699999999", "STOP"))
    assert answer_of(text_in("+31699999999", "who is this?")) == twilio.twiml(None)
    with app.app_context():
        rows = db.session.execute(
            text("SELECT status, sender, sender_masked FROM notifications.inbound_sms")
        ).all()
    assert [tuple(r) for r in rows] == [("unknown", None, "+31*****9999")] * 2
    assert client.get("/api/v1/conversations", headers=advisor).get_json()["items"] == []
    assert count(app, "outbox_messages") == 0


def test_a_stop_while_customer_management_is_down_counts_once_it_is_back(
    app, customers, text_in, dispatcher, notify, fetch
):
    ann = customers.add(phone="+31612345678", preferred_channel="sms")
    customers.failing = 503

    assert "no more text messages" in answer_of(text_in("+31612345678", "STOP"))  # answered at once
    assert count(app, "outbox_messages") == 0
    with app.app_context():
        assert (
            db.session.execute(text("SELECT status FROM notifications.inbound_sms")).scalar_one() == "pending"
        )

    customers.failing = None
    sent = notify(ann["id"], "vehicle_ready", {})
    dispatcher().run_once()

    assert sorted(c["answer"]["purpose"] for c in customers.consents) == ["marketing", "service"]
    assert fetch(sent["id"])["skip_reason"] == "opted_out"
    with app.app_context():
        row = db.session.execute(text("SELECT status, sender FROM notifications.inbound_sms")).one()
    assert tuple(row) == ("matched", None)


def test_sms_reply_is_made_by_conversations_only(client, service_headers, customers):
    ann = customers.add()
    body = {"customer_id": ann["id"], "type": "sms_reply", "data": {"text": "hello"}}
    response = client.post("/api/v1/notifications", json=body, headers=service_headers)
    assert response.status_code == 422
    assert "type" in response.get_json()["errors"]
