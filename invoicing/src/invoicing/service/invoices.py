"""Invoicing use cases. Each takes its dependencies as keyword arguments, flushes but
never commits (the HTTP layer makes one request one transaction), and knows no HTTP.

Issuing reads the job, the customer and the vehicle over HTTP *before* it takes a
number: a dependency that fails ends the request with a 503 and nothing written.
The number comes from a counter row incremented inside the issuing transaction, so
it commits with the invoice or not at all. Every later change to an invoice (a
payment, a credit note, sending) first locks its row, so concurrent ones run one
after the other against the balance the previous one left."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, not_, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import Session

from invoicing import domain
from invoicing.clients import notification_management
from invoicing.clients.customer_management import CustomerDirectory
from invoicing.clients.maintenance_jobs import JobDirectory
from invoicing.clients.vehicle_management import VehicleDirectory
from invoicing.models import (
    CreditNote,
    CreditNoteLine,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    Payment,
    utcnow,
)
from service_kit.outbox import enqueue
from service_kit.pagination import Page, decode_cursor, encode_cursor, keyset_page

COMPLETED = "completed"  # the job status that may be invoiced


@dataclass(frozen=True)
class Settings:
    payment_terms_days: int = 14
    timezone: str = "Europe/Amsterdam"
    base_url: str = "http://127.0.0.1:8005"
    reminder_interval_days: int = 7
    reminder_max: int = 3

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            payment_terms_days=config["PAYMENT_TERMS_DAYS"],
            timezone=config["GARAGE_TIMEZONE"],
            base_url=config["INVOICING_URL"],
            reminder_interval_days=config["PAYMENT_REMINDER_INTERVAL_DAYS"],
            reminder_max=config["PAYMENT_REMINDER_MAX"],
        )

    def today(self, now: datetime | None = None) -> date:
        """The date at the garage: what an invoice issued now is dated."""
        return (now or utcnow()).astimezone(ZoneInfo(self.timezone)).date()

    def invoice_pdf_url(self, invoice_id: uuid.UUID) -> str:
        return f"{self.base_url}/api/v1/invoices/{invoice_id}/pdf"

    def credit_note_pdf_url(self, credit_note_id: uuid.UUID) -> str:
        return f"{self.base_url}/api/v1/credit-notes/{credit_note_id}/pdf"


# ------------------------------------------------------------------------------ helpers


def next_number(session: Session, *, series: str, year: int) -> int:
    """The next number of a series in a year, taken inside the caller's transaction.

    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` creates or increments the
    counter row and keeps it locked until the transaction ends: a concurrent issuer
    waits, then continues from the committed value — or from the old one when this
    transaction rolls back. No gap, no duplicate, and strictly increasing in commit
    order."""
    table = DocumentCounter.__table__
    stmt = (
        insert(table)
        .values(series=series, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.series, table.c.year], set_={"last_number": table.c.last_number + 1}
        )
        .returning(table.c.last_number)
    )
    return session.execute(stmt).scalar_one()


def take_number(session: Session, *, series: str, settings: Settings) -> tuple[int, int, datetime]:
    """(year, number, moment of issue) for a new document of ``series``.

    The moment is read *after* the counter is held, so documents are dated in the
    order of their numbers. Should the year turn while waiting for the counter, the
    number taken in the old year is given back (savepoint) and one of the new year's
    taken instead."""
    while True:
        year = settings.today().year
        savepoint = session.begin_nested()
        sequence = next_number(session, series=series, year=year)
        now = utcnow()
        if settings.today(now).year == year:
            savepoint.commit()
            return year, sequence, now
        savepoint.rollback()


def _lock_invoice(session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update(of=Invoice)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if invoice is None:
        raise domain.InvoiceNotFound(invoice_id)
    return invoice


def _settle(invoice: Invoice) -> None:
    invoice.status = domain.settled_status(invoice.balance, sent=invoice.sent_at is not None)


def _discount(data: Mapping[str, Any] | None) -> domain.Discount | None:
    if not data:
        return None
    return domain.Discount(percent=data.get("percent"), amount=data.get("amount"))


# ----------------------------------------------------------------------------- issuing


def issue_invoice(
    *,
    session: Session,
    jobs: JobDirectory,
    customers: CustomerDirectory,
    vehicles: VehicleDirectory,
    data: Mapping[str, Any],
    settings: Settings,
    issued_by: str,
) -> tuple[Invoice, bool]:
    """The invoice of a completed job, issued once: a second create (or a concurrent
    one) for the same job returns the first invoice. True when it was issued now."""
    job_id: uuid.UUID = data["job_id"]
    # Creates for one job queue here, so the loser finds the winner's invoice instead
    # of fetching everything again and tripping over the unique job_id.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"invoice-job:{job_id}"}
    )
    existing = session.scalars(select(Invoice).where(Invoice.job_id == job_id)).one_or_none()
    if existing is not None:
        return existing, False

    job = jobs.get_job(job_id)
    if job is None:
        raise domain.JobNotFound(job_id)
    if job.status != COMPLETED:
        raise domain.JobNotCompleted(job_id, job.status)
    billed = [line for line in job.lines if line.approved]
    if not billed:
        raise domain.NothingToInvoice(job_id)
    line_discounts = _line_discounts(data.get("line_discounts") or [], {line.id for line in billed})
    customer = customers.get_customer(job.customer_id)
    if customer is None:
        raise domain.CustomerNotFound(job.customer_id)
    vehicle = vehicles.get_vehicle(job.vehicle_id) if job.vehicle_id else None

    pricing = domain.price(
        [
            domain.LineInput(
                kind=line.kind,
                description=line.description,
                part_number=line.part_number,
                quantity_hundredths=line.quantity_hundredths,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                job_line_id=line.id,
                discount=line_discounts.get(line.id),
            )
            for line in billed
        ],
        discount=_discount(data.get("discount")),
    )
    terms = data.get("payment_terms_days")
    terms = settings.payment_terms_days if terms is None else terms
    # Everything that can fail for a reason outside this database has happened: only
    # now is a number taken.
    year, sequence, now = take_number(session, series=domain.INVOICE_SERIES, settings=settings)
    today = settings.today(now)
    totals = pricing.totals
    discount = data.get("discount") or {}
    invoice = Invoice(
        number=domain.format_number(domain.INVOICE_SERIES, year, sequence),
        year=year,
        sequence=sequence,
        job_id=job.id,
        customer_id=job.customer_id,
        vehicle_id=job.vehicle_id,
        status=domain.ISSUED,
        currency=job.currency,
        issue_date=today,
        due_date=today + timedelta(days=terms),
        payment_terms_days=terms,
        issued_at=now,
        issued_by=issued_by,
        customer_kind=customer.kind,
        customer_name=customer.name,
        customer_vat_number=customer.vat_number,
        customer_contact_person=customer.contact_person,
        customer_email=customer.email,
        customer_phone=customer.phone,
        customer_street=customer.street,
        customer_postal_code=customer.postal_code,
        customer_city=customer.city,
        customer_country=customer.country,
        customer_language=customer.preferred_language,
        vehicle_plate=vehicle.plate if vehicle else None,
        vehicle_description=vehicle.description if vehicle else None,
        odometer=job.odometer_in,
        odometer_unit=job.odometer_unit if job.odometer_in is not None else None,
        job_description=job.description,
        job_completed_at=job.completed_at,
        discount_percent=discount.get("percent"),
        discount_amount=discount.get("amount"),
        subtotal=totals.subtotal,
        line_discounts=totals.line_discounts,
        invoice_discount=totals.invoice_discount,
        total_net=totals.net,
        total_vat=totals.vat,
        total_gross=totals.gross,
        credited_net=0,
        credited_vat=0,
        credited_gross=0,
        paid=0,
        send_count=0,
        reminders_sent=0,
        created_at=now,
        updated_at=now,
    )
    session.add(invoice)
    session.flush()
    for position, line in enumerate(pricing.lines, start=1):
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=position,
                job_line_id=line.job_line_id,
                kind=line.kind,
                description=line.description,
                part_number=line.part_number,
                quantity_hundredths=line.quantity_hundredths,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                amount=line.amount,
                line_discount=line.line_discount,
                invoice_discount=line.invoice_discount,
                net=line.net,
                vat=line.vat,
            )
        )
    session.flush()
    session.refresh(invoice, ["lines"])
    _settle(invoice)
    # A customer who wants no messages gets the invoice on paper at the counter.
    if customer.preferred_channel != "none":
        _request_sending(session, invoice, settings=settings)
    session.flush()
    return invoice, True


def _line_discounts(
    requested: Sequence[Mapping[str, Any]], billed_ids: set[uuid.UUID]
) -> dict[uuid.UUID, domain.Discount]:
    discounts: dict[uuid.UUID, domain.Discount] = {}
    for entry in requested:
        line_id = entry["job_line_id"]
        if line_id not in billed_ids:
            raise domain.InvalidDiscount(
                "line_discounts", f"job line {line_id} is not a billed line of this job"
            )
        if line_id in discounts:
            raise domain.InvalidDiscount("line_discounts", f"job line {line_id} has more than one discount")
        discounts[line_id] = domain.Discount(percent=entry.get("percent"), amount=entry.get("amount"))
    return discounts


# ----------------------------------------------------------------------------- sending


def _request_sending(
    session: Session, invoice: Invoice, *, settings: Settings, channel: str | None = None
) -> None:
    """Ask notification-management, through the outbox, to send the invoice with its
    PDF. The row commits with this transaction: the invoice exists before anyone is
    told about it. Each send has its own key, so a repeat of one is harmless and an
    explicit re-send is a new message."""
    invoice.send_count += 1
    if channel is None and invoice.customer_email:
        channel = "email"  # the PDF travels by email; without an address the customer's channel decides
    enqueue(
        session,
        notification_management.notify(
            customer_id=invoice.customer_id,
            type_=notification_management.INVOICE_ISSUED,
            data=notification_management.invoice_data(
                invoice_id=invoice.id,
                number=invoice.number,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                total_gross=invoice.total_gross,
                outstanding=invoice.outstanding,
                currency=invoice.currency,
                plate=invoice.vehicle_plate,
            ),
            channel=channel,
            attachments=[
                notification_management.pdf_attachment(
                    url=settings.invoice_pdf_url(invoice.id), number=invoice.number
                )
            ],
            idempotency_key=f"invoice-{invoice.id}-send-{invoice.send_count}",
        ),
    )
    invoice.sent_at = invoice.sent_at or utcnow()
    _settle(invoice)


def send_invoice(
    *, session: Session, invoice_id: uuid.UUID, settings: Settings, channel: str | None = None
) -> Invoice:
    """Send (again) explicitly, e.g. when the customer lost the email."""
    invoice = _lock_invoice(session, invoice_id)
    _request_sending(session, invoice, settings=settings, channel=channel)
    session.flush()
    return invoice


def send_payment_reminders(*, session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Remind the customer of every overdue invoice, at most ``reminder_max`` times and
    ``reminder_interval_days`` apart. Run by a CronJob; running it twice the same day
    sends nothing twice (the interval, and per-reminder outbox keys)."""
    now = now or utcnow()
    today = settings.today(now)
    due_again = now - timedelta(days=settings.reminder_interval_days)
    invoices = session.scalars(
        select(Invoice)
        .where(
            Invoice.status.in_(domain.OPEN_STATUSES),
            Invoice.due_date < today,
            Invoice.reminders_sent < settings.reminder_max,
            or_(Invoice.last_reminder_at.is_(None), Invoice.last_reminder_at <= due_again),
        )
        .order_by(Invoice.due_date, Invoice.id)
        .with_for_update(of=Invoice, skip_locked=True)
    ).all()
    for invoice in invoices:
        invoice.reminders_sent += 1
        invoice.last_reminder_at = now
        enqueue(
            session,
            notification_management.notify(
                customer_id=invoice.customer_id,
                type_=notification_management.PAYMENT_REMINDER,
                data=notification_management.invoice_data(
                    invoice_id=invoice.id,
                    number=invoice.number,
                    issue_date=invoice.issue_date,
                    due_date=invoice.due_date,
                    total_gross=invoice.total_gross,
                    outstanding=invoice.outstanding,
                    currency=invoice.currency,
                    plate=invoice.vehicle_plate,
                ),
                channel="email" if invoice.customer_email else None,
                attachments=[
                    notification_management.pdf_attachment(
                        url=settings.invoice_pdf_url(invoice.id), number=invoice.number
                    )
                ],
                idempotency_key=f"payment-reminder-{invoice.id}-{invoice.reminders_sent}",
            ),
        )
    session.flush()
    return len(invoices)


# ---------------------------------------------------------------------------- payments


def record_payment(
    *, session: Session, invoice_id: uuid.UUID, data: Mapping[str, Any], recorded_by: str
) -> Payment:
    invoice = _lock_invoice(session, invoice_id)
    kind = data.get("kind") or domain.PAYMENT
    domain.check_payment(invoice.balance, kind=kind, amount=data["amount"])
    now = utcnow()
    payment = Payment(
        invoice_id=invoice.id,
        kind=kind,
        amount=data["amount"],
        method=data["method"],
        paid_at=data.get("paid_at") or now,
        reference=(data.get("reference") or "").strip() or None,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(payment)
    invoice.paid = domain.after_payment(invoice.balance, kind=kind, amount=data["amount"]).paid
    _settle(invoice)
    session.flush()
    return payment


def list_payments(*, session: Session, invoice_id: uuid.UUID) -> list[Payment]:
    get_invoice(session=session, invoice_id=invoice_id)
    return list(session.scalars(select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)))


# ------------------------------------------------------------------------ credit notes


def _creditable(session: Session, invoice: Invoice) -> dict[uuid.UUID, domain.CreditableLine]:
    credited = {
        row.invoice_line_id: (-row.net, -row.vat, row.quantity)
        for row in session.execute(
            select(
                CreditNoteLine.invoice_line_id,
                func.sum(CreditNoteLine.net).label("net"),
                func.sum(CreditNoteLine.vat).label("vat"),
                func.coalesce(func.sum(CreditNoteLine.quantity_hundredths), 0).label("quantity"),
            )
            .join(InvoiceLine, InvoiceLine.id == CreditNoteLine.invoice_line_id)
            .where(InvoiceLine.invoice_id == invoice.id)
            .group_by(CreditNoteLine.invoice_line_id)
        )
    }
    return {
        line.id: domain.CreditableLine(
            id=line.id,
            quantity_hundredths=line.quantity_hundredths,
            net=line.net,
            vat=line.vat,
            vat_rate=line.vat_rate,
            credited_net=credited.get(line.id, (0, 0, 0))[0],
            credited_vat=credited.get(line.id, (0, 0, 0))[1],
            credited_quantity=credited.get(line.id, (0, 0, 0))[2],
        )
        for line in invoice.lines
    }


def issue_credit_note(
    *, session: Session, data: Mapping[str, Any], settings: Settings, issued_by: str
) -> CreditNote:
    """A credit note taking back all that is left of an invoice (no ``lines``) or the
    given lines, in part (a quantity or a net amount) or whole."""
    invoice = _lock_invoice(session, data["invoice_id"])
    creditable = _creditable(session, invoice)
    requested = data.get("lines")
    if not requested:
        if invoice.balance.owed <= 0:
            raise domain.InvoiceFullyCredited(invoice.id)
        credits = domain.full_credit(creditable.values())
    else:
        credits = []
        seen: set[uuid.UUID] = set()
        for entry in requested:
            line_id = entry["invoice_line_id"]
            if line_id not in creditable:
                raise domain.InvalidCreditLine(f"invoice {invoice.number} has no line {line_id}")
            if line_id in seen:
                raise domain.InvalidCreditLine(f"line {line_id} is named more than once")
            seen.add(line_id)
            credits.append(
                domain.credit_line(
                    creditable[line_id],
                    quantity_hundredths=entry.get("quantity_hundredths"),
                    amount=entry.get("amount"),
                )
            )
    if not credits:
        raise domain.InvoiceFullyCredited(invoice.id)
    lines_by_id = {line.id: line for line in invoice.lines}
    net = sum(credit.net for credit in credits)
    vat = sum(credit.vat for credit in credits)
    year, sequence, now = take_number(session, series=domain.CREDIT_NOTE_SERIES, settings=settings)
    today = settings.today(now)
    note = CreditNote(
        number=domain.format_number(domain.CREDIT_NOTE_SERIES, year, sequence),
        year=year,
        sequence=sequence,
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        reason=data["reason"].strip(),
        full=not requested,
        issue_date=today,
        issued_at=now,
        issued_by=issued_by,
        total_net=-net,
        total_vat=-vat,
        total_gross=-(net + vat),
    )
    session.add(note)
    session.flush()
    for position, credit in enumerate(credits, start=1):
        original = lines_by_id[credit.line_id]
        session.add(
            CreditNoteLine(
                credit_note_id=note.id,
                invoice_line_id=original.id,
                position=position,
                description=original.description,
                quantity_hundredths=credit.quantity_hundredths,
                vat_rate=original.vat_rate,
                net=-credit.net,
                vat=-credit.vat,
            )
        )
    invoice.credited_net += net
    invoice.credited_vat += vat
    invoice.credited_gross += net + vat
    _settle(invoice)
    session.flush()
    session.refresh(note, ["lines"])
    return note


def get_credit_note(*, session: Session, credit_note_id: uuid.UUID) -> CreditNote:
    note = session.get(CreditNote, credit_note_id)
    if note is None:
        raise domain.CreditNoteNotFound(credit_note_id)
    return note


@dataclass(frozen=True)
class CreditNoteFilters:
    invoice_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def list_credit_notes(
    *, session: Session, filters: CreditNoteFilters, limit: int, cursor: str | None
) -> Page:
    """Newest first."""
    stmt = select(CreditNote)
    if filters.invoice_id:
        stmt = stmt.where(CreditNote.invoice_id == filters.invoice_id)
    if filters.customer_id:
        stmt = stmt.where(CreditNote.customer_id == filters.customer_id)
    if filters.issued_from:
        stmt = stmt.where(CreditNote.issue_date >= filters.issued_from)
    if filters.issued_to:
        stmt = stmt.where(CreditNote.issue_date <= filters.issued_to)
    return keyset_page(
        session, stmt, key_columns=[CreditNote.id], limit=limit, cursor=cursor, descending=True
    )


# ------------------------------------------------------------------------------ reading


def get_invoice(*, session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise domain.InvoiceNotFound(invoice_id)
    return invoice


@dataclass(frozen=True)
class InvoiceFilters:
    customer_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    status: str | None = None
    overdue: bool | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def _overdue_clause(today: date) -> Any:
    return and_(Invoice.status.in_(domain.OPEN_STATUSES), Invoice.due_date < today)


def list_invoices(
    *, session: Session, filters: InvoiceFilters, limit: int, cursor: str | None, today: date
) -> Page:
    """Newest first. ``status`` is the status clients see: ``overdue`` is an open
    invoice past its due date, and ``sent`` (say) is a sent one that is not."""
    stmt = select(Invoice)
    if filters.customer_id:
        stmt = stmt.where(Invoice.customer_id == filters.customer_id)
    if filters.job_id:
        stmt = stmt.where(Invoice.job_id == filters.job_id)
    if filters.issued_from:
        stmt = stmt.where(Invoice.issue_date >= filters.issued_from)
    if filters.issued_to:
        stmt = stmt.where(Invoice.issue_date <= filters.issued_to)
    if filters.status == domain.OVERDUE:
        stmt = stmt.where(_overdue_clause(today))
    elif filters.status in domain.OPEN_STATUSES:
        stmt = stmt.where(Invoice.status == filters.status, Invoice.due_date >= today)
    elif filters.status:
        stmt = stmt.where(Invoice.status == filters.status)
    if filters.overdue is True:
        stmt = stmt.where(_overdue_clause(today))
    elif filters.overdue is False:
        stmt = stmt.where(not_(_overdue_clause(today)))
    return keyset_page(session, stmt, key_columns=[Invoice.id], limit=limit, cursor=cursor, descending=True)


# ---------------------------------------------------------------------------- receivables


@dataclass
class ReceivableRow:
    customer_id: uuid.UUID
    customer_name: str
    currency: str
    ageing: domain.Ageing


@dataclass
class Receivables:
    as_of: date
    totals: list[dict[str, Any]]
    items: list[dict[str, Any]]
    next_cursor: str | None


def _ageing_columns(today: date) -> list[Any]:
    outstanding = Invoice.total_gross - Invoice.credited_gross - Invoice.paid
    age = today - Invoice.issue_date  # date - date is a number of days in PostgreSQL

    def bucket(low: int, high: int | None) -> Any:
        condition = age >= low if high is None else and_(age >= low, age <= high)
        return func.coalesce(func.sum(outstanding).filter(condition), 0)

    return [
        func.count().label("invoices"),
        func.sum(outstanding).label("outstanding"),
        func.coalesce(func.sum(outstanding).filter(Invoice.due_date < today), 0).label("overdue"),
        bucket(0, 30).label("days_0_30"),
        bucket(31, 60).label("days_31_60"),
        bucket(61, 90).label("days_61_90"),
        bucket(91, None).label("days_90_plus"),
    ]


def _amounts(row: Any) -> dict[str, int]:
    return {
        "outstanding": int(row.outstanding),
        "overdue": int(row.overdue),
        "invoices": int(row.invoices),
        **{name: int(getattr(row, name)) for name in domain.AGE_BUCKETS},
    }


def receivables(
    *, session: Session, today: date, customer_id: uuid.UUID | None, limit: int, cursor: str | None
) -> Receivables:
    """What customers owe on open invoices, per customer and currency, aged by invoice
    date (0-30, 31-60, 61-90, 90+ days), with the overdue part; and the totals."""
    open_invoices = [Invoice.status.in_(domain.OPEN_STATUSES)]
    if customer_id:
        open_invoices.append(Invoice.customer_id == customer_id)
    key = [Invoice.customer_id, Invoice.currency]
    stmt = (
        select(
            Invoice.customer_id,
            Invoice.currency,
            # The name on the customer's latest invoice.
            func.array_agg(
                aggregate_order_by(Invoice.customer_name, Invoice.issue_date.desc(), Invoice.id.desc())
            ).label("names"),
            *_ageing_columns(today),
        )
        .where(*open_invoices)
        .group_by(*key)
    )
    if cursor:
        after = decode_cursor(cursor, key)
        stmt = stmt.having(tuple_(*key) > tuple_(*after))
    rows = session.execute(stmt.order_by(*key).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].customer_id, rows[-1].currency])
    totals = session.execute(
        select(Invoice.currency, *_ageing_columns(today))
        .where(*open_invoices)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
    ).all()
    return Receivables(
        as_of=today,
        totals=[{"currency": row.currency, **_amounts(row)} for row in totals],
        items=[
            {
                "customer_id": row.customer_id,
                "customer_name": row.names[0],
                "currency": row.currency,
                **_amounts(row),
            }
            for row in rows
        ],
        next_cursor=next_cursor,
    )
