"""Faults on the running garage: a service stops while others need it.

- maintenance-job-management stops while the front desk books: scheduling answers a
  503 problem naming it, quickly, and books nothing; once it is back, booking works.
- invoicing and notification-management stop while a job completes: the completion
  succeeds (its requests wait in the job service's outbox), and once they are back
  every deferred request is delivered exactly once — one invoice, one "vehicle ready"
  message, one invoice email.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from garage_harness import FrontDesk, Garage, MailSink, SmsProvider, eventually, expect, tomorrow

pytestmark = pytest.mark.system
JOBS = "maintenance-job-management"
QUICK_SECONDS = 5.0


@pytest.fixture(scope="module")
def workshop(front_desk: FrontDesk) -> None:
    front_desk.configure_workshop()
    front_desk.add_bay("Fault lift A")
    front_desk.add_bay("Fault lift B")


@pytest.fixture
def restarts(garage: Garage) -> Iterator[list[str]]:
    """Services a test stops; whatever happens in the test, they run again after it."""
    stopped: list[str] = []
    yield stopped
    for name in stopped:
        if not garage.web[name].running:
            garage.start_service(name)


def stop(garage: Garage, restarts: list[str], *names: str) -> None:
    restarts.extend(names)
    for name in names:
        garage.web[name].terminate()
    for name in names:
        garage.stop_service(name)


def start(garage: Garage, *names: str) -> None:
    for name in names:
        garage.web[name].start()
    for name in names:
        garage.wait_ready(name)


def appointments_of(garage: Garage, vehicle_id: str) -> list[dict[str, Any]]:
    return expect(
        garage.call(
            "GET",
            "workshop-scheduling",
            "/api/v1/appointments",
            role="advisor",
            params={"vehicle_id": vehicle_id},
        ),
        200,
    )["items"]


def jobs_of(garage: Garage, vehicle_id: str) -> list[dict[str, Any]]:
    return expect(
        garage.call(
            "GET", JOBS, "/api/v1/maintenance-jobs", role="advisor", params={"vehicle_id": vehicle_id}
        ),
        200,
    )["items"]


def test_booking_while_the_job_service_is_down(
    garage: Garage, front_desk: FrontDesk, workshop: None, restarts: list[str]
) -> None:
    customer = front_desk.customer()
    vehicle = front_desk.vehicle(customer["id"])
    slot = front_desk.free_slot(tomorrow() + timedelta(days=2), 60)

    stop(garage, restarts, JOBS)
    started = time.perf_counter()
    refused = front_desk.book(vehicle["id"], slot)
    elapsed = time.perf_counter() - started

    assert refused.status_code == 503, refused.text
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["status"], problem["dependency"]) == (503, JOBS)
    assert elapsed < QUICK_SECONDS, f"the 503 took {elapsed:.2f} s"
    assert appointments_of(garage, vehicle["id"]) == [], "nothing is booked"
    print(f"\n[faults] booking with {JOBS} down: 503 in {elapsed:.3f} s")

    start(garage, JOBS)
    # Scheduling's breaker may still be open for its cool-down: the first bookings after
    # the restart may be 503s naming the job service, then one goes through.
    booked = eventually(
        lambda: (response := front_desk.book(vehicle["id"], slot)).status_code != 503 and response,
        timeout=15,
        interval=0.2,
        what="a booking once the job service is back",
    )
    appointment = expect(booked, 201)
    assert [a["id"] for a in appointments_of(garage, vehicle["id"])] == [appointment["id"]]
    assert [job["appointment_id"] for job in jobs_of(garage, vehicle["id"])] == [appointment["id"]], (
        "one job, the booked appointment's: the refused booking left none behind"
    )


def outbox_rows_of_job(front_desk: FrontDesk, job_id: str) -> dict[str, dict[str, Any]]:
    return {
        row["idempotency_key"]: row
        for row in front_desk.outbox(JOBS, "/api/v1/maintenance-jobs")
        if row["idempotency_key"] in (f"invoice-{job_id}", f"vehicle-ready-{job_id}")
    }


def test_a_job_completed_while_invoicing_and_notifications_are_down(
    garage: Garage,
    front_desk: FrontDesk,
    workshop: None,
    restarts: list[str],
    mail: MailSink,
    sms: SmsProvider,
) -> None:
    # The vehicle-ready message goes by SMS (the customer's preference), the invoice by email.
    phone = f"+3161{random.randrange(10**6, 10**7)}"
    customer = front_desk.customer(
        phone=phone,
        preferred_channel="sms",
        consents=[
            {
                "channel": channel,
                "purpose": "service",
                "granted": True,
                "source": "counter",
                "wording": "Yes.",
            }
            for channel in ("email", "sms")
        ],
    )
    vehicle = front_desk.vehicle(customer["id"])
    appointment = expect(
        front_desk.book(vehicle["id"], front_desk.free_slot(tomorrow() + timedelta(days=3), 60)), 201
    )
    job_id = appointment["job_id"]
    front_desk.job_action(job_id, "start", {"odometer_in": 120_000})
    line = front_desk.add_line(
        job_id,
        kind="labour",
        description="timing belt",
        hours="3",
        hourly_rate=7000,
        covered_by_booking=True,
    )

    stop(garage, restarts, "invoicing", "notification-management")
    started = time.perf_counter()
    completed = front_desk.job_action(job_id, "complete", {"technician_notes": "belt and tensioner"})
    elapsed = time.perf_counter() - started
    assert completed["status"] == "completed"
    assert completed["totals"]["billable_net"] == line["net_amount"] == 21000
    print(f"\n[faults] completion with invoicing and notifications down: 200 in {elapsed:.3f} s")

    # Both requests wait in the outbox, written with the completion; the relay keeps trying.
    keys = {f"invoice-{job_id}", f"vehicle-ready-{job_id}"}

    def both_retried() -> bool:
        rows = outbox_rows_of_job(front_desk, job_id)
        assert set(rows) == keys, rows
        assert {row["status"] for row in rows.values()} == {"pending"}, rows
        return all(row["attempts"] >= 1 and row["last_error"] for row in rows.values())

    eventually(both_retried, what="the relay trying both requests")
    assert front_desk.job(job_id)["status"] == "completed"

    start(garage, "invoicing", "notification-management")

    def delivered() -> dict[str, dict[str, Any]] | None:
        rows = outbox_rows_of_job(front_desk, job_id)
        return rows if {row["status"] for row in rows.values()} == {"delivered"} else None

    rows = eventually(delivered, timeout=30, what="the outbox delivered once they are back")
    assert all(row["attempts"] >= 2 for row in rows.values()), rows

    [invoice] = eventually(lambda: front_desk.invoices_of_job(job_id), what="the invoice")
    assert invoice["totals"]["net"] == 21000 and invoice["totals"]["gross"] == 25410

    def sent(type_: str) -> dict[str, Any] | None:
        found = front_desk.notifications(customer["id"], type_)
        assert len(found) <= 1, found
        return found[0] if found and found[0]["status"] == "sent" else None

    ready = eventually(lambda: sent("vehicle_ready"), what="vehicle_ready sent")
    issued = eventually(lambda: sent("invoice_issued"), what="invoice_issued sent")
    assert ready["delivered_channel"] == "sms" and issued["delivered_channel"] == "email"
    [text] = [m for m in sms.to(phone) if m["reference"] == ready["id"]]
    assert text["idempotency_key"] == ready["id"]
    [email] = mail.by_notification(issued["id"])
    assert email["To"] == customer["email"]
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content().startswith(b"%PDF")

    # Exactly once, also after the outboxes settled: invoicing's own message is delivered.
    def invoicing_outbox_settled() -> bool:
        rows = [
            row
            for row in front_desk.outbox("invoicing", "/api/v1/invoices")
            if row["idempotency_key"].startswith(f"invoice-{invoice['id']}-send-")
        ]
        return [row["status"] for row in rows] == ["delivered"]

    eventually(invoicing_outbox_settled, what="invoicing's outbox delivered")
    assert len(front_desk.invoices_of_job(job_id)) == 1
    assert len(front_desk.notifications(customer["id"], "vehicle_ready")) == 1
    assert len(front_desk.notifications(customer["id"], "invoice_issued")) == 1
    assert len([m for m in sms.to(phone) if m["reference"] == ready["id"]]) == 1
    assert len(mail.by_notification(issued["id"])) == 1
