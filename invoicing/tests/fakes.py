"""The services invoicing talks to, faked at the HTTP boundary on loopback
(``service_kit.fakes``): maintenance-job-management, customer-management and
vehicle-management answering only what their committed contracts allow (every answer
is checked against the contract), and notification-management taking the outbox's
requests. A fake can be stopped (connection refused), slowed past the read timeout or
made to fail, and started again on the same port."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from service_kit.contract_testing import find_contract
from service_kit.contracts import load_contract
from service_kit.fakes import Answer, Received, Receiver, ResourceServer, json_answer

STAMP = "2026-03-02T10:00:00+00:00"


class FakeCustomers(ResourceServer):
    def __init__(self) -> None:
        super().__init__(find_contract("customer-management"), "/api/v1/customers/{customer_id}")

    def add(self, **fields: Any) -> dict[str, Any]:
        address = fields.pop("address", None) or {
            "street": "Oudegracht 1",
            "postal_code": "3511 AA",
            "city": "Utrecht",
            "country": "NL",
        }
        kind = fields.pop("kind", "person")
        body = {
            "id": str(fields.pop("id", uuid.uuid4())),
            "kind": kind,
            "name": "Ann de Vries",
            "vat_number": None,
            "contact_person": None,
            "email": "ann@example.com",
            "phone": "+31612345678",
            "address": address,
            "preferred_channel": "email",
            "preferred_language": "nl",
            "notes": None,
            # customer-management's defaults: a person pays on collection, a business on account.
            "payment_terms_days": 30 if kind == "business" else 0,
            "consents": {
                "email": {"service": True, "marketing": False},
                "sms": {"service": True, "marketing": False},
            },
            "marketing_consent": False,
            "status": "active",
            "created_at": STAMP,
            "updated_at": STAMP,
            "erased_at": None,
            "version": 1,
        }
        body.update(fields)
        return self.put(body)


class FakeVehicles(ResourceServer):
    def __init__(self) -> None:
        super().__init__(find_contract("vehicle-management"), "/api/v1/vehicles/{vehicle_id}")

    def add(self, owner_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "id": str(fields.pop("id", uuid.uuid4())),
            "owner_id": owner_id,
            "plate": "AB-123-C",
            "plate_normalised": "AB123C",
            "plate_display": "AB-123-C",
            "country": "NL",
            "vin": None,
            "make": "Volkswagen",
            "model": "Golf",
            "year": 2019,
            "fuel_type": "petrol",
            "colour": None,
            "odometer": None,
            "status": "active",
            "warnings": [],
            "created_at": STAMP,
            "updated_at": STAMP,
            "deregistered_at": None,
            "version": 1,
        }
        body |= {name: None for name in _unknown_vehicle_facts() if name not in body}
        body.update(fields)
        return self.put(body)


def _unknown_vehicle_facts() -> list[str]:
    """The vehicle's nullable facts the contract requires that invoicing does not use
    (issue 19's first_admission_on ...): unknown here, as the contract allows."""
    schema = load_contract(find_contract("vehicle-management"))["components"]["schemas"]["Vehicle"]
    return [name for name in schema["required"] if schema["properties"][name].get("nullable")]


def labour(hours_hundredths: int = 150, rate: int = 6000, vat: str = "21.00", **more: Any) -> dict[str, Any]:
    return {
        "kind": "labour",
        "description": more.pop("description", "labour"),
        "part_number": None,
        "quantity_hundredths": hours_hundredths,
        "unit_price": rate,
        "vat_rate": vat,
        **more,
    }


def part(
    quantity_hundredths: int = 100, price: int = 1000, vat: str = "21.00", **more: Any
) -> dict[str, Any]:
    return {
        "kind": "part",
        "description": more.pop("description", "oil filter"),
        "part_number": more.pop("part_number", "OF-123"),
        "quantity_hundredths": quantity_hundredths,
        "unit_price": price,
        "vat_rate": vat,
        **more,
    }


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


class FakeJobs(ResourceServer):
    def __init__(self) -> None:
        super().__init__(find_contract("maintenance-job-management"), "/api/v1/maintenance-jobs/{job_id}")

    @staticmethod
    def line(spec: dict[str, Any]) -> dict[str, Any]:
        spec = dict(spec)
        approved = spec.pop("approved", True)
        quantity = spec["quantity_hundredths"]
        net = _half_up(quantity * spec["unit_price"], 100)
        labour_line = spec["kind"] == "labour"
        return {
            "id": str(spec.pop("id", uuid.uuid4())),
            "kind": spec["kind"],
            "description": spec["description"],
            "part_number": spec["part_number"],
            "quantity": f"{quantity / 100:.2f}",
            "unit_price": spec["unit_price"],
            "hours": f"{quantity / 100:.2f}" if labour_line else None,
            "hourly_rate": spec["unit_price"] if labour_line else None,
            "vat_rate": spec["vat_rate"],
            "net_amount": net,
            "vat_amount": _half_up(net * int(float(spec["vat_rate"]) * 100), 10_000),
            "approval": "approved" if approved else "declined",
            "approved": approved,
            "approved_net": net if approved else None,
            "needs_reapproval": False,
            "covered_by_booking": True,
            "canned_job_id": None,
            "done": approved,
            "done_at": STAMP if approved else None,
            "created_by": "tech-1",
            "created_by_name": "Anna de Vries",
            "created_at": STAMP,
        }

    def add(
        self,
        *,
        customer_id: str,
        vehicle_id: str,
        lines: list[dict[str, Any]] | None = None,
        status: str = "completed",
        **fields: Any,
    ) -> dict[str, Any]:
        job_lines = [self.line(spec) for spec in (lines if lines is not None else [labour(), part()])]
        billable = [line for line in job_lines if line["approved"]]
        billable_net = sum(line["net_amount"] for line in billable)
        billable_vat = sum(line["vat_amount"] for line in billable)
        completed = status == "completed"
        body = {
            "id": str(fields.pop("id", uuid.uuid4())),
            "appointment_id": str(uuid.uuid4()),
            "vehicle_id": vehicle_id,
            "customer_id": customer_id,
            "planned_start": "2026-03-02T08:00:00+00:00",
            "planned_end": "2026-03-02T10:00:00+00:00",
            "description": "annual service",
            "status": status,
            "hold_kind": None,
            "hold_reason": None,
            "cancel_reason": None,
            "cancelled_at": None,
            "assigned_technician": "tech-1",
            "actual_start": "2026-03-02T08:05:00+00:00" if status != "scheduled" else None,
            "actual_end": "2026-03-02T09:50:00+00:00" if completed else None,
            "completed_at": "2026-03-02T09:50:00+00:00" if completed else None,
            "odometer_in": 123456,
            "odometer_unit": "km",
            "technician_notes": None,
            "currency": "EUR",
            "lines": job_lines,
            "totals": {
                "approved_net": billable_net,
                "billable_net": billable_net,
                "billable_vat": billable_vat,
                "billable_gross": billable_net + billable_vat,
                "pending_net": 0,
                "declined_net": sum(line["net_amount"] for line in job_lines if not line["approved"]),
            },
            "progress": {"done": len(billable), "total": len(billable)},
            "time": {
                "clocked_seconds": 0,
                "clocked_hours": "0.00",
                "billed_labour_hours": "{:.2f}".format(
                    sum(Decimal(line["quantity"]) for line in billable if line["kind"] == "labour")
                ),
                "clocked_in": [],
            },
            "created_at": STAMP,
            "updated_at": STAMP,
            "version": 3,
        }
        body.update(fields)
        return self.put(body)


class NotificationReceiver(Receiver):
    """notification-management taking requests (202), or failing with ``default`` (or
    the ``statuses`` queued) set to an error."""

    def accept(self, request: Received, status: int) -> Answer:
        sent = request.json or {}
        body = {"id": str(uuid.uuid4()), "customer_id": sent.get("customer_id"), "type": sent.get("type")}
        return json_answer(status, {**body, "status": "pending"})
