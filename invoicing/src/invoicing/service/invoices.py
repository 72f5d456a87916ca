"""Invoices: issuing the invoice of a completed job, its gap-free number, reading and
listing invoices, and the receivables.

Issuing reads the job, the customer and the vehicle over HTTP *before* it takes a
number: a dependency that fails ends the request with a 503 and nothing written.
The number comes from a counter row incremented inside the issuing transaction, so
it commits with the invoice or not at all. Credit notes take theirs the same way, in
their own series."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import Session

from invoicing import domain
from invoicing.clients.customer_management import CustomerDirectory
from invoicing.clients.maintenance_jobs import JobDirectory
from invoicing.clients.vehicle_management import VehicleDirectory
from invoicing.models import DocumentCounter, Invoice, InvoiceLine
from invoicing.service import sending
from invoicing.service.invoice_changes import settle
from invoicing.service.read_models import InvoiceAsShown, invoice_as_shown
from invoicing.service.settings import Settings
from service_kit.auth import Actor
from service_kit.clock import utcnow
from service_kit.pagination import Page, decode_cursor, encode_cursor, keyset_page

COMPLETED = "completed"  # the job status that may be invoiced


# --------------------------------------------------------------------------- numbering


def next_number(session: Session, *, series: str, year: int) -> int:
    """The next number of a series in a year, taken inside the caller's transaction.

    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` creates or increments the
    counter row and keeps it locked until the transaction ends: a concurrent issuer
    waits, then continues from the committed value — or from the old one when this
    transaction rolls back. No gap, no duplicate, and strictly increasing in commit
    order."""
    stmt = (
        insert(DocumentCounter)
        .values(series=series, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[DocumentCounter.series, DocumentCounter.year],
            set_={"last_number": DocumentCounter.last_number + 1},
        )
        .returning(DocumentCounter.last_number)
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


# ----------------------------------------------------------------------------- issuing


def _discount(data: Mapping[str, Any] | None) -> domain.Discount | None:
    if not data:
        return None
    return domain.Discount(percent=data.get("percent"), amount=data.get("amount"))


def issue_invoice(
    *,
    session: Session,
    jobs: JobDirectory,
    customers: CustomerDirectory,
    vehicles: VehicleDirectory,
    data: Mapping[str, Any],
    settings: Settings,
    issued_by: Actor,
) -> tuple[InvoiceAsShown, bool]:
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
        return invoice_as_shown(existing, settings=settings), False

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
    terms = domain.payment_terms_days(
        data.get("payment_terms_days"),
        customer_terms=customer.payment_terms_days,
        default=settings.payment_terms_days,
    )
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
        **issued_by.fields("issued_by"),
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
    settle(invoice)
    # A customer who wants no messages gets the invoice on paper at the counter.
    if customer.preferred_channel != "none":
        sending.request_sending(session, invoice, settings=settings)
    session.flush()
    return invoice_as_shown(invoice, settings=settings), True


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


# ------------------------------------------------------------------------------ reading


def get_invoice(*, session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise domain.InvoiceNotFound(invoice_id)
    return invoice


def show_invoice(*, session: Session, invoice_id: uuid.UUID, settings: Settings) -> InvoiceAsShown:
    return invoice_as_shown(get_invoice(session=session, invoice_id=invoice_id), settings=settings)


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
    *, session: Session, filters: InvoiceFilters, limit: int, cursor: str | None, settings: Settings
) -> Page:
    """Newest first. ``status`` is the status clients see: ``overdue`` is an open
    invoice past its due date, and ``sent`` (say) is a sent one that is not. Each item
    shows its status as of the day the filters used."""
    today = settings.today()
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
    page = keyset_page(session, stmt, key_columns=[Invoice.id], limit=limit, cursor=cursor, descending=True)
    return Page(
        items=[invoice_as_shown(invoice, settings=settings, today=today) for invoice in page.items],
        next_cursor=page.next_cursor,
    )


# ---------------------------------------------------------------------------- receivables


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
    open_invoices: list[ColumnElement[bool]] = [Invoice.status.in_(domain.OPEN_STATUSES)]
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
