"""The customer's response schemas, dumped in one pass by the kit (service_kit.dumping,
as every ServiceBlueprint response is), give what marshmallow's own dump gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from customer_management.models import Customer
from customer_management.schemas import CustomerPageSchema, CustomerSchema

from service_kit.dumping import fast_dump
from service_kit.pagination import Page


def test_the_read_schemas_dump_as_marshmallow_dumps_them() -> None:
    customer = Customer(
        id=uuid.uuid4(),
        kind="person",
        name="Anna de Vries",
        email="anna@example.com",
        phone="+31612345678",
        street="Dorpsstraat 1",
        city="Utrecht",
        preferred_channel="email",
        preferred_language="nl",
        payment_terms_days=0,
        consents={
            "email": {"service": True, "marketing": False},
            "sms": {"service": False, "marketing": False},
        },
        status="active",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        updated_at=datetime(2026, 12, 7, 1, tzinfo=UTC),
        version=3,
    )
    fast = fast_dump(CustomerSchema()).dump(customer)
    expected = CustomerSchema().dump(customer)
    assert fast == expected and list(fast) == list(expected)
    assert fast["address"] == {
        "street": "Dorpsstraat 1",
        "postal_code": None,
        "city": "Utrecht",
        "country": None,
    }
    page = Page(items=[customer, customer], next_cursor=None)
    assert fast_dump(CustomerPageSchema()).dump(page) == CustomerPageSchema().dump(page)
