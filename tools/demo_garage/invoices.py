"""A completed job's invoice, and what the customer paid of it."""

from __future__ import annotations

import random
from typing import Any

from .api import Api
from .staff import ACCOUNTANT, ADVISORS, OWNER

# What the completed jobs' customers did about their invoice.
PAYMENTS = [
    "paid",
    "paid",
    "paid",
    "part",
    "unpaid",
    "paid",
    "open",
    "paid",
    "part",
    "unpaid",
    "paid",
    "open",
]


def invoice_and_pay(
    api: Api, customer: dict[str, Any], n: int, job: dict, rng: random.Random
) -> dict[str, Any]:
    """What the garage does with a completed job's invoice and what the customer paid.

    The invoice is due by the customer's payment terms (businesses 30 days, people on
    collection), which invoicing reads from customer-management. The job service also
    asks invoicing for the invoice through its outbox, with the same body: whichever
    comes first makes it, the other gets the same invoice back."""
    business = customer.get("kind") == "business"
    found = api.call("GET", "invoicing", "/api/v1/invoices", OWNER.token, params={"job_id": job["id"]})
    invoices = found.json()["items"]
    if invoices:
        invoice = invoices[0]
    else:
        invoice = api.call(
            "POST",
            "invoicing",
            "/api/v1/invoices",
            OWNER.token,
            body={"job_id": job["id"]},
            key=f"demo-invoice-{job['id']}",
        ).json()
    outcome = "open" if business and n % 3 else PAYMENTS[n % len(PAYMENTS)]
    totals = invoice["totals"]
    if totals["paid"] == 0 and outcome in ("paid", "part"):
        amount = (
            totals["outstanding"]
            if outcome == "paid"
            else max(100, totals["outstanding"] * 2 // 5 // 100 * 100)
        )
        method = rng.choice(["card", "card", "cash"]) if outcome == "paid" else "bank_transfer"
        # Card and cash are taken at the counter when the car is collected; the
        # accountant books what arrives in the bank.
        taker = ADVISORS[n % len(ADVISORS)] if method != "bank_transfer" else ACCOUNTANT
        api.call(
            "POST",
            "invoicing",
            f"/api/v1/invoices/{invoice['id']}/payments",
            taker.token,
            body={"amount": amount, "method": method, "reference": f"demo {invoice['number']}"},
            key=f"demo-payment-{invoice['id']}",
        )
    return invoice
