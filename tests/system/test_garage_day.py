"""A garage's day through the public APIs of the six running services: register a
customer and a vehicle, set up the workshop and its prices, find a free slot and book
it, the confirmation and (once) the reminder arrive by email, the car is checked in
(its job shows it arrived), the technician works from a canned job, the customer
approves the estimate, the job completes (its appointment completes, the bay is free
again), invoicing issues the invoice with the next number, the right totals and the
customer's terms, the customer gets it by email with the PDF, an advisor takes the
payment at the counter, the receipt prints, and the day's cash-up lists it."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from garage_harness import GARAGE_NAME, MAIL_FROM, FrontDesk, Garage, MailSink, eventually, expect, tomorrow

pytestmark = pytest.mark.system
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
JOBS = "/api/v1/maintenance-jobs"


def half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_totals(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """What the invoice must say, computed here from the lines as the technician entered
    them: net = quantity x unit price per line, VAT per line on its net, both half-up
    to the cent; totals and a breakdown per rate are sums of the lines."""
    per_line = []
    for line in lines:
        net = half_up(Decimal(line["quantity"]) * line["unit_price"])
        vat = half_up(net * Decimal(line["vat_rate"]) / 100)
        per_line.append({"net": net, "vat": vat, "gross": net + vat, "rate": Decimal(line["vat_rate"])})
    rates: dict[Decimal, dict[str, int]] = {}
    for line in per_line:
        row = rates.setdefault(line["rate"], {"net": 0, "vat": 0, "gross": 0})
        for key in ("net", "vat", "gross"):
            row[key] += line[key]
    return {
        "lines": per_line,
        "net": sum(line["net"] for line in per_line),
        "vat": sum(line["vat"] for line in per_line),
        "gross": sum(line["gross"] for line in per_line),
        "breakdown": {f"{rate:.2f}": row for rate, row in sorted(rates.items())},
    }


def next_invoice_number(front_desk: FrontDesk, year: int) -> str:
    """The number the next invoice must get: one past the highest of ``year``."""
    listed = expect(
        front_desk.garage.call(
            "GET", "invoicing", "/api/v1/invoices", role="accountant", params={"limit": 200}
        ),
        200,
    )["items"]
    taken = [int(i["number"].split("-")[1]) for i in listed if i["number"].startswith(f"{year}-")]
    return f"{year}-{max(taken, default=0) + 1:06d}"


def one_notification(front_desk: FrontDesk, customer_id: str, type_: str) -> dict[str, Any]:
    """Wait until the customer's one notification of ``type_`` is sent; fail on a second."""

    def sent() -> dict[str, Any] | None:
        found = front_desk.notifications(customer_id, type_)
        assert len(found) <= 1, f"more than one {type_}: {found}"
        return found[0] if found and found[0]["status"] == "sent" else None

    return eventually(sent, what=f"{type_} sent")


def one_email(mail: MailSink, notification: dict[str, Any], address: str) -> Any:
    [message] = eventually(
        lambda: mail.by_notification(notification["id"]), what="the email at the SMTP server"
    )
    assert message["To"] == address
    assert message["From"] == MAIL_FROM
    return message


def test_a_garage_day(garage: Garage, front_desk: FrontDesk, mail: MailSink) -> None:
    # 1. Front desk registers the customer (email, consent for service messages) and the car.
    customer = front_desk.customer(name="Ann de Vries")
    assert customer["consents"]["email"]["service"] is True
    assert customer["preferred_channel"] == "email"
    vehicle = front_desk.vehicle(customer["id"], make="Volvo", model="V60", vin="YV1ZW72V8K1234567")
    assert vehicle["owner_id"] == customer["id"]

    # 2. The workshop: hours, a lift, a technician.
    settings = front_desk.configure_workshop()
    assert settings["time_zone"] == "Europe/Amsterdam"
    bay = front_desk.add_bay("Lift 1")
    anna = front_desk.add_technician("Anna Bakker", ["brakes", "apk"])

    # 3. A free 90-minute slot tomorrow, booked.
    day = tomorrow()
    slot = front_desk.free_slot(day, 90)
    assert bay["id"] in slot["bay_ids"], slot
    booked = front_desk.book(
        vehicle["id"],
        slot,
        bay_id=bay["id"],
        technician_id=anna["id"],
        work_description="annual service",
        service_codes=["APK"],
    )
    appointment = expect(booked, 201)
    assert appointment["status"] == "booked"
    assert appointment["customer_id"] == customer["id"]
    assert datetime.fromisoformat(appointment["start"]) == datetime.fromisoformat(slot["start"])
    job = front_desk.job(appointment["job_id"])
    assert (job["status"], job["appointment_id"], job["vehicle_id"]) == (
        "scheduled",
        appointment["id"],
        vehicle["id"],
    )

    # 4. The confirmation arrives by email.
    confirmed = one_notification(front_desk, customer["id"], "appointment_confirmed")
    message = one_email(mail, confirmed, customer["email"])
    start_local = datetime.fromisoformat(slot["start"]).astimezone(AMSTERDAM)
    assert message["Subject"] == f"Your appointment at {GARAGE_NAME} on {_long_date(start_local.date())}"
    assert "Dear Ann de Vries," in message.get_body(preferencelist=("plain",)).get_content()

    # 5. The day before: the reminder command, twice (a CronJob may run again); one reminder.
    for run, expected in ((1, r"^[1-9]\d* reminders for "), (2, r"^0 reminders for ")):
        result = garage.command("workshop-scheduling", "send-reminders", "--date", day.isoformat())
        assert result.returncode == 0, result.stderr
        assert re.match(expected + re.escape(day.isoformat()), result.stdout), (run, result.stdout)
    reminder = one_notification(front_desk, customer["id"], "appointment_reminder")
    one_email(mail, reminder, customer["email"])
    reminder_rows = [
        row
        for row in front_desk.outbox("workshop-scheduling", "/api/v1/workshop")
        if row["idempotency_key"].startswith(f"appointment-reminder-{appointment['id']}")
    ]
    assert [row["status"] for row in reminder_rows] == ["delivered"]
    assert len(front_desk.notifications(customer["id"], "appointment_reminder")) == 1
    assert len(mail.by_notification(reminder["id"])) == 1

    # 6. The car is brought in: the advisor checks it in, and the job shows it arrived.
    checked_in = expect(
        garage.call(
            "POST",
            "workshop-scheduling",
            f"/api/v1/appointments/{appointment['id']}/check-in",
            role="advisor",
        ),
        200,
    )
    assert checked_in["status"] == "checked_in"
    arrived = eventually(
        lambda: (lambda j: j if j["arrived_at"] else None)(front_desk.job(job["id"])), what="the job arrived"
    )
    assert arrived["appointment_status"] == "checked_in"
    # "Where is my car?": the plate, typed any way, finds the open visit and its job.
    typed = vehicle["plate"].lower().replace("-", " ")
    [visit] = expect(
        garage.call(
            "GET",
            "workshop-scheduling",
            "/api/v1/appointments",
            role="advisor",
            params={"plate": typed, "open": "true"},
        ),
        200,
    )["items"]
    assert (visit["id"], visit["status"], visit["job_id"], visit["job_status"]) == (
        appointment["id"],
        "checked_in",
        job["id"],
        "scheduled",
    )

    # 7. The owner priced the annual service once (a labour rate and a canned job); the
    #    advisor adds it to the job in one call, at today's prices. The technician
    #    starts and finds more work, which goes to the customer.
    expect(
        garage.call(
            "PUT",
            "maintenance-job-management",
            "/api/v1/labour-rates/default",
            json={"name": "Workshop", "hourly_rate": 6550},
        ),
        201,
    )
    canned = expect(
        garage.call(
            "POST",
            "maintenance-job-management",
            "/api/v1/canned-jobs",
            idempotency_key=str(uuid.uuid4()),
            json={
                "code": "annual-service",
                "name": "Annual service",
                "lines": [
                    {"kind": "labour", "description": "annual service", "hours": "1.5"},
                    {
                        "kind": "part",
                        "description": "oil filter",
                        "part_number": "OF-123",
                        "quantity": "1",
                        "unit_price": 1250,
                    },
                    {
                        "kind": "part",
                        "description": "screen wash (litres)",
                        "quantity": "4.5",
                        "unit_price": 399,
                        "vat_rate": "9",
                    },
                ],
            },
        ),
        201,
    )
    added = expect(
        garage.call(
            "POST",
            "maintenance-job-management",
            f"{JOBS}/{job['id']}/canned-jobs",
            role="advisor",
            idempotency_key=str(uuid.uuid4()),
            json={"canned_job_id": canned["id"], "covered_by_booking": True},
        ),
        201,
    )["lines"]
    assert [(line["unit_price"], line["quantity"], line["approval"]) for line in added] == [
        (6550, "1.50", "approved"),
        (1250, "1.00", "approved"),
        (399, "4.50", "approved"),
    ]
    started = front_desk.job_action(job["id"], "start", {"odometer_in": 48_200})
    assert (started["status"], started["assigned_technician"]) == ("in_progress", "tech-anna")
    entered = [
        # (what the API is sent, what the line is as the invoice must bill it)
        *added,
        front_desk.add_line(
            job["id"],
            kind="labour",
            description="replace brake pads",
            hours="1",
            hourly_rate=6550,
        ),
        front_desk.add_line(
            job["id"],
            kind="part",
            description="brake pads",
            part_number="BP-77",
            quantity="1",
            unit_price=4599,
        ),
        front_desk.add_line(
            job["id"],
            kind="part",
            description="wiper blades",
            part_number="WB-2",
            quantity="2",
            unit_price=1499,
        ),
    ]
    pads_labour, pads, wipers = entered[3], entered[4], entered[5]

    # 8. The estimate for the extra work goes out by email; the customer approves the
    #    brake pads on the phone and declines the wipers.
    estimate = expect(
        garage.call(
            "POST",
            "maintenance-job-management",
            f"{JOBS}/{job['id']}/estimates",
            role="advisor",
            json={"channel": "email", "message": "Your brake pads are worn."},
        ),
        201,
    )
    assert {line["line_id"] for line in estimate["snapshot"]["lines"]} == {
        pads_labour["id"],
        pads["id"],
        wipers["id"],
    }
    one_email(mail, one_notification(front_desk, customer["id"], "estimate_ready"), customer["email"])
    decided = expect(
        garage.call(
            "POST",
            "maintenance-job-management",
            f"{JOBS}/{job['id']}/estimates/{estimate['id']}/decision",
            role="advisor",
            json={
                "decided_by": "Ann de Vries",
                "channel": "phone",
                "lines": [
                    {"line_id": pads_labour["id"], "approved": True},
                    {"line_id": pads["id"], "approved": True},
                    {"line_id": wipers["id"], "approved": False},
                ],
            },
        ),
        200,
    )
    assert decided["status"] == "decided"

    # 9. The job completes; the invoice must get the next number of the year. Its
    #    appointment completes too, and the bay is free again for the rest of the slot.
    year = datetime.now(AMSTERDAM).year
    number = next_invoice_number(front_desk, year)
    completed = front_desk.job_action(job["id"], "complete", {"technician_notes": "all done"})
    assert completed["status"] == "completed"
    billed = [line for line in entered if line["id"] != wipers["id"]]
    expected = expected_totals(billed)
    assert completed["totals"]["billable_net"] == expected["net"]
    visit = eventually(
        lambda: (lambda a: a if a["status"] == "completed" else None)(
            expect(
                garage.call(
                    "GET", "workshop-scheduling", f"/api/v1/appointments/{appointment['id']}", role="advisor"
                ),
                200,
            )
        ),
        what="the appointment completed",
    )
    assert (visit["job_id"], visit["job_status"]) == (job["id"], "completed")
    free_again = expect(
        garage.call(
            "GET",
            "workshop-scheduling",
            "/api/v1/availability",
            role="advisor",
            params={"from": day.isoformat(), "to": day.isoformat(), "duration": 90, "bay_kind": "lift"},
        ),
        200,
    )["slots"]
    assert any(s["start"] == slot["start"] and bay["id"] in s["bay_ids"] for s in free_again), free_again

    # 10. Invoicing issues it (through the job service's outbox).
    [invoice] = eventually(lambda: front_desk.invoices_of_job(job["id"]), what="the invoice of the job")
    assert invoice["number"] == number
    assert re.fullmatch(rf"{year}-\d{{6}}", invoice["number"])
    assert invoice["customer"]["name"] == "Ann de Vries"
    assert invoice["vehicle"]["plate"] == vehicle["plate"]
    assert invoice["currency"] == "EUR"
    assert [line["job_line_id"] for line in invoice["lines"]] == [line["id"] for line in billed]
    assert [(line["net"], line["vat"], line["gross"]) for line in invoice["lines"]] == [
        (line["net"], line["vat"], line["gross"]) for line in expected["lines"]
    ]
    totals = invoice["totals"]
    assert (totals["net"], totals["vat"], totals["gross"]) == (
        expected["net"],
        expected["vat"],
        expected["gross"],
    )
    assert {
        row["rate"]: {k: row[k] for k in ("net", "vat", "gross")} for row in invoice["vat_breakdown"]
    } == (expected["breakdown"])
    assert totals["outstanding"] == expected["gross"]
    assert invoice["due_date"] == invoice["issue_date"]  # a person pays on collection
    assert invoice["payment_terms_days"] == 0

    # 11. The customer gets the invoice by email, with the PDF the API serves.
    issued = one_notification(front_desk, customer["id"], "invoice_issued")
    message = one_email(mail, issued, customer["email"])
    assert message["Subject"] == f"Invoice {number} from {GARAGE_NAME}"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"invoice-{number}.pdf"
    content = attachment.get_content()
    assert content.startswith(b"%PDF")
    served = garage.call("GET", "invoicing", f"/api/v1/invoices/{invoice['id']}/pdf", role="accountant")
    assert served.status_code == 200 and served.content == content
    # ... and the vehicle-ready message.
    one_email(mail, one_notification(front_desk, customer["id"], "vehicle_ready"), customer["email"])
    assert eventually(
        lambda: expect(
            garage.call("GET", "invoicing", f"/api/v1/invoices/{invoice['id']}", role="accountant"), 200
        )["sent_at"],
        what="the invoice marked as sent",
    )

    # 12. The customer collects the car and pays by card at the counter: the advisor takes
    #     the payment, the receipt prints, and the day's cash-up lists it under card.
    payment = expect(
        garage.call(
            "POST",
            "invoicing",
            f"/api/v1/invoices/{invoice['id']}/payments",
            role="advisor",
            subject="advisor-bea",
            idempotency_key=str(uuid.uuid4()),
            json={"amount": expected["gross"], "method": "card", "reference": "PIN 0042"},
        ),
        201,
    )
    settled = expect(
        garage.call("GET", "invoicing", f"/api/v1/invoices/{invoice['id']}", role="accountant"), 200
    )
    assert settled["status"] == "paid"
    assert (settled["totals"]["paid"], settled["totals"]["outstanding"]) == (expected["gross"], 0)
    receipt = garage.call(
        "GET",
        "invoicing",
        f"/api/v1/invoices/{invoice['id']}/payments/{payment['id']}/receipt",
        role="advisor",
    )
    assert receipt.status_code == 200 and receipt.headers["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    today = datetime.now(AMSTERDAM).date().isoformat()
    cash_up = expect(
        garage.call(
            "GET", "invoicing", "/api/v1/payments", role="advisor", params={"from": today, "to": today}
        ),
        200,
    )
    assert payment["id"] in [row["id"] for row in cash_up["items"]]
    card = [total for total in cash_up["totals"] if total["method"] == "card"]
    assert card and card[0]["received"] >= expected["gross"], cash_up["totals"]

    # Everything the customer was told, once each.
    told = sorted(n["type"] for n in front_desk.notifications(customer["id"]))
    assert told == sorted(
        ["appointment_confirmed", "appointment_reminder", "estimate_ready", "vehicle_ready", "invoice_issued"]
    )
    assert len(mail.to(customer["email"])) == 5


def _long_date(day: date) -> str:
    """How the default English templates print a date: Tuesday 17 March 2026."""
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B')} {day.year}"
