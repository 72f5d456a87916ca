"""HTTP layer: parse, one service call, serialise. Rules live in service/domain.

Issued invoices and credit notes are legal documents: there is no PATCH, PUT or
DELETE for either (a 405 problem). They change only through what follows them —
payments, credit notes, sending — each its own POST."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView

from invoicing import pdf
from invoicing.clients import downstreams
from invoicing.models import db
from invoicing.schemas import (
    CashUpArgsSchema,
    CashUpSchema,
    CreditNoteCreateSchema,
    CreditNotePageSchema,
    CreditNoteQueryArgsSchema,
    CreditNoteSchema,
    InvoiceCreateSchema,
    InvoicePageSchema,
    InvoiceQueryArgsSchema,
    InvoiceSchema,
    PaymentCreateSchema,
    PaymentListSchema,
    PaymentSchema,
    PortalInvoiceSchema,
    PortalPaymentCreateSchema,
    PortalPaymentSchema,
    ReceivablesQueryArgsSchema,
    ReceivablesSchema,
    SendSchema,
)
from invoicing.service import credit_notes, invoices, payments, portal, sending
from invoicing.service.portal import PAYMENT_RECORD_GRACE
from invoicing.service.settings import Settings
from service_kit.auth import current_actor, current_principal
from service_kit.blueprint import ServiceBlueprint
from service_kit.documents.settings import DocumentSettings
from service_kit.etag import etag_header
from service_kit.links import current_link

# Technicians see no money: nothing here is theirs.
READERS = ("admin", "advisor", "accountant")
DOCUMENT_READERS = (*READERS, "service")  # notification-management fetches the PDF
CREATORS = ("admin", "service")  # jobs' outbox invoices each completed job
SENDERS = ("admin", "advisor", "accountant")
BOOKKEEPERS = ("admin", "accountant")  # credit notes, refunds
COUNTER = ("admin", "advisor", "accountant")  # payments: the front desk takes them when a car is collected
PDF_RESPONSE = {"type": "string", "format": "binary"}

blp = ServiceBlueprint(
    "invoices",
    __name__,
    url_prefix="/api/v1/invoices",
    description="Invoices of completed jobs: numbers, VAT, payments, sending, receivables",
)
payments_blp = ServiceBlueprint(
    "payments",
    __name__,
    url_prefix="/api/v1/payments",
    description="Payments and refunds across invoices: the cash-up of a day or a period",
)
portal_blp = ServiceBlueprint(
    "portal",
    __name__,
    url_prefix="/api/v1/portal/invoice",
    description="The customer portal's pay link: one invoice, seen and paid by its customer "
    "(role portal with the link in Portal-Link; docs/customer-portal.md)",
)
credit_notes_blp = ServiceBlueprint(
    "credit_notes",
    __name__,
    url_prefix="/api/v1/credit-notes",
    description="Credit notes: all or part of an invoice taken back, in their own number series",
)


def _settings() -> Settings:
    return Settings.from_config(current_app.config)


def _documents() -> DocumentSettings:
    return DocumentSettings.from_config(current_app.config)


def _invoice_response(invoice: Any, status: int = 200, **headers: str) -> Any:
    return invoice, status, {**etag_header(invoice.version), **headers}


def _pdf(content: bytes, filename: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# ----------------------------------------------------------------------------- invoices


@blp.route("")
class Invoices(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(InvoiceQueryArgsSchema, location="query")
    @blp.response(200, InvoicePageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List invoices, newest first: by customer, job, status (`overdue` too) or issue dates"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return invoices.list_invoices(
            session=db.session(),
            filters=invoices.InvoiceFilters(**args),
            limit=limit,
            cursor=cursor,
            settings=_settings(),
        )

    @blp.auth(*CREATORS)
    @blp.idempotent
    @blp.arguments(InvoiceCreateSchema)
    @blp.response(201, InvoiceSchema)
    @blp.alt_response(200, schema=InvoiceSchema, description="The job has this invoice already")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, data: dict[str, Any]) -> Any:
        """Issue the invoice of a completed job (once per job); it is sent to the customer"""
        clients = downstreams()
        invoice, issued = invoices.issue_invoice(
            session=db.session(),
            jobs=clients.jobs,
            customers=clients.customers,
            vehicles=clients.vehicles,
            data=data,
            settings=_settings(),
            issued_by=current_actor(),
        )
        return _invoice_response(
            invoice, 201 if issued else 200, Location=url_for("invoices.Invoice", invoice_id=invoice.id)
        )


@blp.route("/receivables")
class Receivables(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(ReceivablesQueryArgsSchema, location="query")
    @blp.response(200, ReceivablesSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """What customers owe, per customer, aged 0-30 / 31-60 / 61-90 / 90+ days"""
        return invoices.receivables(
            session=db.session(),
            today=_settings().today(),
            customer_id=args.get("customer_id"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )


@blp.route("/<uuid:invoice_id>")
class Invoice(MethodView):
    @blp.auth(*DOCUMENT_READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(200, InvoiceSchema)
    def get(self, invoice_id: uuid.UUID) -> Any:
        """Get an invoice with its lines, VAT breakdown, totals, payments and credit notes"""
        return _invoice_response(
            invoices.show_invoice(session=db.session(), invoice_id=invoice_id, settings=_settings())
        )


@blp.route("/<uuid:invoice_id>/pdf")
class InvoicePdf(MethodView):
    @blp.auth(*DOCUMENT_READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(
        200,
        PDF_RESPONSE,
        content_type="application/pdf",
        description="The invoice as issued, with the payments received and the balance due so far",
    )
    def get(self, invoice_id: uuid.UUID) -> Any:
        """The invoice as a PDF in the customer's language (what the customer is emailed)"""
        invoice = invoices.get_invoice(session=db.session(), invoice_id=invoice_id)
        return _pdf(pdf.render_invoice(invoice, _documents()), f"invoice-{invoice.number}.pdf")


@blp.route("/<uuid:invoice_id>/send")
class InvoiceSend(MethodView):
    @blp.auth(*SENDERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(SendSchema)
    @blp.response(200, InvoiceSchema)
    def post(self, data: dict[str, Any], invoice_id: uuid.UUID) -> Any:
        """Send the invoice (again) to the customer, with its PDF, through notification-management"""
        invoice = sending.send_invoice(
            session=db.session(), invoice_id=invoice_id, settings=_settings(), channel=data.get("channel")
        )
        return _invoice_response(invoice)


@blp.route("/<uuid:invoice_id>/payments")
class Payments(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(200, PaymentListSchema)
    def get(self, invoice_id: uuid.UUID) -> Any:
        """Payments and refunds of an invoice, oldest first"""
        return {"items": payments.list_payments(session=db.session(), invoice_id=invoice_id)}

    @blp.auth(*COUNTER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data: dict[str, Any], invoice_id: uuid.UUID) -> Any:
        """Record a payment (or a refund); the balance never goes below zero

        Advisors take payments at the counter; a refund needs an accountant or admin (403)."""
        principal = current_principal()
        payment = payments.record_payment(
            session=db.session(),
            invoice_id=invoice_id,
            data=data,
            recorded_by=principal.actor,
            roles=principal.roles,
        )
        return payment, 201, {"Location": url_for("invoices.Payments", invoice_id=invoice_id)}


@blp.route("/<uuid:invoice_id>/payments/<uuid:payment_id>/receipt")
class PaymentReceipt(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(
        200,
        PDF_RESPONSE,
        content_type="application/pdf",
        description="The receipt: what was received (or refunded), how, and the balance just after",
    )
    def get(self, invoice_id: uuid.UUID, payment_id: uuid.UUID) -> Any:
        """A payment's (or refund's) receipt as a PDF in the customer's language"""
        receipt = payments.get_receipt(session=db.session(), invoice_id=invoice_id, payment_id=payment_id)
        return _pdf(
            pdf.render_receipt(receipt, _documents()), f"receipt-{receipt.invoice.number}-{payment_id}.pdf"
        )


# ----------------------------------------------------------------------------- cash-up


@payments_blp.route("")
class CashUp(MethodView):
    @payments_blp.auth(*COUNTER)
    @payments_blp.arguments(CashUpArgsSchema, location="query")
    @payments_blp.response(200, CashUpSchema)
    @payments_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args: dict[str, Any]) -> Any:
        """The cash-up: every payment and refund of a day (or up to 92 days) with totals per method"""
        return payments.cash_up(
            session=db.session(),
            date_from=args["date_from"],
            date_to=args.get("date_to"),
            settings=_settings(),
        )


# ------------------------------------------------------------------------- credit notes


@credit_notes_blp.route("")
class CreditNotes(MethodView):
    @credit_notes_blp.auth(*READERS)
    @credit_notes_blp.arguments(CreditNoteQueryArgsSchema, location="query")
    @credit_notes_blp.response(200, CreditNotePageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List credit notes, newest first: by invoice, customer or issue dates"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return credit_notes.list_credit_notes(
            session=db.session(),
            filters=credit_notes.CreditNoteFilters(**args),
            limit=limit,
            cursor=cursor,
            settings=_settings(),
        )

    @credit_notes_blp.auth(*BOOKKEEPERS)
    @credit_notes_blp.idempotent
    @credit_notes_blp.arguments(CreditNoteCreateSchema)
    @credit_notes_blp.response(201, CreditNoteSchema)
    @credit_notes_blp.alt_response(404, response="NOT_FOUND")
    @credit_notes_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data: dict[str, Any]) -> Any:
        """Credit all of an invoice that is left, or some of its lines, in full or in part"""
        note = credit_notes.issue_credit_note(
            session=db.session(), data=data, settings=_settings(), issued_by=current_actor()
        )
        return note, 201, {"Location": url_for("credit_notes.CreditNote", credit_note_id=note.id)}


@credit_notes_blp.route("/<uuid:credit_note_id>")
class CreditNote(MethodView):
    @credit_notes_blp.auth(*DOCUMENT_READERS)
    @credit_notes_blp.alt_response(404, response="NOT_FOUND")
    @credit_notes_blp.response(200, CreditNoteSchema)
    def get(self, credit_note_id: uuid.UUID) -> Any:
        """Get a credit note"""
        return credit_notes.show_credit_note(
            session=db.session(), credit_note_id=credit_note_id, settings=_settings()
        )


@credit_notes_blp.route("/<uuid:credit_note_id>/pdf")
class CreditNotePdf(MethodView):
    @credit_notes_blp.auth(*DOCUMENT_READERS)
    @credit_notes_blp.alt_response(404, response="NOT_FOUND")
    @credit_notes_blp.response(
        200, PDF_RESPONSE, content_type="application/pdf", description="The credit note"
    )
    def get(self, credit_note_id: uuid.UUID) -> Any:
        """The credit note as a PDF in the customer's language"""
        note = credit_notes.get_credit_note(session=db.session(), credit_note_id=credit_note_id)
        return _pdf(pdf.render_credit_note(note, _documents()), f"credit-note-{note.number}.pdf")


# ------------------------------------------------------------------- the customer portal
# Role portal with an `invoice` link (Portal-Link): the one invoice the link names, never
# an id from the path or the body. (A read runs without a transaction: the link's use
# is counted as the link is checked.)


@portal_blp.route("")
class PortalInvoice(MethodView):
    @portal_blp.link("invoice")
    @portal_blp.response(200, PortalInvoiceSchema)
    def get(self) -> Any:
        """The invoice the pay link names: lines, totals, paid, balance due, status, the garage"""
        return portal.show_invoice(
            db.session(), link=current_link(), settings=_settings(), garage=_documents().letterhead
        )


@portal_blp.route("/pdf")
class PortalInvoicePdf(MethodView):
    @portal_blp.link("invoice")
    @portal_blp.response(
        200,
        PDF_RESPONSE,
        content_type="application/pdf",
        description="The invoice as issued, with the payments received and the balance due so far",
    )
    def get(self) -> Any:
        """The PDF of the invoice the pay link names, in the customer's language"""
        invoice = portal.linked_invoice(db.session(), current_link())
        return _pdf(pdf.render_invoice(invoice, _documents()), f"invoice-{invoice.number}.pdf")


@portal_blp.route("/payments")
class PortalInvoicePayments(MethodView):
    # A payment the customer made while the link was valid may be reported later (a bank
    # transfer through the provider settles in days): its record is taken for a while after.
    @portal_blp.link("invoice", expired_grace=PAYMENT_RECORD_GRACE)
    @portal_blp.idempotent
    @portal_blp.arguments(PortalPaymentCreateSchema)
    @portal_blp.response(201, PortalPaymentSchema)
    @portal_blp.alt_response(
        200, schema=PortalPaymentSchema, description="This provider payment was recorded before: the first"
    )
    @portal_blp.alt_response(409, response="CONFLICT")
    @portal_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, data: dict[str, Any]) -> Any:
        """Record a payment the provider took through the pay link (method online), once per provider payment

        The same provider payment again, with any Idempotency-Key or none, answers the first
        (200); one recorded for another invoice is a 409. A payment beyond the balance due is
        recorded too (money received): the excess is a refund due."""
        principal = current_principal()
        recorded = portal.record_payment(
            db.session(),
            link=current_link(),
            data=data,
            recorded_by=principal.actor,
            roles=principal.roles,
            settings=_settings(),
        )
        return recorded, 201 if recorded.recorded else 200
