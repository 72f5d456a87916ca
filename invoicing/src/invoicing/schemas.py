"""The API's shapes (marshmallow); the OpenAPI contract is generated from them.
Amounts are integers in minor units of the document's ``currency``; percentages and
VAT rates are decimal strings with two places ("21.00"). The schemas only dump: what
depends on the day or on configuration (an invoice's shown status, the PDF links) the
service works out (``service/read_models.py``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import validate

from invoicing import domain
from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import DecimalString, UtcDateTime

MONEY = {"description": "minor units (cents)"}


def _percent_field(**kwargs: Any) -> DecimalString:
    return DecimalString(
        minimum=Decimal(0),
        maximum=Decimal(100),
        example="5.00",
        metadata={"description": "percent"},
        **kwargs,
    )


def _decimal_out(example: str = "21.00", **kwargs: Any) -> DecimalString:
    """A rate or percent in an answer: a string with two decimals ("21.00")."""
    return DecimalString(example=example, **kwargs)


# -------------------------------------------------------------------------------- input


class DiscountSchema(ma.Schema):
    percent = _percent_field()
    amount = ma.fields.Integer(validate=validate.Range(min=0), metadata=MONEY)

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if ("percent" in data) == ("amount" in data):
            raise ma.ValidationError("give either percent or amount", "_schema")


class LineDiscountSchema(DiscountSchema):
    job_line_id = ma.fields.UUID(required=True, metadata={"description": "a line of the job"})


class InvoiceCreateSchema(ma.Schema):
    job_id = ma.fields.UUID(required=True, metadata={"description": "a completed maintenance job"})
    discount = ma.fields.Nested(
        DiscountSchema, metadata={"description": "off the whole invoice, spread over its lines"}
    )
    line_discounts = ma.fields.List(ma.fields.Nested(LineDiscountSchema), validate=validate.Length(max=500))
    payment_terms_days = ma.fields.Integer(
        validate=validate.Range(min=0, max=365),
        metadata={
            "description": "default: the customer's payment terms (customer-management), "
            "else PAYMENT_TERMS_DAYS (14)"
        },
    )


class SendSchema(ma.Schema):
    channel = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(["email", "sms"]),
        metadata={
            "description": "default: email when the customer has an address, else their preferred channel"
        },
    )


class PaymentCreateSchema(ma.Schema):
    amount = ma.fields.Integer(
        required=True, validate=validate.Range(min=1, max=2_000_000_000), metadata=MONEY
    )
    method = ma.fields.String(
        required=True,
        validate=validate.OneOf(domain.PAYMENT_METHODS),
        metadata={
            "description": "online only for a refund given back through the payment provider: "
            "online payments come from the customer portal (422 here)"
        },
    )
    paid_at = UtcDateTime(metadata={"description": "default: now"})
    reference = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    kind = ma.fields.String(
        load_default=domain.PAYMENT,
        validate=validate.OneOf(domain.PAYMENT_KINDS),
        metadata={"description": "refund: money given back after a credit note on a paid invoice"},
    )


class CreditLineCreateSchema(ma.Schema):
    invoice_line_id = ma.fields.UUID(required=True)
    quantity = DecimalString(
        minimum=Decimal(0),
        exclusive_minimum=True,
        metadata={"description": "credit this much of the line's quantity (hours for labour)"},
    )
    amount = ma.fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "credit this net amount (minor units)"}
    )

    @ma.validates_schema
    def _not_both(self, data: dict[str, Any], **_: Any) -> None:
        if "quantity" in data and "amount" in data:
            raise ma.ValidationError("give quantity or amount, not both", "_schema")


class CreditNoteCreateSchema(ma.Schema):
    invoice_id = ma.fields.UUID(required=True)
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    lines = ma.fields.List(
        ma.fields.Nested(CreditLineCreateSchema),
        validate=validate.Length(min=1, max=500),
        metadata={
            "description": "what to credit; absent: everything not yet credited (a full credit note). "
            "A line without quantity or amount is credited whole."
        },
    )

    @ma.validates("reason")
    def _reason_not_blank(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


class _DateRangeArgs(PageArgsSchema):
    issued_from = ma.fields.Date(metadata={"description": "issue date on or after"})
    issued_to = ma.fields.Date(metadata={"description": "issue date on or before"})

    @ma.validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("issued_from") and data.get("issued_to") and data["issued_from"] > data["issued_to"]:
            raise ma.ValidationError("must not be after issued_to", "issued_from")


class InvoiceQueryArgsSchema(_DateRangeArgs):
    customer_id = ma.fields.UUID()
    job_id = ma.fields.UUID()
    status = ma.fields.String(
        validate=validate.OneOf(domain.STATUSES),
        metadata={"description": "as shown: overdue is an open invoice past its due date"},
    )
    overdue = ma.fields.Boolean()


class CreditNoteQueryArgsSchema(_DateRangeArgs):
    invoice_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()


class ReceivablesQueryArgsSchema(PageArgsSchema):
    customer_id = ma.fields.UUID()


# ------------------------------------------------------------------------------- output


class AddressSchema(ma.Schema):
    street = ma.fields.String(required=True, allow_none=True)
    postal_code = ma.fields.String(required=True, allow_none=True)
    city = ma.fields.String(required=True, allow_none=True)
    country = ma.fields.String(required=True, allow_none=True)


class BilledCustomerSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    vat_number = ma.fields.String(required=True, allow_none=True)
    contact_person = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True, allow_none=True)
    phone = ma.fields.String(required=True, allow_none=True)
    address = ma.fields.Nested(AddressSchema, required=True)
    language = ma.fields.String(required=True)


class BilledVehicleSchema(ma.Schema):
    id = ma.fields.UUID(required=True, allow_none=True)
    plate = ma.fields.String(required=True, allow_none=True)
    description = ma.fields.String(required=True, allow_none=True, metadata={"description": "make and model"})
    odometer = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "at intake"})
    odometer_unit = ma.fields.String(required=True, allow_none=True)


class InvoiceLineSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    position = ma.fields.Integer(required=True)
    job_line_id = ma.fields.UUID(required=True, allow_none=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(domain.LINE_KINDS))
    description = ma.fields.String(required=True)
    part_number = ma.fields.String(required=True, allow_none=True)
    quantity = DecimalString(required=True, metadata={"description": "hours for labour"})
    unit_price = ma.fields.Integer(
        required=True, metadata={"description": "minor units; hourly rate for labour"}
    )
    vat_rate = _decimal_out(required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "quantity x unit price"})
    line_discount = ma.fields.Integer(required=True)
    invoice_discount = ma.fields.Integer(
        required=True, metadata={"description": "share of the invoice discount"}
    )
    net = ma.fields.Integer(required=True, metadata={"description": "amount less discounts: what VAT is on"})
    vat = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True)


class VatRowSchema(ma.Schema):
    rate = _decimal_out(required=True)
    net = ma.fields.Integer(required=True)
    vat = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True)


class InvoiceTotalsSchema(ma.Schema):
    subtotal = ma.fields.Integer(required=True, metadata={"description": "sum of the lines' amounts"})
    line_discounts = ma.fields.Integer(required=True)
    invoice_discount = ma.fields.Integer(required=True)
    net = ma.fields.Integer(required=True)
    vat = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True, metadata={"description": "what the invoice asks"})
    credited = ma.fields.Integer(
        required=True, metadata={"description": "taken back by credit notes (gross)"}
    )
    paid = ma.fields.Integer(required=True, metadata={"description": "payments less refunds"})
    outstanding = ma.fields.Integer(required=True, metadata={"description": "still to pay; never below zero"})
    refund_due = ma.fields.Integer(required=True, metadata={"description": "paid beyond what is owed"})


class DiscountOutSchema(ma.Schema):
    percent = _decimal_out("5.00", required=True, allow_none=True)
    amount = ma.fields.Integer(required=True, allow_none=True)


class PaymentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    invoice_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(domain.PAYMENT_KINDS))
    amount = ma.fields.Integer(required=True, metadata=MONEY)
    method = ma.fields.String(required=True, validate=validate.OneOf(domain.PAYMENT_METHODS))
    paid_at = ma.fields.DateTime(required=True)
    reference = ma.fields.String(required=True, allow_none=True)
    recorded_by = ma.fields.String(required=True, metadata={"description": "who recorded it: an account id"})
    recorded_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    recorded_at = ma.fields.DateTime(required=True)
    provider = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "online: the payment provider (mollie)"}
    )
    provider_payment_id = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "online: the payment's id at the provider"}
    )
    provider_method = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "online: how the customer paid at the provider (ideal, creditcard, ...)"},
    )


class PaymentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PaymentSchema), required=True)


class CashUpArgsSchema(ma.Schema):
    # "from" is a Python keyword: the field is date_from, the query parameter "from".
    date_from = ma.fields.Date(required=True, data_key="from", metadata={"description": "the first day"})
    date_to = ma.fields.Date(
        data_key="to", metadata={"description": "the last day, included; default the first (one day)"}
    )


class CashUpPaymentSchema(PaymentSchema):
    invoice_number = ma.fields.String(required=True)


class MethodTotalSchema(ma.Schema):
    method = ma.fields.String(required=True, validate=validate.OneOf(domain.PAYMENT_METHODS))
    count = ma.fields.Integer(required=True, metadata={"description": "payments and refunds"})
    received = ma.fields.Integer(required=True, metadata=MONEY)
    refunded = ma.fields.Integer(required=True, metadata=MONEY)
    net = ma.fields.Integer(required=True, metadata={"description": "received less refunded, minor units"})


class CashUpSchema(ma.Schema):
    date_from = ma.fields.Date(required=True, data_key="from")
    date_to = ma.fields.Date(required=True, data_key="to")
    timezone = ma.fields.String(required=True, metadata={"description": "the garage's days are in this zone"})
    totals = ma.fields.List(
        ma.fields.Nested(MethodTotalSchema),
        required=True,
        metadata={"description": "one per payment method, zero when unused"},
    )
    items = ma.fields.List(
        ma.fields.Nested(CashUpPaymentSchema), required=True, metadata={"description": "oldest first"}
    )


class CreditNoteSummarySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    number = ma.fields.String(required=True)
    issue_date = ma.fields.Date(required=True)
    total_gross = ma.fields.Integer(required=True, metadata={"description": "negative"})


class InvoiceSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    number = ma.fields.String(required=True, metadata={"description": "e.g. 2026-000042; gap-free per year"})
    # status, overdue and pdf_url are worked out by the service (read_models); dump_only
    # keeps them readOnly in the contract, and the enum is metadata as nothing is loaded.
    status = ma.fields.String(required=True, dump_only=True, metadata={"enum": list(domain.STATUSES)})
    overdue = ma.fields.Boolean(required=True, dump_only=True)
    job_id = ma.fields.UUID(required=True)
    customer = ma.fields.Nested(BilledCustomerSchema, required=True)
    vehicle = ma.fields.Nested(BilledVehicleSchema, required=True)
    job_description = ma.fields.String(required=True)
    job_completed_at = ma.fields.DateTime(required=True, allow_none=True)
    currency = ma.fields.String(required=True, metadata={"description": "ISO 4217 of every amount"})
    issue_date = ma.fields.Date(required=True)
    due_date = ma.fields.Date(required=True)
    payment_terms_days = ma.fields.Integer(required=True)
    discount = ma.fields.Nested(
        DiscountOutSchema,
        required=True,
        allow_none=True,
        metadata={"description": "the invoice-level discount"},
    )
    lines = ma.fields.List(ma.fields.Nested(InvoiceLineSchema), required=True)
    vat_breakdown = ma.fields.List(ma.fields.Nested(VatRowSchema), required=True)
    totals = ma.fields.Nested(InvoiceTotalsSchema, required=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema), required=True)
    credit_notes = ma.fields.List(ma.fields.Nested(CreditNoteSummarySchema), required=True)
    pdf_url = ma.fields.String(required=True, dump_only=True)
    issued_at = ma.fields.DateTime(required=True)
    issued_by = ma.fields.String(
        required=True, metadata={"description": "who issued it: an account id, or the service that did"}
    )
    issued_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    sent_at = ma.fields.DateTime(required=True, allow_none=True)
    send_count = ma.fields.Integer(required=True)
    reminders_sent = ma.fields.Integer(required=True)
    last_reminder_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    version = ma.fields.Integer(required=True)


InvoicePageSchema = page_schema(InvoiceSchema)


class CreditNoteLineSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    position = ma.fields.Integer(required=True)
    invoice_line_id = ma.fields.UUID(required=True)
    description = ma.fields.String(required=True)
    quantity = DecimalString(
        required=True, allow_none=True, metadata={"description": "absent when an amount was credited"}
    )
    vat_rate = _decimal_out(required=True)
    net = ma.fields.Integer(required=True, metadata={"description": "negative"})
    vat = ma.fields.Integer(required=True, metadata={"description": "negative"})
    gross = ma.fields.Integer(required=True, metadata={"description": "negative"})


class CreditNoteTotalsSchema(ma.Schema):
    net = ma.fields.Integer(required=True)
    vat = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True)


class CreditNoteSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    number = ma.fields.String(required=True, metadata={"description": "e.g. CN-2026-000007; its own series"})
    invoice_id = ma.fields.UUID(required=True)
    invoice_number = ma.fields.String(required=True)
    customer_id = ma.fields.UUID(required=True)
    currency = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    full = ma.fields.Boolean(required=True, metadata={"description": "credited everything that was left"})
    issue_date = ma.fields.Date(required=True)
    issued_at = ma.fields.DateTime(required=True)
    issued_by = ma.fields.String(
        required=True, metadata={"description": "who issued it: an account id, or the service that did"}
    )
    issued_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    lines = ma.fields.List(ma.fields.Nested(CreditNoteLineSchema), required=True)
    vat_breakdown = ma.fields.List(ma.fields.Nested(VatRowSchema), required=True)
    totals = ma.fields.Nested(CreditNoteTotalsSchema, required=True)
    pdf_url = ma.fields.String(required=True, dump_only=True)


CreditNotePageSchema = page_schema(CreditNoteSchema)


class AgeingSchema(ma.Schema):
    outstanding = ma.fields.Integer(required=True, metadata=MONEY)
    overdue = ma.fields.Integer(required=True, metadata={"description": "the part past its due date"})
    invoices = ma.fields.Integer(required=True, metadata={"description": "open invoices"})
    days_0_30 = ma.fields.Integer(required=True, metadata={"description": "issued 0 to 30 days ago"})
    days_31_60 = ma.fields.Integer(required=True)
    days_61_90 = ma.fields.Integer(required=True)
    days_90_plus = ma.fields.Integer(required=True, metadata={"description": "issued more than 90 days ago"})


class ReceivableSchema(AgeingSchema):
    customer_id = ma.fields.UUID(required=True)
    customer_name = ma.fields.String(required=True, metadata={"description": "as on the latest invoice"})
    currency = ma.fields.String(required=True)


class ReceivableTotalSchema(AgeingSchema):
    currency = ma.fields.String(required=True)


class ReceivablesSchema(ma.Schema):
    as_of = ma.fields.Date(required=True, metadata={"description": "today at the garage"})
    totals = ma.fields.List(ma.fields.Nested(ReceivableTotalSchema), required=True)
    items = ma.fields.List(ma.fields.Nested(ReceivableSchema), required=True)
    next_cursor = ma.fields.String(required=True, allow_none=True)


# ------------------------------------------------------------------ the customer portal


class PortalPaymentCreateSchema(ma.Schema):
    """A payment the provider took through the pay link, as the portal reports it."""

    amount = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2_000_000_000),
        metadata={
            "description": "minor units, what the provider took; recorded even beyond the balance due "
            "(money received: the excess is a refund due)"
        },
    )
    provider = ma.fields.String(required=True, validate=validate.OneOf(domain.PAYMENT_PROVIDERS))
    provider_payment_id = ma.fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=100),
            validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", error="letters, digits, _ . - only"),
        ],
        metadata={"description": "the payment's id at the provider (tr_WDqYK6vllg); recorded once, ever"},
    )
    paid_at = UtcDateTime(required=True, metadata={"description": "when the provider says it was paid"})
    method = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "how the customer paid at the provider: ideal, creditcard, bancontact, ..."},
    )

    @ma.validates("method")
    def _method_not_blank(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


class GarageSchema(ma.Schema):
    name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    email = ma.fields.String(required=True)


class PortalVehicleSchema(ma.Schema):
    plate = ma.fields.String(required=True, allow_none=True)
    description = ma.fields.String(required=True, allow_none=True, metadata={"description": "make and model"})


class PortalLineSchema(ma.Schema):
    description = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(domain.LINE_KINDS))
    quantity = DecimalString(required=True, metadata={"description": "hours for labour"})
    unit_price = ma.fields.Integer(required=True, metadata=MONEY)
    vat_rate = _decimal_out(required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "quantity x unit price"})
    line_discount = ma.fields.Integer(required=True)
    invoice_discount = ma.fields.Integer(required=True)
    net = ma.fields.Integer(required=True)
    vat = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True)


class PortalOnlinePaymentSchema(ma.Schema):
    provider = ma.fields.String(required=True)
    provider_payment_id = ma.fields.String(required=True)
    amount = ma.fields.Integer(required=True, metadata=MONEY)


class PortalInvoiceSchema(ma.Schema):
    """The invoice as its customer sees it through the pay link."""

    number = ma.fields.String(required=True)
    status = ma.fields.String(required=True, dump_only=True, metadata={"enum": list(domain.STATUSES)})
    overdue = ma.fields.Boolean(required=True, dump_only=True)
    currency = ma.fields.String(required=True)
    issue_date = ma.fields.Date(required=True)
    due_date = ma.fields.Date(required=True)
    customer_name = ma.fields.String(required=True)
    language = ma.fields.String(
        required=True, metadata={"description": "the customer's language on the invoice (en, nl, ...)"}
    )
    garage = ma.fields.Nested(GarageSchema, required=True)
    vehicle = ma.fields.Nested(PortalVehicleSchema, required=True)
    lines = ma.fields.List(ma.fields.Nested(PortalLineSchema), required=True)
    vat_breakdown = ma.fields.List(ma.fields.Nested(VatRowSchema), required=True)
    totals = ma.fields.Nested(InvoiceTotalsSchema, required=True)
    paid = ma.fields.Integer(required=True, metadata={"description": "payments less refunds"})
    balance_due = ma.fields.Integer(required=True, metadata={"description": "still to pay; never below zero"})
    refund_due = ma.fields.Integer(required=True, metadata={"description": "paid beyond what is owed"})
    online_payments = ma.fields.List(
        ma.fields.Nested(PortalOnlinePaymentSchema),
        required=True,
        metadata={"description": "the payments taken online that are on the invoice (in `paid`)"},
    )


class PortalInvoiceBalanceSchema(ma.Schema):
    status = ma.fields.String(required=True, dump_only=True, metadata={"enum": list(domain.STATUSES)})
    paid = ma.fields.Integer(required=True)
    balance_due = ma.fields.Integer(required=True, attribute="outstanding")
    refund_due = ma.fields.Integer(required=True)


class PortalPaymentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    amount = ma.fields.Integer(required=True, metadata=MONEY)
    currency = ma.fields.String(required=True)
    provider = ma.fields.String(required=True)
    provider_payment_id = ma.fields.String(required=True)
    method = ma.fields.String(
        required=True, metadata={"description": "how the customer paid at the provider"}
    )
    paid_at = ma.fields.DateTime(required=True)
    recorded_at = ma.fields.DateTime(required=True)
    invoice = ma.fields.Nested(
        PortalInvoiceBalanceSchema, required=True, metadata={"description": "the invoice now"}
    )
