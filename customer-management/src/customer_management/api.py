"""HTTP layer: parse, one service call, serialise. Rules live in service/domain."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from customer_management.models import db
from customer_management.schemas import (
    ConsentCreateSchema,
    ConsentLedgerSchema,
    ConsentSchema,
    CustomerCreateSchema,
    CustomerPageSchema,
    CustomerQueryArgsSchema,
    CustomerSchema,
    CustomerUpdateSchema,
)
from customer_management.service import customers
from service_kit.auth import current_actor
from service_kit.blueprint import ServiceBlueprint
from service_kit.etag import etag_header, if_match_versions

READERS = ("admin", "advisor", "technician", "accountant", "service")
WRITERS = ("admin", "advisor")

blp = ServiceBlueprint(
    "customers", __name__, url_prefix="/api/v1/customers", description="Customers and their consent"
)


def _region() -> str:
    return current_app.config["DEFAULT_PHONE_REGION"]


@blp.route("")
class Customers(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(CustomerQueryArgsSchema, location="query")
    @blp.response(200, CustomerPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List customers, oldest first; `q` searches them, best matches first"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        with db.engine.connect() as connection:
            return customers.list_customers(
                connection=connection,
                filters=customers.CustomerFilters(**args),
                limit=limit,
                cursor=cursor,
                default_region=_region(),
            )

    @blp.auth(*WRITERS)
    @blp.idempotent
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a customer"""
        customer = customers.register_customer(
            session=db.session(),
            data=data,
            recorded_by=current_actor(),
            default_region=_region(),
            business_terms_days=current_app.config["BUSINESS_PAYMENT_TERMS_DAYS"],
        )
        return customer, {
            "Location": url_for("customers.Customer", customer_id=customer.id),
            **etag_header(customer.version),
        }


@blp.route("/<uuid:customer_id>")
class Customer(MethodView):
    @blp.auth(*READERS)
    @blp.response(200, CustomerSchema)
    def get(self, customer_id: uuid.UUID) -> Any:
        """Get a customer (an erased one answers with status `erased`)"""
        with db.engine.connect() as connection:
            customer, version = customers.read_customer(connection=connection, customer_id=customer_id)
        return customer, etag_header(version)

    @blp.auth(*WRITERS)
    @blp.transactional
    @blp.if_match
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    def patch(self, changes: dict[str, Any], customer_id: uuid.UUID) -> Any:
        """Change some of a customer's fields; `null` clears an optional one"""
        customer = customers.update_customer(
            session=db.session(),
            customer_id=customer_id,
            changes=changes,
            expected_versions=if_match_versions(),
            default_region=_region(),
        )
        return customer, etag_header(customer.version)

    @blp.auth(*WRITERS)
    @blp.transactional
    @blp.response(204)
    def delete(self, customer_id: uuid.UUID) -> None:
        """Erase a customer (GDPR): personal data is removed, the id stays resolvable"""
        customers.erase_customer(session=db.session(), customer_id=customer_id)


@blp.route("/<uuid:customer_id>/consents")
class Consents(MethodView):
    @blp.auth(*READERS)
    @blp.response(200, ConsentLedgerSchema)
    def get(self, customer_id: uuid.UUID) -> Any:
        """Current consent per channel and purpose, and the ledger behind it"""
        return customers.consent_ledger(session=db.session(), customer_id=customer_id)

    @blp.auth(*WRITERS, "service")
    @blp.idempotent
    @blp.arguments(ConsentCreateSchema)
    @blp.response(201, ConsentSchema)
    def post(self, data: dict[str, Any], customer_id: uuid.UUID) -> Any:
        """Record a grant or withdrawal of consent (e.g. an SMS STOP)"""
        record = customers.record_consent(
            session=db.session(),
            customer_id=customer_id,
            data=data,
            recorded_by=current_actor(),
        )
        return record, {"Location": url_for("customers.Consents", customer_id=customer_id)}
