"""The API's shapes (marshmallow); the OpenAPI contract is generated from them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from customer_management.domain import (
    CHANNELS,
    CONSENT_CHANNELS,
    CONSENT_SOURCES,
    KINDS,
    MAX_PAYMENT_TERMS_DAYS,
    PURPOSES,
    STATUSES,
)
from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import MULTI_LINE, SINGLE_LINE


class AddressSchema(ma.Schema):
    street = ma.fields.String(allow_none=True, validate=[validate.Length(max=200), SINGLE_LINE])
    postal_code = ma.fields.String(allow_none=True, validate=[validate.Length(max=20), SINGLE_LINE])
    city = ma.fields.String(allow_none=True, validate=[validate.Length(max=100), SINGLE_LINE])
    country = ma.fields.String(
        allow_none=True,
        validate=[validate.Length(equal=2), SINGLE_LINE],
        metadata={"description": "ISO 3166-1 alpha-2, e.g. NL"},
    )


class ConsentStateSchema(ma.Schema):
    service = ma.fields.Boolean(required=True, metadata={"description": "service messages allowed"})
    marketing = ma.fields.Boolean(required=True)


class ConsentsSchema(ma.Schema):
    email = ma.fields.Nested(ConsentStateSchema, required=True)
    sms = ma.fields.Nested(ConsentStateSchema, required=True)


class ConsentCreateSchema(ma.Schema):
    channel = ma.fields.String(required=True, validate=validate.OneOf(CONSENT_CHANNELS))
    purpose = ma.fields.String(required=True, validate=validate.OneOf(PURPOSES))
    granted = ma.fields.Boolean(required=True, metadata={"description": "true grants, false withdraws"})
    source = ma.fields.String(
        required=True,
        validate=validate.OneOf(CONSENT_SOURCES),
        metadata={"description": "how it was given or withdrawn"},
    )
    wording = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2000), MULTI_LINE],
        metadata={"description": "the text the customer was shown"},
    )


class ConsentSchema(ConsentCreateSchema):
    id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True)
    recorded_by = ma.fields.String(
        required=True, metadata={"description": "who recorded it: the account id (a token's subject)"}
    )
    recorded_by_name = ma.fields.String(
        required=True, metadata={"description": "their name when they recorded it"}
    )
    recorded_at = ma.fields.DateTime(required=True)


class ConsentLedgerSchema(ma.Schema):
    current = ma.fields.Nested(ConsentsSchema, required=True)
    history = ma.fields.List(
        ma.fields.Nested(ConsentSchema), required=True, metadata={"description": "newest first"}
    )


def _editable_fields(*, creating: bool) -> dict[str, ma.fields.Field]:
    return {
        "kind": ma.fields.String(validate=validate.OneOf(KINDS), required=creating),
        "name": ma.fields.String(
            validate=[validate.Length(min=1, max=200), SINGLE_LINE],
            metadata={"description": "a person's full name, or the company name of a business"},
            required=creating,
        ),
        "vat_number": ma.fields.String(allow_none=True, validate=[validate.Length(max=20), SINGLE_LINE]),
        "contact_person": ma.fields.String(allow_none=True, validate=[validate.Length(max=200), SINGLE_LINE]),
        "email": ma.fields.String(allow_none=True, validate=[validate.Length(max=320), SINGLE_LINE]),
        "phone": ma.fields.String(
            allow_none=True,
            validate=[validate.Length(max=40), SINGLE_LINE],
            metadata={"description": "any usual spelling; stored and shown as E.164"},
        ),
        "address": ma.fields.Nested(AddressSchema),
        "preferred_channel": ma.fields.String(validate=validate.OneOf(CHANNELS)),
        "preferred_language": ma.fields.String(
            validate=[validate.Length(min=2, max=10), SINGLE_LINE], metadata={"description": "e.g. nl, en-GB"}
        ),
        "notes": ma.fields.String(allow_none=True, validate=[validate.Length(max=5000), MULTI_LINE]),
        "payment_terms_days": ma.fields.Integer(
            validate=validate.Range(min=0, max=MAX_PAYMENT_TERMS_DAYS),
            metadata={
                "description": "days the customer's invoices give to pay; when registered without: "
                "0 for a person (pays on collection), BUSINESS_PAYMENT_TERMS_DAYS (30) for a business"
            },
        ),
    }


CustomerUpdateSchema = ma.Schema.from_dict(_editable_fields(creating=False), name="CustomerUpdateSchema")


# mypy cannot see a base class made from a dict of fields: ignore[misc] on the class line.
class CustomerCreateSchema(ma.Schema.from_dict(_editable_fields(creating=True), name="CustomerCreateBase")):  # type: ignore[misc]
    consents = ma.fields.List(
        ma.fields.Nested(ConsentCreateSchema),
        metadata={"description": "consent given while registering, recorded in the ledger"},
    )


class CustomerSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))
    name = ma.fields.String(required=True)
    vat_number = ma.fields.String(required=True, allow_none=True)
    contact_person = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True, allow_none=True)
    phone = ma.fields.String(required=True, allow_none=True, metadata={"description": "E.164"})
    address = ma.fields.Nested(AddressSchema, required=True)
    preferred_channel = ma.fields.String(required=True, validate=validate.OneOf(CHANNELS))
    preferred_language = ma.fields.String(required=True)
    notes = ma.fields.String(required=True, allow_none=True)
    payment_terms_days = ma.fields.Integer(
        required=True, metadata={"description": "days the customer's invoices give to pay; 0: on collection"}
    )
    consents = ma.fields.Nested(ConsentsSchema, required=True)
    marketing_consent = ma.fields.Boolean(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    erased_at = ma.fields.DateTime(required=True, allow_none=True)
    version = ma.fields.Integer(required=True)


CustomerPageSchema = page_schema(CustomerSchema)


class CustomerQueryArgsSchema(PageArgsSchema):
    q = ma.fields.String(
        validate=[validate.Length(min=3, max=100), SINGLE_LINE],
        metadata={
            "description": "fragment of name, email, phone, contact person or VAT number (3+ characters;"
            " a phone number in any spelling). Every customer containing it is found, best first: q is"
            " their whole email address or phone number; a word of their name starts with q (by that"
            " part of the name); their email address starts with q (by address); q is anywhere else"
            " (oldest first). Pages continue in that order."
        },
    )
    status = ma.fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    kind = ma.fields.String(validate=validate.OneOf(KINDS))
    email = ma.fields.String(validate=[validate.Length(max=320), SINGLE_LINE])
    phone = ma.fields.String(validate=[validate.Length(max=40), SINGLE_LINE])
    preferred_channel = ma.fields.String(validate=validate.OneOf(CHANNELS))
