"""The portal against the real garage, in this process: identity and the six services on
one fresh PostgreSQL database, as production is wired (service_kit.garage_harness), and
the portal beside them with its own identity (client credentials as ``customer-portal``,
role ``portal``). The services put the portal's address in their messages; a test takes
the link from the message notification-management stored, as the customer would."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask

from service_kit import garage_harness
from service_kit.garage_harness import SMALL_POOL, Api, booked_appointment, env_prefix

PORTAL = "customer-portal"
JOBS = "maintenance-job-management"
SCHEDULING = "workshop-scheduling"
GARAGE_PHONE = "+31 20 123 4567"


class PortalGarage(garage_harness.Garage):
    @property
    def portal_url(self) -> str:
        return self.urls[PORTAL]

    def message_link(self, customer_id: str, notification_type: str) -> str:
        """The portal address in the newest ``notification_type`` message to the customer
        (``link_url``, or ``pay_url`` for an invoice), its outboxes delivered first."""
        self.drain()
        sent = Api(self, "admin")(
            "notification-management",
            "GET",
            "/api/v1/notifications",
            customer_id=customer_id,
            type=notification_type,
        )["items"]
        assert sent, f"no {notification_type} message to {customer_id}"
        data = sent[0]["data"]
        url = str(data.get("link_url") or data.get("pay_url"))
        assert url.startswith(self.portal_url), url
        return url

    def path_of(self, url: str) -> str:
        return urlsplit(url).path

    def portal_token(self) -> str:
        """A token of the portal's own identity, as identity gives it (client credentials)."""
        settings = self.client_settings(PORTAL)
        answer = requests.post(
            settings["SERVICE_TOKEN_URL"],
            data={"grant_type": "client_credentials"},
            auth=(settings["SERVICE_CLIENT_ID"], settings["SERVICE_CLIENT_SECRET"]),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@contextlib.contextmanager
def running_portal(
    database_url: str, portal_settings: dict[str, Any] | None = None
) -> Iterator[PortalGarage]:
    def portal(garage: PortalGarage) -> Flask:
        from customer_portal import create_app
        from customer_portal.config import SERVICES, load_config

        # The portal's settings as its environment would give them, then the test's own.
        environment = {
            "PORTAL_URL": garage.portal_url,
            "IDENTITY_INTERNAL_URL": garage.issuer,
            **{f"{env_prefix(name)}_URL": garage.urls[name] for name in SERVICES},
        }
        overrides = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATE_LIMIT_ENABLED": False,
            **SMALL_POOL,
            **garage.client_settings(PORTAL),
            "GARAGE_NAME": "Garage De Vries",
            "GARAGE_PHONE": GARAGE_PHONE,
        }
        return create_app(load_config({**overrides, **(portal_settings or {})}, env=environment))

    with garage_harness.running_garage(PortalGarage(database_url), {PORTAL: portal}) as garage:
        yield garage


def portal_clients(garage: PortalGarage) -> dict[str, Any]:
    from customer_portal.services import EXTENSION

    clients: dict[str, Any] = garage.apps[PORTAL].extensions[EXTENSION]
    return clients


@contextlib.contextmanager
def calls_held_to_the_contracts(garage: PortalGarage) -> Iterator[list[str]]:
    """Every call the portal makes meanwhile, held to the committed contracts."""
    with garage_harness.calls_held_to_the_contracts(portal_clients(garage), Path(__file__)) as problems:
        yield problems


# --------------------------------------------------------- data made through the APIs


def customer_email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.nl"


def started_job(garage: PortalGarage, name: str) -> dict[str, Any]:
    """A booked appointment whose job a technician has started."""
    appointment = booked_appointment(garage, name, email=customer_email())
    technician = Api(garage, "technician")
    technician(
        JOBS,
        "POST",
        f"/api/v1/maintenance-jobs/{appointment['job_id']}/start",
        {"assigned_technician": technician.subject},
    )
    return appointment


def sent_estimate(garage: PortalGarage, name: str = "Jan de Vries") -> dict[str, Any]:
    """A started job with two lines found while working (pending the customer's approval),
    put before the customer by email: the appointment with ``link`` (the estimate page's
    address from the message) and ``lines``."""
    appointment = started_job(garage, name)
    job_id = appointment["job_id"]
    advisor = Api(garage, "advisor")
    lines = [
        advisor(
            JOBS,
            "POST",
            f"/api/v1/maintenance-jobs/{job_id}/lines",
            {"kind": "part", "description": "Brake pads front", "quantity": "1", "unit_price": 8000},
        ),
        advisor(
            JOBS,
            "POST",
            f"/api/v1/maintenance-jobs/{job_id}/lines",
            {"kind": "labour", "description": "Fit brake pads", "hours": "1.50", "hourly_rate": 6000},
        ),
    ]
    advisor(
        JOBS,
        "POST",
        f"/api/v1/maintenance-jobs/{job_id}/estimates",
        {"channel": "email", "message": "Your front brake pads are worn."},
    )
    link = garage.message_link(appointment["customer"]["id"], "estimate_ready")
    return {**appointment, "lines": lines, "link": link}


def handed_over(garage: PortalGarage, name: str = "Els Bakker") -> dict[str, Any]:
    """A job done and its vehicle collected: the appointment with ``link`` (the feedback
    page's address from the message)."""
    appointment = started_job(garage, name)
    job_id = appointment["job_id"]
    technician = Api(garage, "technician")
    technician(
        JOBS,
        "POST",
        f"/api/v1/maintenance-jobs/{job_id}/lines",
        {
            "kind": "labour",
            "description": "Small service",
            "hours": "1.00",
            "hourly_rate": 6000,
            "covered_by_booking": True,
        },
    )
    technician(JOBS, "POST", f"/api/v1/maintenance-jobs/{job_id}/complete", {})
    Api(garage, "advisor")(JOBS, "POST", f"/api/v1/maintenance-jobs/{job_id}/hand-over")
    link = garage.message_link(appointment["customer"]["id"], "feedback_request")
    return {**appointment, "link": link}


def confirmed_appointment(garage: PortalGarage, name: str = "Piet Smit") -> dict[str, Any]:
    """An appointment booked three days ahead (past the 24 hours within which it can no
    longer be changed online): with ``link`` (the appointment page's address from the
    confirmation message)."""
    appointment = booked_appointment(garage, name, email=customer_email(), days_ahead=3)
    link = garage.message_link(appointment["customer"]["id"], "appointment_confirmed")
    return {**appointment, "link": link}


def booking_invitation(garage: PortalGarage, name: str = "Fatima el Amrani") -> dict[str, Any]:
    """A customer and vehicle invited to book: the appointment they already had, with
    ``link`` (the booking page's address from the invitation)."""
    appointment = booked_appointment(garage, name, email=customer_email())
    Api(garage, "advisor")(
        SCHEDULING, "POST", "/api/v1/booking-invitations", {"vehicle_id": appointment["vehicle"]["id"]}
    )
    link = garage.message_link(appointment["customer"]["id"], "booking_invitation")
    return {**appointment, "link": link}


def issued_invoice(garage: PortalGarage, name: str = "Bram de Jong") -> dict[str, Any]:
    """A job done (invoicing issues and sends its invoice when the job completes): the
    appointment with ``link`` (the invoice page's address from the invoice message) and
    ``visit_link`` (the feedback page's)."""
    visit = handed_over(garage, name)
    link = garage.message_link(visit["customer"]["id"], "invoice_issued")
    return {**visit, "visit_link": visit["link"], "link": link}
