"""Contract fuzzing of the six running services: schemathesis generates requests for
every operation of each service's committed contract (contracts/<service>.yaml) and
sends them over HTTP to the service under gunicorn, with a valid token of a role the
operation allows (admin where it may). No answer may be a 5xx, and every answer must
be what the contract documents (status, content type, headers, body schema).

Random ids only ever reach 404s, so half of the examples put real ids in the path
and in the body (a customer, a vehicle, a booked appointment with its job, lines and
an estimate, an invoice with a credit note, a notification, outbox rows ...), made
through the public APIs before fuzzing starts.

Examples per operation: ``GARAGE_FUZZ_EXAMPLES`` (default 15, the profile in
``make test``; ``make fuzz`` runs a longer one).
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from garage_harness import ALL, ROOT, FrontDesk, Garage, eventually, expect, token_headers, tomorrow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.system
EXAMPLES = int(os.environ.get("GARAGE_FUZZ_EXAMPLES", "15"))
# A schema-valid body can still break a rule the schema cannot express (a vehicle that
# exists, a time on the slot grid, a cursor this API gave out): 404, 409 and 422 are
# the documented answers (docs/decisions.md, "Tests").
BUSINESS_RULE_CHECKS = [positive_data_acceptance]
# Body fields that name another resource, and the path parameter whose real ids fit them.
BODY_IDS = {
    "customer_id": "customer_id",
    "owner_id": "customer_id",
    "new_owner_id": "customer_id",
    "vehicle_id": "vehicle_id",
    "appointment_id": "appointment_id",
    "job_id": "job_id",
    "invoice_id": "invoice_id",
    "bay_id": "bay_id",
    "technician_id": "technician_id",
}


def role_for(operation: Any) -> str:
    roles = operation.definition.raw.get("x-roles") or ["admin"]
    return "admin" if "admin" in roles else roles[0]


@pytest.fixture(scope="module")
def real_ids(garage: Garage, front_desk: FrontDesk) -> dict[str, dict[str, str]]:
    """Per service, path parameter -> a real value, made through the public APIs."""
    customer = front_desk.customer(name="Fuzz Target")
    vehicle = front_desk.vehicle(customer["id"])
    front_desk.configure_workshop()
    bay = front_desk.add_bay("Fuzz lift")
    technician = front_desk.add_technician("Fuzz Tech", ["brakes"])
    day = tomorrow() + timedelta(days=5)

    open_booking = expect(front_desk.book(vehicle["id"], front_desk.free_slot(day, 60)), 201)
    job_id = open_booking["job_id"]
    front_desk.job_action(job_id, "start")
    line = front_desk.add_line(
        job_id, kind="part", description="wipers", part_number="W-1", quantity="1", unit_price=1500
    )
    estimate = expect(
        garage.call(
            "POST",
            "maintenance-job-management",
            f"/api/v1/maintenance-jobs/{job_id}/estimates",
            role="advisor",
            json={"channel": "counter"},
        ),
        201,
    )

    done = expect(front_desk.book(vehicle["id"], front_desk.free_slot(day + timedelta(days=1), 60)), 201)
    front_desk.job_action(done["job_id"], "start")
    billed = front_desk.add_line(
        done["job_id"],
        kind="labour",
        description="brakes",
        hours="1",
        hourly_rate=6000,
        covered_by_booking=True,
    )
    front_desk.add_line(
        done["job_id"],
        kind="part",
        description="pads",
        part_number="P-1",
        quantity="2",
        unit_price=2000,
        covered_by_booking=True,
    )
    front_desk.job_action(done["job_id"], "complete")
    [invoice] = eventually(lambda: front_desk.invoices_of_job(done["job_id"]), what="the invoice")
    credit_note = expect(
        garage.call(
            "POST",
            "invoicing",
            "/api/v1/credit-notes",
            role="accountant",
            idempotency_key=str(uuid.uuid4()),
            json={
                "invoice_id": invoice["id"],
                "reason": "goodwill",
                "lines": [{"invoice_line_id": invoice["lines"][0]["id"], "amount": 1000}],
            },
        ),
        201,
    )
    [notification, *_] = eventually(lambda: front_desk.notifications(customer["id"]), what="a notification")
    assert billed["id"]

    # identity's admin API takes the development token in development (docs/identity.md).
    account = expect(
        garage.call(
            "POST",
            "identity",
            "/api/v1/accounts",
            idempotency_key=str(uuid.uuid4()),
            json={"email": "fuzz.target@garage.example", "name": "Fuzz Target", "roles": ["advisor"]},
        ),
        201,
    )

    def outbox_row(name: str, prefix: str) -> str:
        return eventually(lambda: front_desk.outbox(name, prefix), what=f"{name}'s outbox")[0]["id"]

    return {
        "customer-management": {"customer_id": customer["id"]},
        "vehicle-management": {"vehicle_id": vehicle["id"], "customer_id": customer["id"]},
        "workshop-scheduling": {
            "appointment_id": open_booking["id"],
            "vehicle_id": vehicle["id"],
            "customer_id": customer["id"],
            "bay_id": bay["id"],
            "technician_id": technician["id"],
            "day": day.isoformat(),
            "week": "{}-W{:02d}".format(*day.isocalendar()[:2]),
            "message_id": outbox_row("workshop-scheduling", "/api/v1/workshop"),
        },
        "maintenance-job-management": {
            "job_id": job_id,
            "line_id": line["id"],
            "estimate_id": estimate["id"],
            "appointment_id": open_booking["id"],
            "vehicle_id": vehicle["id"],
            "customer_id": customer["id"],
            "message_id": outbox_row("maintenance-job-management", "/api/v1/maintenance-jobs"),
        },
        "invoicing": {
            "invoice_id": invoice["id"],
            "credit_note_id": credit_note["id"],
            "job_id": done["job_id"],
            "customer_id": customer["id"],
            "message_id": outbox_row("invoicing", "/api/v1/invoices"),
        },
        "notification-management": {
            "notification_id": notification["id"],
            "customer_id": customer["id"],
            "notification_type": "vehicle_ready",
            "language": "en",
        },
        "identity": {"account_id": account["id"]},
    }


def use_real_ids(case: Any, known: dict[str, str]) -> None:
    for name in list(case.path_parameters or {}):
        if name in known:
            case.path_parameters[name] = known[name]
    if isinstance(case.body, dict):
        for field, pool in BODY_IDS.items():
            if field in case.body and pool in known:
                case.body[field] = known[pool]
    if isinstance(case.query, dict):
        for field in list(case.query):
            if field in known:
                case.query[field] = known[field]


def fuzz(operation: Any, base_url: str, known: dict[str, str]) -> None:
    """``EXAMPLES`` generated requests to one operation; raises what schemathesis found."""
    headers = token_headers(role_for(operation), subject="fuzzer")

    @given(case=operation.as_strategy(), real=st.booleans())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def exercise(case: Any, real: bool) -> None:
        if real:
            use_real_ids(case, known)
        case.call_and_validate(
            base_url=base_url, headers=headers, excluded_checks=BUSINESS_RULE_CHECKS, timeout=15
        )

    exercise()


@pytest.mark.parametrize("name", ALL)
def test_the_running_service_keeps_its_contract(
    garage: Garage, real_ids: dict[str, dict[str, str]], name: str
):
    """Every operation, fed generated requests over HTTP: no 5xx, answers as documented."""
    schema = schemathesis.openapi.from_path(ROOT / "contracts" / f"{name}.yaml")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"contracts/{name}.yaml has no operations"
    failures = []
    for operation in operations:
        try:
            fuzz(operation, garage.url(name), real_ids[name])
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a group; report them all
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert not failures, (
        f"{len(failures)} of {len(operations)} operations of {name} broke:\n\n" + "\n\n".join(failures)
    )
