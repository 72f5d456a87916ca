"""Tables of the ``invoicing`` schema (created by migrations, never by create_all).

An issued invoice is a legal document: its number, dates, billing data, lines and
totals never change, and neither do credit notes and payments. Only what follows from
later events — money credited and paid, the status, sending and reminders — is
updated on an invoice. The migration backs this with triggers that refuse any other
change, so not even a bug in this service can rewrite an issued invoice."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from invoicing import domain
from service_kit.clock import utcnow
from service_kit.db import make_database, one_of, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7
from service_kit.links import define_links_table
from service_kit.outbox import define_outbox_table

SCHEMA = "invoicing"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


# portal_links: the pay links this service puts in its messages (service_kit.links).
db = make_database(Model, tables=(define_idempotency_table, define_outbox_table, define_links_table))


class DocumentCounter(Model):
    """The last number given out per series and year. Issuing increments it inside
    the issuing transaction; the row lock that takes serialises issuers, and a
    rolled-back issue rolls the increment back with it: no gap, no duplicate."""

    __tablename__ = "document_counters"
    __table_args__ = (
        PrimaryKeyConstraint("series", "year"),
        CheckConstraint(one_of("series", domain.SERIES), name="series"),
        CheckConstraint("last_number > 0", name="last_number_positive"),
    )

    series: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        CheckConstraint(one_of("status", domain.STORED_STATUSES), name="status"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("total_net >= 0 AND total_vat >= 0", name="totals_not_negative"),
        CheckConstraint(
            "subtotal - line_discounts - invoice_discount = total_net", name="net_is_subtotal_less_discounts"
        ),
        CheckConstraint("total_gross = total_net + total_vat", name="gross_is_net_plus_vat"),
        CheckConstraint("credited_gross = credited_net + credited_vat", name="credited_gross"),
        CheckConstraint(
            "credited_gross >= 0 AND credited_gross <= total_gross", name="credited_within_gross"
        ),
        # Not bounded by the gross: a payment provider's payment is recorded whatever
        # the balance (money received); what is paid beyond what is owed is refund_due.
        CheckConstraint("paid >= 0", name="paid_not_negative"),
        CheckConstraint("odometer_unit IS NULL OR odometer_unit IN ('km', 'mi')", name="odometer_unit"),
        Index("ix_invoices_customer_id_id", "customer_id", "id"),
        Index("ix_invoices_issue_date_id", "issue_date", "id"),
        Index("ix_invoices_status_id", "status", "id"),  # lists by status, newest first
        # Receivables and overdue lists read only the invoices that are still open.
        Index(
            "ix_invoices_open_due_date",
            "due_date",
            postgresql_where=text(f"{one_of('status', domain.OPEN_STATUSES)}"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), default=domain.ISSUED)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_by_name: Mapped[str] = mapped_column(String(200))

    # The customer's billing data as it was at issue.
    customer_kind: Mapped[str] = mapped_column(String(16))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_vat_number: Mapped[str | None] = mapped_column(String(20))
    customer_contact_person: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_phone: Mapped[str | None] = mapped_column(String(20))
    customer_street: Mapped[str | None] = mapped_column(String(200))
    customer_postal_code: Mapped[str | None] = mapped_column(String(20))
    customer_city: Mapped[str | None] = mapped_column(String(100))
    customer_country: Mapped[str | None] = mapped_column(String(2))
    customer_language: Mapped[str] = mapped_column(String(10))

    # The vehicle and the job as they were at issue.
    vehicle_plate: Mapped[str | None] = mapped_column(String(20))
    vehicle_description: Mapped[str | None] = mapped_column(String(200))
    odometer: Mapped[int | None] = mapped_column(Integer)
    odometer_unit: Mapped[str | None] = mapped_column(String(2))
    job_description: Mapped[str] = mapped_column(Text)
    job_completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    discount_amount: Mapped[int | None] = mapped_column(Integer)
    subtotal: Mapped[int] = mapped_column(Integer)
    line_discounts: Mapped[int] = mapped_column(Integer)
    invoice_discount: Mapped[int] = mapped_column(Integer)
    total_net: Mapped[int] = mapped_column(Integer)
    total_vat: Mapped[int] = mapped_column(Integer)
    total_gross: Mapped[int] = mapped_column(Integer)

    # What happened since: credit notes (positive: what they took back), payments.
    credited_net: Mapped[int] = mapped_column(Integer, default=0)
    credited_vat: Mapped[int] = mapped_column(Integer, default=0)
    credited_gross: Mapped[int] = mapped_column(Integer, default=0)
    paid: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    send_count: Mapped[int] = mapped_column(Integer, default=0)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.position", lazy="selectin")
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id", lazy="selectin")
    credit_notes: Mapped[list[CreditNote]] = relationship(
        back_populates="invoice", order_by="CreditNote.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def balance(self) -> domain.Balance:
        return domain.Balance(gross=self.total_gross, credited=self.credited_gross, paid=self.paid)

    @property
    def outstanding(self) -> int:
        return self.balance.outstanding

    @property
    def refund_due(self) -> int:
        return self.balance.refund_due

    @property
    def vat_breakdown(self) -> list[domain.VatRow]:
        return domain.vat_breakdown(self.lines)

    @property
    def discount(self) -> dict[str, object] | None:
        if self.discount_percent is None and self.discount_amount is None:
            return None
        return {"percent": self.discount_percent, "amount": self.discount_amount}

    @property
    def customer(self) -> dict[str, object]:
        return {
            "id": self.customer_id,
            "kind": self.customer_kind,
            "name": self.customer_name,
            "vat_number": self.customer_vat_number,
            "contact_person": self.customer_contact_person,
            "email": self.customer_email,
            "phone": self.customer_phone,
            "address": {
                "street": self.customer_street,
                "postal_code": self.customer_postal_code,
                "city": self.customer_city,
                "country": self.customer_country,
            },
            "language": self.customer_language,
        }

    @property
    def vehicle(self) -> dict[str, object]:
        return {
            "id": self.vehicle_id,
            "plate": self.vehicle_plate,
            "description": self.vehicle_description,
            "odometer": self.odometer,
            "odometer_unit": self.odometer_unit,
        }

    @property
    def totals(self) -> dict[str, int]:
        return {
            "subtotal": self.subtotal,
            "line_discounts": self.line_discounts,
            "invoice_discount": self.invoice_discount,
            "net": self.total_net,
            "vat": self.total_vat,
            "gross": self.total_gross,
            "credited": self.credited_gross,
            "paid": self.paid,
            "outstanding": self.outstanding,
            "refund_due": self.refund_due,
        }


class InvoiceLine(Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint(one_of("kind", domain.LINE_KINDS), name="kind"),
        CheckConstraint("quantity_hundredths > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="vat_rate_percent"),
        CheckConstraint(
            "amount - line_discount - invoice_discount = net", name="net_is_amount_less_discounts"
        ),
        CheckConstraint("net >= 0 AND vat >= 0", name="not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.invoices.id"))
    position: Mapped[int] = mapped_column(Integer)
    job_line_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    part_number: Mapped[str | None] = mapped_column(String(64))
    quantity_hundredths: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount: Mapped[int] = mapped_column(Integer)
    line_discount: Mapped[int] = mapped_column(Integer)
    invoice_discount: Mapped[int] = mapped_column(Integer)
    net: Mapped[int] = mapped_column(Integer)
    vat: Mapped[int] = mapped_column(Integer)

    @property
    def gross(self) -> int:
        return self.net + self.vat

    @property
    def quantity(self) -> Decimal:
        return Decimal(self.quantity_hundredths) / 100


class CreditNote(Model):
    """Takes back all or part of one invoice; amounts are negative."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint("total_net <= 0 AND total_vat <= 0", name="amounts_negative"),
        CheckConstraint("total_gross = total_net + total_vat", name="gross_is_net_plus_vat"),
        Index("ix_credit_notes_invoice_id", "invoice_id"),
        Index("ix_credit_notes_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.invoices.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    full: Mapped[bool] = mapped_column(default=False)
    issue_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_by_name: Mapped[str] = mapped_column(String(200))
    total_net: Mapped[int] = mapped_column(Integer)
    total_vat: Mapped[int] = mapped_column(Integer)
    total_gross: Mapped[int] = mapped_column(Integer)

    invoice: Mapped[Invoice] = relationship(back_populates="credit_notes", lazy="joined")
    lines: Mapped[list[CreditNoteLine]] = relationship(order_by="CreditNoteLine.position", lazy="selectin")

    @property
    def invoice_number(self) -> str:
        return self.invoice.number

    @property
    def vat_breakdown(self) -> list[domain.VatRow]:
        return domain.vat_breakdown(self.lines)

    @property
    def totals(self) -> dict[str, int]:
        return {"net": self.total_net, "vat": self.total_vat, "gross": self.total_gross}


class CreditNoteLine(Model):
    __tablename__ = "credit_note_lines"
    __table_args__ = (
        UniqueConstraint("credit_note_id", "position"),
        CheckConstraint("net <= 0 AND vat <= 0 AND net + vat < 0", name="amounts_negative"),
        CheckConstraint("quantity_hundredths IS NULL OR quantity_hundredths > 0", name="quantity_positive"),
        Index("ix_credit_note_lines_invoice_line_id", "invoice_line_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    credit_note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.credit_notes.id"))
    invoice_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.invoice_lines.id"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity_hundredths: Mapped[int | None] = mapped_column(Integer)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    net: Mapped[int] = mapped_column(Integer)
    vat: Mapped[int] = mapped_column(Integer)

    @property
    def gross(self) -> int:
        return self.net + self.vat

    @property
    def quantity(self) -> Decimal | None:
        return None if self.quantity_hundredths is None else Decimal(self.quantity_hundredths) / 100


class Payment(Model):
    """Money received for an invoice (or, as a refund, given back); never changed.

    A payment a provider took online (the customer portal's pay link) names the
    provider and its payment id, once per provider ever: a second report of the same
    payment finds the first, however the reports race."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("kind", domain.PAYMENT_KINDS), name="kind"),
        CheckConstraint(one_of("method", domain.PAYMENT_METHODS), name="method"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("provider", domain.PAYMENT_PROVIDERS), name="provider"),
        CheckConstraint(
            "(provider IS NULL) = (provider_payment_id IS NULL)", name="provider_names_its_payment"
        ),
        CheckConstraint(
            "provider IS NULL OR (kind = 'payment' AND method = 'online')", name="provider_payment_online"
        ),
        UniqueConstraint("provider", "provider_payment_id"),
        Index("ix_payments_invoice_id", "invoice_id"),
        Index("ix_payments_paid_at", "paid_at"),  # the cash-up reads a period
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.invoices.id"))
    kind: Mapped[str] = mapped_column(String(8), default=domain.PAYMENT)
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Online payments: who took the money, its id there, and how the customer paid there.
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_payment_id: Mapped[str | None] = mapped_column(String(100))
    provider_method: Mapped[str | None] = mapped_column(String(32))
