"""What the services answer the portal, as their contracts describe it: the tests' own
data for the fakes (portal_fakes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

TOKEN_PARTS = 3


def token(name: str = "") -> str:
    """Something shaped like a link (the portal passes on only what is shaped like one)."""
    return ".".join(uuid.uuid4().hex + name.replace(" ", "") for _ in range(TOKEN_PARTS))


def estimate(**changes: Any) -> dict[str, Any]:
    lines = [
        {
            "line_id": str(uuid.uuid4()),
            "description": "Brake pads front",
            "kind": "part",
            "part_number": "BP-1",
            "quantity": "1.00",
            "unit_price": 8000,
            "vat_rate": "21.00",
            "net": 8000,
            "vat": 1680,
            "gross": 9680,
            "decision": None,
        },
        {
            "line_id": str(uuid.uuid4()),
            "description": "Fit brake pads",
            "kind": "labour",
            "part_number": None,
            "quantity": "1.50",
            "unit_price": 6000,
            "vat_rate": "21.00",
            "net": 9000,
            "vat": 1890,
            "gross": 10890,
            "decision": None,
        },
    ]
    body: dict[str, Any] = {
        "status": "pending",
        "sent_at": "2026-12-07T09:00:00+00:00",
        "currency": "EUR",
        "message": "Your brakes are worn.",
        "technician_notes": "Front pads at 2 mm; discs fine.",
        "vehicle": {"plate": "12-ABC-3", "make": "Toyota", "model": "Yaris"},
        "lines": lines,
        "total_net": 17000,
        "total_vat": 3570,
        "total_gross": 20570,
        "decided_at": None,
        "signature": None,
        "decided_through": None,
    }
    body.update(changes)
    return body


def decided(estimate_body: dict[str, Any], decisions: dict[str, str], signature: str) -> dict[str, Any]:
    body = {**estimate_body, "status": "decided", "signature": signature, "decided_through": "portal"}
    body["decided_at"] = datetime.now(UTC).isoformat()
    body["lines"] = [{**line, "decision": decisions[line["line_id"]]} for line in estimate_body["lines"]]
    return body


def visit(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vehicle": {"plate": "12-ABC-3", "make": "Toyota", "model": "Yaris"},
        "description": "Small service",
        "completed_at": "2026-12-06T15:00:00+00:00",
        "collected_at": "2026-12-06T17:00:00+00:00",
        "visit_date": "2026-12-06",
        "work": [{"kind": "labour", "description": "Small service"}],
        "technician": "Sanne",
        "feedback": None,
    }
    body.update(changes)
    return body


def appointment(start: datetime | None = None, **changes: Any) -> dict[str, Any]:
    start = start or (datetime.now(UTC) + timedelta(days=5)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    until = start - timedelta(hours=24)
    body: dict[str, Any] = {
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "duration_minutes": 60,
        "status": "booked",
        "time_zone": "Europe/Amsterdam",
        "vehicle": {"plate": "12-ABC-3", "make": "Toyota", "model": "Yaris"},
        "work": "Small service",
        "customer_confirmed_at": None,
        "changeable_until": until.isoformat(),
        "changeable": datetime.now(UTC) < until,
    }
    body.update(changes)
    return body


def invoice(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": "2026-0042",
        "status": "sent",
        "overdue": False,
        "currency": "EUR",
        "issue_date": "2026-12-01",
        "due_date": "2026-12-15",
        "customer_name": "J. de Vries",
        "language": "nl",
        "garage": {"name": "Garage De Vries", "phone": "+31 20 123 4567", "email": "info@example.nl"},
        "vehicle": {"plate": "12-ABC-3", "description": "Toyota Yaris"},
        "lines": [
            {
                "description": "Small service",
                "kind": "labour",
                "quantity": "1.00",
                "unit_price": 10000,
                "vat_rate": "21.00",
                "amount": 10000,
                "line_discount": 0,
                "invoice_discount": 0,
                "net": 10000,
                "vat": 2100,
                "gross": 12100,
            }
        ],
        "vat_breakdown": [{"rate": "21.00", "net": 10000, "vat": 2100, "gross": 12100}],
        "totals": {
            "subtotal": 10000,
            "line_discounts": 0,
            "invoice_discount": 0,
            "net": 10000,
            "vat": 2100,
            "gross": 12100,
            "credited": 0,
            "paid": 0,
            "outstanding": 12100,
            "refund_due": 0,
        },
        "paid": 0,
        "balance_due": 12100,
        "refund_due": 0,
        "online_payments": [],
    }
    body.update(changes)
    return body


def booking(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "bookable": True,
        "booking_horizon_days": 90,
        "link_expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "other_work_duration_minutes": 60,
        "slot_minutes": 30,
        "time_zone": "Europe/Amsterdam",
        "vehicle": {"plate": "12-ABC-3", "make": "Toyota", "model": "Yaris"},
        "work": [
            {"code": "SMALL", "name": "Small service", "duration_minutes": 60},
            {"code": "MOT", "name": "MOT", "duration_minutes": 30},
        ],
        "work_complete": True,
    }
    body.update(changes)
    return body


def free_starts(day: str, *hours: int, minutes: int = 60) -> dict[str, Any]:
    starts = [
        {
            "start": f"{day}T{hour:02d}:00:00+01:00",
            "end": f"{day}T{hour + minutes // 60:02d}:{minutes % 60:02d}:00+01:00",
        }
        for hour in hours
    ]
    return {"date": day, "duration_minutes": minutes, "starts": starts, "time_zone": "Europe/Amsterdam"}
