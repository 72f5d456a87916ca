"""The customer as the API shows it (``CustomerSchema``), rendered by PostgreSQL for
the reads that answer with customers: GET by id, the list and the search
(``service_kit.sql_json``; tests/integration/test_rendering.py holds it to the
schema's dump).

All but the times and the version are rendered when a customer is written, into the
column ``rendered_head`` (a trigger, migration 0006: ``HEAD_MEMBERS`` with the row's
columns), so a read renders only those: rendering a page of 50 had been most of a name
search's time in PostgreSQL (docs/performance.md). The times stay rendered on reading,
in the session's time zone, as the schema's dump has them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal_column

from customer_management.models import Customer
from customer_management.schemas import CustomerSchema
from service_kit.sql_json import json_members, json_object

# The schema's fields before its times (id ... status): what rendered_head holds.
_FIELDS = list(CustomerSchema().dump_fields)
HEAD = tuple(_FIELDS[: _FIELDS.index("created_at")])
_SOURCES: dict[str, Any] = {
    "address": {
        "street": Customer.street,
        "postal_code": Customer.postal_code,
        "city": Customer.city,
        "country": Customer.country,
    },
    # Customer.marketing_consent: the marketing purpose granted on any channel.
    "marketing_consent": func.jsonb_path_exists(
        Customer.consents, literal_column("'$.*.marketing ? (@ == true)'::jsonpath")
    ),
}

HEAD_MEMBERS = json_members(CustomerSchema(), Customer, only=HEAD, **_SOURCES)
CUSTOMER_JSON = json_object(
    CustomerSchema(), Customer, stored=(Customer.rendered_head.expression, HEAD), **_SOURCES
).label("rendered")


def head_members_of_new_row() -> str:
    """``HEAD_MEMBERS`` as the trigger computes it, of the row being written (``NEW``)."""
    return str(HEAD_MEMBERS).replace("customers.customers.", "NEW.")
