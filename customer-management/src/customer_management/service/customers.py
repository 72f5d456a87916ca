"""Customer use cases. Each takes its dependencies as keyword arguments, flushes but
never commits (the HTTP layer makes one request one transaction), and knows no HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from customer_management import domain
from customer_management.models import ConsentRecord, Customer, utcnow
from customer_management.rendering import CUSTOMER_JSON
from customer_management.service import search
from service_kit.auth import Actor
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page
from service_kit.prepared import Prepared
from service_kit.sql_json import Rendered

ADDRESS_FIELDS = ("street", "postal_code", "city", "country")
EDITABLE_FIELDS = (
    "kind",
    "name",
    "vat_number",
    "contact_person",
    "email",
    "phone",
    *ADDRESS_FIELDS,
    "preferred_channel",
    "preferred_language",
    "notes",
    "payment_terms_days",
)


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """API shape (nested ``address``) -> column shape."""
    flat = {k: v for k, v in data.items() if k not in ("address", "consents")}
    flat.update(data.get("address") or {})
    return flat


def _ensure_email_free(session: Session, email: str | None, *, except_id: uuid.UUID | None = None) -> None:
    if not email:
        return
    stmt = select(Customer.id).where(func.lower(Customer.email) == email.lower(), Customer.status == "active")
    if except_id is not None:
        stmt = stmt.where(Customer.id != except_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise domain.EmailAlreadyInUse(email)


def _consent_events(session: Session, customer_id: uuid.UUID) -> list[domain.ConsentEvent]:
    records = session.scalars(select(ConsentRecord).where(ConsentRecord.customer_id == customer_id))
    return [domain.ConsentEvent(r.channel, r.purpose, r.granted, r.recorded_at) for r in records]


def register_customer(
    *,
    session: Session,
    data: dict[str, Any],
    recorded_by: Actor,
    default_region: str,
    business_terms_days: int,
) -> Customer:
    fields = domain.validate_customer(_flatten(data), default_region=default_region)
    if fields.get("payment_terms_days") is None:
        fields["payment_terms_days"] = domain.default_payment_terms_days(
            fields["kind"], business_days=business_terms_days
        )
    _ensure_email_free(session, fields.get("email"))
    customer = Customer(**{k: fields.get(k) for k in EDITABLE_FIELDS if fields.get(k) is not None})
    customer.consents = domain.current_consents([])
    session.add(customer)
    session.flush()
    for consent in data.get("consents") or []:
        _add_consent(session, customer, consent, recorded_by=recorded_by)
    return customer


def get_customer(*, session: Session, customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise domain.CustomerNotFound(customer_id)
    return customer


# Built once (session.get builds its SELECT on every call); the customer as the API
# shows it, rendered by PostgreSQL: no ORM object, no dump (docs/performance.md).
# Prepared on each connection: parsing and planning the rendering cost more than running it.
_RENDERED_BY_ID = Prepared(
    select(CUSTOMER_JSON, Customer.version).where(Customer.id == bindparam("customer_id"))
)


def read_customer(*, connection: Connection, customer_id: uuid.UUID) -> tuple[Rendered, int]:
    """The customer for the read (GET) path, as ``CustomerSchema`` dumps it, and its
    version. The reads run on a connection, not a session: they load no objects (the
    writes keep ``get_customer`` and the ORM)."""
    row = _RENDERED_BY_ID.execute(connection, customer_id=customer_id).one_or_none()
    if row is None:
        raise domain.CustomerNotFound(customer_id)
    return Rendered(row[0]), row[1]


@dataclass(frozen=True)
class CustomerFilters:
    q: str | None = None
    status: str = "active"
    kind: str | None = None
    email: str | None = None
    phone: str | None = None
    preferred_channel: str | None = None


def list_customers(
    *, connection: Connection, filters: CustomerFilters, limit: int, cursor: str | None, default_region: str
) -> Page:
    """Oldest first; with ``q``, the search's ranks (service/search.py). Each customer
    as the API shows it (``rendering.CUSTOMER_JSON``)."""
    equal: dict[str, Any] = {"status": filters.status}
    if filters.kind:
        equal["kind"] = filters.kind
    if filters.preferred_channel:
        equal["preferred_channel"] = filters.preferred_channel
    if filters.email:
        equal["email"] = filters.email.strip().lower()
    if filters.phone:
        try:
            equal["phone"] = domain.normalise_phone(filters.phone, region=default_region)
        except ValueError:
            return Page(items=[], next_cursor=None)
    if filters.q:
        terms = domain.search_terms(filters.q, region=default_region)
        return search.search_customers(
            connection=connection, filters=equal, terms=terms, limit=limit, cursor=cursor
        )
    stmt = select(Customer).where(*(search.FILTERS[name] == value for name, value in equal.items()))
    return keyset_page(
        connection, stmt, key_columns=[Customer.id], limit=limit, cursor=cursor, rendered=CUSTOMER_JSON
    )


def update_customer(
    *,
    session: Session,
    customer_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
    default_region: str,
) -> Customer:
    customer = get_customer(session=session, customer_id=customer_id)
    ensure_version(customer.version, expected_versions)
    if customer.status == "erased":
        raise domain.CustomerErased(customer_id)
    merged = {field: getattr(customer, field) for field in EDITABLE_FIELDS}
    merged.update(_flatten(changes))
    fields = domain.validate_customer(merged, default_region=default_region)
    if fields.get("email") and (customer.email or "").lower() != fields["email"].lower():
        _ensure_email_free(session, fields["email"], except_id=customer.id)
    for field in EDITABLE_FIELDS:
        if getattr(customer, field) != fields.get(field):
            setattr(customer, field, fields.get(field))
    session.flush()
    return customer


def erase_customer(*, session: Session, customer_id: uuid.UUID) -> None:
    """GDPR erasure: personal data goes, the id stays resolvable as ``erased``.
    Erasing twice is not an error: the outcome the caller wanted holds."""
    customer = get_customer(session=session, customer_id=customer_id)
    if customer.status == "erased":
        return
    for field, value in domain.erased_fields().items():
        setattr(customer, field, value)
    customer.erased_at = utcnow()
    customer.consents = domain.current_consents([], erased=True)
    # The wording shown stays (it is the garage's text); who recorded it may be personal.
    for record in session.scalars(select(ConsentRecord).where(ConsentRecord.customer_id == customer.id)):
        record.recorded_by = record.recorded_by_name = "erased"
    session.flush()


def _add_consent(
    session: Session, customer: Customer, data: dict[str, Any], *, recorded_by: Actor
) -> ConsentRecord:
    record = ConsentRecord(
        customer_id=customer.id,
        channel=data["channel"],
        purpose=data["purpose"],
        granted=data["granted"],
        source=data["source"],
        wording=data["wording"],
        **recorded_by.fields("recorded_by"),
        recorded_at=utcnow(),
    )
    session.add(record)
    session.flush()
    customer.consents = domain.current_consents(_consent_events(session, customer.id))
    session.flush()
    return record


def record_consent(
    *, session: Session, customer_id: uuid.UUID, data: dict[str, Any], recorded_by: Actor
) -> ConsentRecord:
    customer = get_customer(session=session, customer_id=customer_id)
    if customer.status == "erased":
        raise domain.CustomerErased(customer_id)
    return _add_consent(session, customer, data, recorded_by=recorded_by)


@dataclass(frozen=True)
class ConsentLedger:
    current: dict[str, dict[str, bool]]
    history: list[ConsentRecord]


def consent_ledger(*, session: Session, customer_id: uuid.UUID) -> ConsentLedger:
    customer = get_customer(session=session, customer_id=customer_id)
    history = list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        )
    )
    return ConsentLedger(current=customer.consents, history=history)
