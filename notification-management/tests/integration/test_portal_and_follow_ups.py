"""Issue 18 and 19 through the dispatcher: the portal's link reaches the customer, the
new types are accepted and delivered, consent is the one each type needs, and
marketing SMS wait out the quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from notification_management import domain
from notification_management.models import db
from sqlalchemy import text

from service_kit.migrations import alembic_config, upgrade

# Made-up link tokens: the services only pass them on.
BOOKING_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJwdXIiOiJib29raW5nIn0.c2ln"  # pragma: allowlist secret
TOKEN = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"  # pragma: allowlist secret
LINK = f"https://portal.garage.example/book/{BOOKING_TOKEN}"
MARKETING_OK = {
    "email": {"service": True, "marketing": True},
    "sms": {"service": True, "marketing": True},
}
# 14:00 and 22:30 in Amsterdam (winter time), later than any test runs.
AFTERNOON = datetime(2027, 1, 12, 13, 0, tzinfo=UTC)
EVENING = datetime(2027, 1, 12, 21, 30, tzinfo=UTC)
NEXT_MORNING = datetime(2027, 1, 13, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam


def service_due(link: str | None = LINK) -> dict:
    data = {"vehicle_id": "v1", "plate": "AB-123-C", "make": "Volkswagen", "model": "Golf", "due_km": 120000}
    return {**data, "link_url": link} if link else data


def test_the_new_types_are_accepted_and_have_templates_in_english_and_dutch(
    client, advisor, notify, customers
):
    ann = customers.add()
    for type_ in domain.FEEDBACK_TYPES + domain.FOLLOW_UP_TYPES:
        assert notify(ann["id"], type_, {"link_url": LINK})["type"] == type_
        for language in ("en", "nl"):
            response = client.get(f"/api/v1/notification-templates/{type_}/{language}", headers=advisor)
            assert response.status_code == 200, (type_, language)
        preview = client.post(f"/api/v1/notification-templates/{type_}/nl/preview", json={}, headers=advisor)
        assert preview.status_code == 200
        assert domain.SAMPLE_DATA[type_]["link_url"] in preview.get_json()["sms_body"]


def test_a_preview_shows_the_link_of_an_existing_type_and_reads_as_before_without_it(client, advisor):
    url = "/api/v1/notification-templates/estimate_ready/en/preview"
    with_link = client.post(url, json={}, headers=advisor).get_json()
    assert "Approve or decline each line online: https://portal.garage.example/estimate/" in with_link["body"]
    without = client.post(url, json={"data": {"link_url": None}}, headers=advisor).get_json()
    assert "Please let us know whether we may go ahead." in without["body"]
    assert "https://" not in without["body"] + without["sms_body"]


def test_the_estimate_email_carries_the_approval_link(customers, notify, dispatcher, mail, fetch):
    ann = customers.add()
    link = f"https://portal.garage.example/estimate/{TOKEN}"
    sent = notify(ann["id"], "estimate_ready", {"currency": "EUR", "total_gross": 14520, "link_url": link})
    dispatcher().run_once()
    assert fetch(sent["id"])["status"] == "sent"
    body = mail.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert f"Approve or decline each line online: {link}" in body


def test_the_invoice_sms_carries_the_pay_link(customers, notify, dispatcher, sms_provider):
    ann = customers.add(preferred_channel="sms", preferred_language="nl")
    pay = f"https://portal.garage.example/invoice/{TOKEN}"
    notify(
        ann["id"],
        "invoice_issued",
        {"number": "2026-000042", "currency": "EUR", "total_gross": 24200, "pay_url": pay},
    )
    dispatcher().run_once()
    [message] = sms_provider.accepted
    assert message["text"].endswith(f"Online betalen: {pay}")


def test_a_feedback_request_is_a_service_message(customers, notify, dispatcher, sms_provider, fetch):
    ann = customers.add(preferred_channel="sms")  # service consent only, no marketing
    sent = notify(ann["id"], "feedback_request", {"link_url": LINK, "plate": "AB-123-C"})
    dispatcher(clock=lambda: EVENING).run_once(now=EVENING)  # and quiet hours do not apply
    assert fetch(sent["id"])["status"] == "sent"
    assert sms_provider.accepted[0]["text"].endswith(f"Rate us from 1 to 5: {LINK}")


def test_a_garage_can_count_feedback_requests_as_marketing(customers, notify, dispatcher, fetch):
    ann = customers.add()
    sent = notify(ann["id"], "feedback_request", {"link_url": LINK})
    rules = domain.ConsentRules(feedback_requests_are_service=False)
    dispatcher(consent_rules=rules).run_once()
    notification = fetch(sent["id"])
    assert (notification["status"], notification["skip_reason"]) == ("skipped", "no_marketing_consent")


def test_a_follow_up_without_marketing_consent_is_skipped_with_the_reason(
    customers, notify, dispatcher, mail, sms_provider, fetch
):
    ann = customers.add(preferred_channel="sms")
    sent = notify(ann["id"], "service_due", service_due())
    dispatcher(clock=lambda: AFTERNOON).run_once(now=AFTERNOON)
    notification = fetch(sent["id"])
    assert (notification["status"], notification["skip_reason"]) == ("skipped", "no_marketing_consent")
    [attempt] = notification["attempts"]
    assert attempt["outcome"] == "skipped"
    assert attempt["error"] == domain.SKIP_REASONS["no_marketing_consent"]
    assert sms_provider.accepted == [] and mail.messages == []


def test_a_garage_that_counts_follow_ups_as_service_sends_them_without_marketing_consent(
    customers, notify, dispatcher, sms_provider, fetch
):
    ann = customers.add(preferred_channel="sms")
    sent = notify(ann["id"], "inspection_due", {"due_date": "2026-06-01", "plate": "AB-123-C"})
    rules = domain.ConsentRules(follow_ups_are_service=True)
    dispatcher(consent_rules=rules, clock=lambda: EVENING).run_once(now=EVENING)
    assert fetch(sent["id"])["status"] == "sent"  # a service message: no quiet hours either
    assert "AB-123-C" in sms_provider.accepted[0]["text"]


def test_a_follow_up_with_marketing_consent_goes_out_with_its_booking_link(
    customers, notify, dispatcher, sms_provider, fetch
):
    ann = customers.add(preferred_channel="sms", consents=MARKETING_OK)
    sent = notify(ann["id"], "service_due", service_due())
    dispatcher(clock=lambda: AFTERNOON).run_once(now=AFTERNOON)
    assert fetch(sent["id"])["status"] == "sent"
    [message] = sms_provider.accepted
    assert message["text"] == (
        f"Garage Jansen: your vehicle AB-123-C is due for a service at 120,000 km. Book online: {LINK} "
        "Reply STOP to opt out."
    )


def test_a_marketing_sms_in_quiet_hours_is_held_until_the_morning_then_sent(
    customers, notify, dispatcher, sms_provider, fetch
):
    ann = customers.add(preferred_channel="sms", consents=MARKETING_OK)
    sent = notify(ann["id"], "declined_work", {"lines": [{"description": "Wiper blades"}]})

    stats = dispatcher(clock=lambda: EVENING).run_once(now=EVENING)

    assert (stats.held, stats.sent, stats.processed) == (1, 0, 1)
    held = fetch(sent["id"])
    assert held["status"] == "pending"
    assert held["attempts"] == [] and held["attempt_count"] == 0  # not a try
    assert datetime.fromisoformat(held["next_attempt_at"]) == NEXT_MORNING
    assert sms_provider.accepted == []

    # Still night: nothing due. In the morning: sent.
    assert dispatcher(clock=lambda: EVENING).run_once(now=EVENING).processed == 0
    stats = dispatcher(clock=lambda: NEXT_MORNING).run_once(now=NEXT_MORNING)
    assert stats.sent == 1
    assert fetch(sent["id"])["status"] == "sent"
    assert len(sms_provider.accepted) == 1


def test_quiet_hours_do_not_hold_marketing_email(customers, notify, dispatcher, mail, fetch):
    ann = customers.add(preferred_channel="email", consents=MARKETING_OK)
    sent = notify(ann["id"], "booking_invitation", {"link_url": LINK, "plate": "AB-123-C"})
    dispatcher(clock=lambda: EVENING).run_once(now=EVENING)
    assert fetch(sent["id"])["status"] == "sent"
    assert mail.messages[0]["Subject"] == "Book a visit for your vehicle AB-123-C"


def test_consent_withdrawn_during_the_night_is_seen_in_the_morning(customers, notify, dispatcher, fetch):
    ann = customers.add(preferred_channel="sms", consents=MARKETING_OK)
    sent = notify(ann["id"], "service_due", service_due())
    dispatcher(clock=lambda: EVENING).run_once(now=EVENING)
    customers.put({**ann, "consents": {**MARKETING_OK, "sms": {"service": True, "marketing": False}}})
    dispatcher(clock=lambda: NEXT_MORNING).run_once(now=NEXT_MORNING)
    notification = fetch(sent["id"])
    assert (notification["status"], notification["skip_reason"]) == ("skipped", "no_marketing_consent")


def test_migration_0004_replaces_only_the_defaults_nobody_edited(app, client, advisor):
    command.downgrade(alembic_config(app), "0003")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE notifications.notification_templates SET body = 'Our own text', version = 2,"
                " updated_by = 'advisor-1' WHERE type = 'estimate_ready' AND language = 'en'"
            )
        )
    upgrade(app)
    edited = client.get("/api/v1/notification-templates/estimate_ready/en", headers=advisor).get_json()
    assert (edited["body"], edited["updated_by"], edited["version"]) == ("Our own text", "advisor-1", 2)
    replaced = client.get("/api/v1/notification-templates/estimate_ready/nl", headers=advisor).get_json()
    assert "link_url" in replaced["body"] and replaced["updated_by"] == "migration 0004"
    added = client.get("/api/v1/notification-templates/sms_reply/nl", headers=advisor)
    assert added.status_code == 200
