"""The work itself: the week's first jobs moved on, from whatever state they are in."""

from __future__ import annotations

import random
import threading
from typing import Any

from .api import Api
from .appointments import Booking
from .invoices import invoice_and_pay
from .staff import OWNER, Staff, advisor
from .work_catalogue import EXTRA_WORK, line_body

# Of the week's first appointments, in order of start: what has happened to them.
WORKED = ["completed"] * 24 + ["in_progress"] * 5 + ["on_hold_parts"] * 2 + ["on_hold_approval"] * 2
CANCELLED = 4  # customers who called off, later in the week


def choose_targets(bookings: list[Booking]) -> None:
    for booking, target in zip(bookings, WORKED, strict=False):
        booking.target = target
    later = bookings[len(WORKED) :]
    for booking in random.Random(len(bookings)).sample(later, min(CANCELLED, len(later))):
        booking.target = "cancelled"


class Garage:
    """Moves one booking's job on to its target, from whatever state it is in."""

    def __init__(
        self, api: Api, technicians: dict[str, Staff], customers: dict[str, dict], canned_jobs: dict[str, str]
    ) -> None:
        self.api = api
        self.canned_jobs = canned_jobs  # id by code
        self.technicians = technicians
        self.customers = customers
        self.invoices: list[dict] = []
        self.lock = threading.Lock()

    def job(self, job_id: str) -> dict[str, Any]:
        return self.api.call(
            "GET", "maintenance-job-management", f"/api/v1/maintenance-jobs/{job_id}", OWNER.token
        ).json()

    def jobs_call(self, token: str, job_id: str, verb: str, body: Any = None, key: str | None = None) -> Any:
        path = f"/api/v1/maintenance-jobs/{job_id}/{verb}"
        return self.api.call("POST", "maintenance-job-management", path, token, body=body, key=key).json()

    def appointment_call(self, token: str, appointment: dict[str, Any], verb: str, body: Any = None) -> None:
        path = f"/api/v1/appointments/{appointment['id']}/{verb}"
        self.api.call("POST", "workshop-scheduling", path, token, body=body, accept=(409,))

    def work(self, item: tuple[int, Booking]) -> None:
        n, booking = item
        appointment, target, rng = booking.appointment, booking.target, booking.rng
        if target == "scheduled" or not appointment.get("job_id"):
            return
        desk = advisor(n)
        job = self.job(appointment["job_id"])
        if target == "cancelled":
            if job["status"] == "scheduled":
                reason = rng.choice(
                    ["customer sold the car", "customer is abroad that week", "will come in January"]
                )
                self.appointment_call(desk, appointment, "cancel", {"reason": reason})
            return
        technician = self.technicians.get(booking.bay) or self.technicians["Lift 1"]
        tech = technician.token
        if job["status"] == "scheduled":
            if appointment["status"] == "booked":
                self.appointment_call(desk, appointment, "check-in")
            odometer = 8_000 + rng.randrange(12_000) * max(1, 2026 - (booking.vehicle.get("year") or 2020))
            job = self.jobs_call(tech, job["id"], "start", {"odometer_in": odometer, "odometer_unit": "km"})
            self.api.call(
                "POST",
                "vehicle-management",
                f"/api/v1/vehicles/{booking.vehicle['id']}/odometer-readings",
                tech,
                body={"value": odometer, "unit": "km", "source": "workshop"},
                key=f"demo-odometer-{job['id']}",
            )
            if target == "in_progress":  # at it now; a technician's clock runs on one job at a time
                path = f"/api/v1/maintenance-jobs/{job['id']}/clock-in"
                self.api.call("POST", "maintenance-job-management", path, tech, body={}, accept=(409,))
        if not job["lines"] and job["status"] in ("in_progress", "on_hold"):
            # The booked work is a canned job: its lines at today's prices, in one call.
            body = {"canned_job_id": self.canned_jobs[booking.work.code], "covered_by_booking": True}
            self.jobs_call(tech, job["id"], "canned-jobs", body, key=f"demo-canned-{job['id']}")
            job = self.job(job["id"])
        wants_extra = target == "on_hold_approval" or (target == "completed" and rng.random() < 0.35)
        if wants_extra and job["status"] != "completed":
            job = self.offer_extra_work(n, tech, desk, job, email=target == "on_hold_approval")
            if target == "on_hold_approval":
                if job["status"] == "in_progress":
                    reason = "waiting for the customer's approval of the estimate sent by email"
                    self.jobs_call(tech, job["id"], "hold", {"reason": reason})
                return
            self.decide(desk, job, booking, approve=rng.random() < 0.7)
            job = self.job(job["id"])
        if target == "on_hold_parts":
            if job["status"] == "in_progress":
                parts = [line[1].lower() for line in booking.work.lines if line[0] == "part"]
                part = rng.choice(parts or ["a replacement sensor"])
                self.jobs_call(
                    tech, job["id"], "hold", {"reason": f"waiting for parts: {part}, expected tomorrow"}
                )
            return
        if target == "in_progress":
            for line in job["lines"][: len(job["lines"]) // 2]:
                self.mark_done(tech, job, line)
            return
        if target == "completed" and job["status"] == "in_progress":
            for line in job["lines"]:
                if line["approval"] == "approved":
                    self.mark_done(tech, job, line)
            notes = rng.choice(
                [
                    "All done; tyre tread front 4 mm.",
                    "Done. Advised new wiper blades at the next visit.",
                    "Work done as booked, test drive OK.",
                    "Done; small oil leak at the sump gasket, keep an eye on it.",
                ]
            )
            job = self.jobs_call(tech, job["id"], "complete", {"technician_notes": notes})
            self.appointment_call(tech, appointment, "complete")
        if job["status"] == "completed":
            customer = self.customers.get(job["customer_id"], {})
            invoice = invoice_and_pay(self.api, customer, n, job, rng)
            with self.lock:
                self.invoices.append(invoice)

    def open_estimates(self, job: dict) -> list[dict]:
        path = f"/api/v1/maintenance-jobs/{job['id']}/estimates"
        return [
            e for e in self.api.all("maintenance-job-management", path, OWNER.token) if e["status"] == "sent"
        ]

    def offer_extra_work(self, n: int, tech: str, desk: str, job: dict, *, email: bool) -> dict:
        """The technician finds more to do; the front desk puts it before the customer."""
        extra = EXTRA_WORK[n % len(EXTRA_WORK)]
        if extra[0][1] not in {line["description"] for line in job["lines"]}:
            for number, line in enumerate(extra):
                key = f"demo-extra-{job['id']}-{number}"
                self.jobs_call(tech, job["id"], "lines", line_body(line, covered=False), key=key)
            job = self.job(job["id"])
        if any(line["approval"] == "pending" for line in job["lines"]) and not self.open_estimates(job):
            channel = "email" if email else self.rng_choice(n, ["phone", "counter"])
            message = "While servicing your car we found more that needs doing; please let us know."
            self.jobs_call(desk, job["id"], "estimates", {"channel": channel, "message": message})
        return job

    @staticmethod
    def rng_choice(n: int, options: list[str]) -> str:
        return options[n % len(options)]

    def decide(self, desk: str, job: dict, booking: Booking, *, approve: bool) -> None:
        customer = self.customers.get(booking.vehicle["owner_id"], {})
        for estimate in self.open_estimates(job):
            decisions = [
                {"line_id": line["line_id"], "approved": approve} for line in estimate["snapshot"]["lines"]
            ]
            self.jobs_call(
                desk,
                job["id"],
                f"estimates/{estimate['id']}/decision",
                {
                    "channel": "phone",
                    "decided_by": customer.get("contact_person") or customer.get("name") or "the customer",
                    "lines": decisions,
                    "note": "approved by phone" if approve else "declined for now; next visit",
                },
                key=f"demo-decision-{estimate['id']}",
            )

    def mark_done(self, tech: str, job: dict, line: dict) -> None:
        if line["done"] or line["approval"] != "approved":
            return
        path = f"/api/v1/maintenance-jobs/{job['id']}/lines/{line['id']}"
        self.api.call("PATCH", "maintenance-job-management", path, tech, body={"done": True})
