"""The dispatcher against real servers on loopback: SMTP (aiosmtpd), an HTTP SMS
provider, customer-management and invoicing faked at the HTTP boundary."""

from __future__ import annotations

import threading
import time
import uuid

from notification_management.models import db
from sqlalchemy import text

from service_kit.testing import run_concurrently


def outcomes(notification):
    return [attempt["outcome"] for attempt in notification["attempts"]]


# ------------------------------------------------------------------------------ email


def test_email_arrives_with_recipient_subject_body_and_the_invoice_pdf(
    customers, invoicing, notify, dispatcher, mail, fetch, pdf
):
    ann = customers.add(email="ann@example.com", preferred_channel="email")
    accepted = notify(
        ann["id"],
        "invoice_issued",
        {"number": "2026-000042", "total_gross": 24200, "currency": "EUR", "due_date": "2026-03-31"},
        attachments=[
            {
                "url": invoicing.pdf_url(),
                "filename": "invoice-2026-000042.pdf",
                "content_type": "application/pdf",
            }
        ],
    )
    assert accepted["status"] == "pending"

    stats = dispatcher().run_once()

    assert (stats.sent, stats.failed, stats.dead, stats.skipped) == (1, 0, 0, 0)
    assert len(mail.messages) == 1
    message = mail.messages[0]
    assert mail.envelopes[0].rcpt_tos == ["ann@example.com"]
    assert message["To"] == "ann@example.com"
    assert message["From"] == "Garage Jansen <service@garage.test>"
    assert message["Subject"] == "Invoice 2026-000042 from Garage Jansen"
    assert message["Message-ID"] == f"<{accepted['id']}@garage.test>"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Ann de Vries," in body
    assert "invoice 2026-000042 for €242.00, due on Tuesday 31 March 2026" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "invoice-2026-000042.pdf"
    assert attachment.get_content() == pdf
    pdf_request = invoicing.requests[0]
    assert pdf_request.path.endswith("/pdf")
    assert pdf_request.headers["Authorization"].startswith("Bearer ")

    notification = fetch(accepted["id"])
    assert notification["status"] == "sent"
    assert notification["delivered_channel"] == "email"
    assert notification["recipient"] == "a***@example.com"
    assert notification["language"] == "en"
    assert notification["sent_at"] is not None
    assert notification["next_attempt_at"] is None
    assert notification["provider_reference"] == message["Message-ID"]
    [attempt] = notification["attempts"]
    assert attempt["outcome"] == "sent" and attempt["error"] is None and attempt["channel"] == "email"


def test_an_email_to_a_business_greets_its_contact_person(customers, notify, dispatcher, mail, fetch):
    business = customers.add(
        kind="business",
        name="Jansen Transport B.V.",
        vat_number="NL123456789B01",
        contact_person="Piet Jansen",
        email="planning@jansen-transport.example",
    )
    without_contact = customers.add(
        kind="business", name="Smit Bouw B.V.", contact_person=None, email="info@smit.example"
    )
    for customer in (business, without_contact):
        notify(customer["id"], "vehicle_ready", {"description": "APK"})
    dispatcher().run_once()
    bodies = {m["To"]: m.get_body(preferencelist=("plain",)).get_content() for m in mail.messages}
    assert "Dear Piet Jansen," in bodies["planning@jansen-transport.example"]
    assert "Jansen Transport B.V." not in bodies["planning@jansen-transport.example"]
    assert "Dear Smit Bouw B.V.," in bodies["info@smit.example"]


def test_the_customer_is_looked_up_at_delivery_time_with_the_request_id(
    customers, notify, dispatcher, mail, client
):
    ann = customers.add()
    accepted = notify(ann["id"])
    customers.resources[ann["id"]]["email"] = "ann.new@example.com"  # changed after the request
    dispatcher().run_once()
    assert mail.envelopes[0].rcpt_tos == ["ann.new@example.com"]
    lookup = customers.requests[-1]
    assert lookup.path == f"/api/v1/customers/{ann['id']}"
    assert lookup.headers["X-Request-ID"], "the request id of the POST travels with the delivery"
    assert accepted["id"]


def test_the_customers_language_is_used_with_english_as_fallback(customers, notify, dispatcher, mail, fetch):
    dutch = customers.add(email="dutch@example.com", preferred_language="nl")
    british = customers.add(email="british@example.com", preferred_language="en-GB")
    german = customers.add(email="german@example.com", preferred_language="de")
    ids = [notify(c["id"], "vehicle_ready", {"description": "APK"})["id"] for c in (dutch, british, german)]
    dispatcher().run_once()
    subjects = {m["To"]: m["Subject"] for m in mail.messages}
    assert subjects == {
        "dutch@example.com": "Uw voertuig is klaar",
        "british@example.com": "Your vehicle is ready",
        "german@example.com": "Your vehicle is ready",
    }
    assert [fetch(i)["language"] for i in ids] == ["nl", "en", "en"]


def test_a_requested_channel_overrides_the_preferred_one(customers, notify, dispatcher, mail, sms_provider):
    ann = customers.add(preferred_channel="email")
    notify(ann["id"], "job_on_hold", {"reason": "waiting for a part"}, channel="sms")
    dispatcher().run_once()
    assert mail.messages == []
    assert [m["to"] for m in sms_provider.accepted] == ["+31612345678"]


def test_an_edited_template_is_used_by_the_next_delivery(
    customers, notify, dispatcher, mail, client, advisor
):
    client.put(
        "/api/v1/notification-templates/vehicle_ready/en",
        json={"subject": "Ready, {{ customer.name }}!", "body": "Come and get it.", "sms_body": "Ready."},
        headers=advisor,
    )
    notify(customers.add()["id"])
    dispatcher().run_once()
    assert mail.messages[0]["Subject"] == "Ready, Ann de Vries!"


# -------------------------------------------------------------------------------- SMS


def test_sms_provider_receives_number_text_reference_token_and_idempotency_key(
    customers, notify, dispatcher, sms_provider, fetch, sms_token
):
    bob = customers.add(name="Bob Jansen", email=None, phone="+31687654321", preferred_channel="sms")
    accepted = notify(
        bob["id"], "appointment_reminder", {"start": "2026-03-17T08:30:00Z", "plate": "AB-123-C"}
    )

    dispatcher().run_once()

    [request] = sms_provider.requests
    assert request.method == "POST" and request.path == "/v1/messages"
    assert request.headers["Authorization"] == f"Bearer {sms_token}"
    assert request.headers["Idempotency-Key"] == accepted["id"]
    [message] = sms_provider.accepted
    assert message["to"] == "+31687654321"
    assert message["reference"] == accepted["id"]
    assert message["text"] == (
        "Garage Jansen: a reminder of your appointment for AB-123-C on Tuesday 17 March 2026 at 09:30."
    )
    notification = fetch(accepted["id"])
    assert notification["status"] == "sent"
    assert notification["provider_reference"] == "sms-1"
    assert notification["recipient"] == "+31*****4321"


def test_sms_provider_failing_then_recovering_sends_exactly_once(
    customers, notify, dispatcher, sms_provider, fetch, later_time
):
    bob = customers.add(preferred_channel="sms")
    accepted = notify(bob["id"])
    sms_provider.statuses.extend([500, 500])
    runner = dispatcher()

    assert runner.run_once().failed == 1
    first = fetch(accepted["id"])
    assert first["status"] == "failed"
    assert first["next_attempt_at"] is not None
    assert "sms-provider answered 500" in first["last_error"]
    assert runner.run_once().failed == 0, "not due again before its backoff"

    assert runner.run_once(now=later_time()).failed == 1
    assert runner.run_once(now=later_time()).sent == 1
    assert runner.run_once(now=later_time()).processed == 0

    assert len(sms_provider.accepted) == 1
    notification = fetch(accepted["id"])
    assert notification["status"] == "sent"
    assert outcomes(notification) == ["failed", "failed", "sent"]
    assert [a["number"] for a in notification["attempts"]] == [1, 2, 3]
    assert all("500" in a["error"] for a in notification["attempts"][:2])


def test_sms_provider_failing_for_good_makes_it_dead_after_the_attempt_limit(
    customers, notify, dispatcher, sms_provider, fetch, later_time
):
    accepted = notify(customers.add(preferred_channel="sms")["id"])
    sms_provider.default = 503
    runner = dispatcher()
    for _ in range(5):
        runner.run_once(now=later_time())
    notification = fetch(accepted["id"])
    assert notification["status"] == "dead"
    assert outcomes(notification) == ["failed", "failed", "dead"]  # DISPATCH_MAX_ATTEMPTS = 3
    assert notification["next_attempt_at"] is None
    assert "503" in notification["last_error"]
    assert sms_provider.accepted == []


def test_backoff_grows_between_attempts(customers, notify, dispatcher, sms_provider, app):
    accepted = notify(customers.add(preferred_channel="sms")["id"])
    sms_provider.default = 500
    runner = dispatcher(rng=lambda: 1.0)
    runner.policy = type(runner.policy)(max_attempts=10, base_seconds=10, max_seconds=1000)
    waits = []
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    for _ in range(4):
        now += timedelta(seconds=2000)
        runner.clock = lambda now=now: now
        runner.run_once(now=now)
        with app.app_context():
            due = db.session.execute(
                text("SELECT next_attempt_at FROM notifications.notifications WHERE id = :id"),
                {"id": accepted["id"]},
            ).scalar_one()
            db.session.remove()
        waits.append((due - now).total_seconds())
    assert waits == [10, 20, 40, 80]


def test_a_refusing_provider_makes_it_dead_at_once(customers, notify, dispatcher, sms_provider, fetch):
    accepted = notify(customers.add(preferred_channel="sms")["id"])
    sms_provider.statuses.append(400)
    assert dispatcher().run_once().dead == 1
    notification = fetch(accepted["id"])
    assert notification["status"] == "dead"
    assert "400" in notification["attempts"][0]["error"]


def test_logging_sms_provider_for_development(customers, notify, dispatcher, fetch, caplog):
    from notification_management.senders import LoggingSmsProvider

    accepted = notify(customers.add(preferred_channel="sms")["id"])
    with caplog.at_level("INFO", logger="notification_management.senders"):
        dispatcher(sms=LoggingSmsProvider()).run_once()
    assert fetch(accepted["id"])["provider_reference"] == f"logged-{accepted['id']}"
    assert "is ready to be picked up" in caplog.text


# --------------------------------------------------------------------- SMTP failures


def test_smtp_temporary_refusal_is_retried(customers, notify, dispatcher, mail, fetch, later_time):
    accepted = notify(customers.add()["id"])
    mail.data_failures.append("451 4.3.0 try again later")
    runner = dispatcher()
    assert runner.run_once().failed == 1
    assert runner.run_once(now=later_time()).sent == 1
    assert len(mail.messages) == 1
    assert outcomes(fetch(accepted["id"])) == ["failed", "sent"]
    assert "451" in fetch(accepted["id"])["attempts"][0]["error"]


def test_smtp_refusing_the_recipient_is_dead_at_once(customers, notify, dispatcher, mail, fetch):
    accepted = notify(customers.add(email="gone@example.com")["id"])
    mail.refuse_recipients.add("gone@example.com")
    assert dispatcher().run_once().dead == 1
    assert "550" in fetch(accepted["id"])["last_error"]


def test_smtp_server_down_is_retried(customers, notify, dispatcher, fetch, unused_port):
    from notification_management.senders import EmailSender, SmtpSettings

    accepted = notify(customers.add()["id"])
    unreachable = EmailSender(SmtpSettings(host="127.0.0.1", port=unused_port, timeout=1))
    assert dispatcher(email=unreachable).run_once().failed == 1
    assert "SMTP server 127.0.0.1" in fetch(accepted["id"])["last_error"]


# ------------------------------------------------------------------ reasons to skip


def test_opted_out_erased_unreachable_and_silent_customers_are_skipped_with_the_reason(
    customers, notify, dispatcher, mail, sms_provider, fetch
):
    opted_out = customers.add(
        consents={
            "email": {"service": False, "marketing": False},
            "sms": {"service": True, "marketing": False},
        }
    )
    erased = customers.add(
        status="erased",
        name="Erased customer",
        email=None,
        phone=None,
        preferred_channel="none",
        erased_at="2026-02-01T10:00:00+00:00",
        consents={
            "email": {"service": False, "marketing": False},
            "sms": {"service": False, "marketing": False},
        },
    )
    no_email = customers.add(email=None, preferred_channel="sms")
    no_phone = customers.add(phone=None)
    silent = customers.add(preferred_channel="none")
    cases = {
        notify(opted_out["id"])["id"]: "opted_out",
        notify(erased["id"])["id"]: "customer_erased",
        notify(no_email["id"], channel="email")["id"]: "no_email_address",
        notify(no_phone["id"], channel="sms")["id"]: "no_phone_number",
        notify(silent["id"])["id"]: "no_channel",
    }

    assert dispatcher().run_once().skipped == 5

    assert mail.messages == [] and sms_provider.requests == []
    for notification_id, reason in cases.items():
        notification = fetch(notification_id)
        assert (notification["status"], notification["skip_reason"]) == ("skipped", reason)
        assert notification["attempts"][0]["outcome"] == "skipped"
        assert notification["attempts"][0]["error"]


def test_a_skipped_notification_goes_out_once_staff_retry_after_the_customer_is_reachable(
    customers, notify, dispatcher, mail, client, advisor, fetch
):
    ann = customers.add(email=None, preferred_channel="sms")
    accepted = notify(ann["id"], channel="email")
    dispatcher().run_once()
    customers.resources[ann["id"]]["email"] = "ann@example.com"
    assert client.post(f"/api/v1/notifications/{accepted['id']}/retry", headers=advisor).status_code == 202
    dispatcher().run_once()
    assert len(mail.messages) == 1
    assert outcomes(fetch(accepted["id"])) == ["skipped", "sent"]


# ------------------------------------------------------------------------- templates


def test_unknown_template_is_dead_with_the_reason_and_goes_out_after_staff_add_it(
    customers, notify, dispatcher, mail, app, client, advisor, fetch
):
    with app.app_context():
        db.session.execute(
            text("DELETE FROM notifications.notification_templates WHERE type = 'vehicle_ready'")
        )
        db.session.commit()
    accepted = notify(customers.add(preferred_language="nl")["id"])

    assert dispatcher().run_once().dead == 1
    notification = fetch(accepted["id"])
    assert notification["status"] == "dead"
    assert notification["last_error"] == "no vehicle_ready template in nl or en"
    assert mail.messages == []

    added = client.put(
        "/api/v1/notification-templates/vehicle_ready/nl",
        json={"subject": "Klaar", "body": "Uw auto is klaar.", "sms_body": "Klaar."},
        headers=advisor,
    )
    assert added.status_code == 201
    assert client.post(f"/api/v1/notifications/{accepted['id']}/retry", headers=advisor).status_code == 202
    dispatcher().run_once()
    assert [m["Subject"] for m in mail.messages] == ["Klaar"]
    assert outcomes(fetch(accepted["id"])) == ["dead", "sent"]


def test_data_the_template_needs_but_lacks_makes_it_dead(customers, notify, dispatcher, mail, fetch):
    accepted = notify(customers.add()["id"], "invoice_issued", {"total_gross": 100, "currency": "EUR"})
    assert dispatcher().run_once().dead == 1
    error = fetch(accepted["id"])["last_error"]
    assert "invoice_issued template (en) does not render" in error
    assert "'number' is undefined" in error
    assert mail.messages == []


# --------------------------------------------------------------- customer-management


def test_customer_management_down_is_retried_later_and_not_lost(
    customers, notify, dispatcher, mail, fetch, later_time
):
    accepted = notify(customers.add()["id"])
    customers.failing = 503
    runner = dispatcher()
    assert runner.run_once().failed == 1
    notification = fetch(accepted["id"])
    assert notification["status"] == "failed"
    assert notification["next_attempt_at"] is not None
    assert "customer-management answered 503" in notification["last_error"]

    customers.failing = None
    assert runner.run_once(now=later_time()).sent == 1
    assert len(mail.messages) == 1
    assert outcomes(fetch(accepted["id"])) == ["failed", "sent"]


def test_customer_management_unreachable_is_retried(customers, notify, dispatcher, app, fetch, unused_port):
    from notification_management.clients.customer_management import CustomerManagement
    from notification_management.dispatcher import _client

    accepted = notify(customers.add()["id"])
    config = {**app.config, "CUSTOMER_MANAGEMENT_URL": f"http://127.0.0.1:{unused_port}"}
    runner = dispatcher(customers=CustomerManagement(_client(config, "customer-management")))
    assert runner.run_once().failed == 1
    assert "could not be reached" in fetch(accepted["id"])["last_error"]


def test_a_customer_unknown_to_customer_management_is_dead(notify, dispatcher, fetch):
    accepted = notify(str(uuid.uuid4()))
    assert dispatcher().run_once().dead == 1
    assert "does not exist in customer-management" in fetch(accepted["id"])["last_error"]


def test_an_attachment_that_cannot_be_fetched_yet_is_retried(
    customers, invoicing, notify, dispatcher, mail, fetch, later_time
):
    accepted = notify(
        customers.add()["id"],
        "invoice_issued",
        {"number": "2026-000001", "total_gross": 100, "currency": "EUR"},
        attachments=[{"url": invoicing.pdf_url(), "filename": "i.pdf", "content_type": "application/pdf"}],
    )
    invoicing.statuses.extend([404])
    runner = dispatcher()
    assert runner.run_once().failed == 1
    assert "invoicing answered 404" in fetch(accepted["id"])["last_error"]
    assert runner.run_once(now=later_time()).sent == 1
    assert len(mail.messages) == 1


# ------------------------------------------------------------------------ concurrency


def test_two_dispatchers_on_one_queue_send_every_notification_exactly_once(
    customers, notify, dispatcher, mail, sms_provider, client, advisor
):
    people = [customers.add(email=f"c{n}@example.com", preferred_channel="email") for n in range(20)]
    texters = [customers.add(phone=f"+3161234{n:04d}", preferred_channel="sms") for n in range(20)]
    ids = {notify(c["id"])["id"] for c in people + texters}
    runners = [dispatcher(), dispatcher()]

    stats = run_concurrently(lambda runner: runner.run_once(), runners)

    assert sum(s.sent for s in stats) == 40
    assert all(s.sent > 0 for s in stats), "both dispatchers took part"
    mailed = [m["X-Garage-Notification-ID"] for m in mail.messages]
    texted = [m["reference"] for m in sms_provider.accepted]
    assert len(mailed) == len(set(mailed)) == 20
    assert len(texted) == len(set(texted)) == 20
    assert set(mailed) | set(texted) == ids
    listed = client.get("/api/v1/notifications?status=sent&limit=200", headers=advisor).get_json()["items"]
    assert len(listed) == 40
    assert all(len(n["attempts"]) == 1 for n in listed)


# ----------------------------------------------------------------------- the process


def test_dispatch_once_command(app, customers, notify, mail, clean):
    notify(customers.add()["id"])
    result = app.test_cli_runner().invoke(args=["dispatch", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, to retry 0, dead 0, skipped 0" in result.output
    assert len(mail.messages) == 1


def test_long_running_dispatcher_delivers_what_arrives_and_stops(customers, notify, dispatcher, mail, fetch):
    runner = dispatcher()
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(stop,), kwargs={"poll_seconds": 0.02})
    worker.start()
    try:
        accepted = notify(customers.add()["id"])
        deadline = time.monotonic() + 5
        while fetch(accepted["id"])["status"] != "sent" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fetch(accepted["id"])["status"] == "sent"
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(mail.messages) == 1
