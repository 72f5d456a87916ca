"""The customer as the API shows it (``CustomerSchema``), rendered by PostgreSQL for
the reads that answer with customers: GET by id, the list and the search
(``service_kit.sql_json``; tests/integration/test_rendering.py holds it to the
schema's dump)."""

from __future__ import annotations

from sqlalchemy import func, literal_column

from customer_management.models import Customer
from customer_management.schemas import CustomerSchema
from service_kit.sql_json import json_object

CUSTOMER_JSON = json_object(
    CustomerSchema(),
    Customer,
    address={
        "street": Customer.street,
        "postal_code": Customer.postal_code,
        "city": Customer.city,
        "country": Customer.country,
    },
    # Customer.marketing_consent: the marketing purpose granted on any channel.
    marketing_consent=func.jsonb_path_exists(
        Customer.consents, literal_column("'$.*.marketing ? (@ == true)'::jsonpath")
    ),
).label("rendered")
