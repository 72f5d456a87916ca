"""The workshop: its settings (time zone, opening hours, closed dates, slot grid,
booking horizon), its bays and its technicians."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table, any_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service_kit.clock import utcnow
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page
from workshop_scheduling.domain.appointments import HOLDING
from workshop_scheduling.domain.workshop import (
    DEFAULT_SETTINGS,
    AccountAlreadyLinked,
    BayNotFound,
    NameAlreadyInUse,
    StillBooked,
    TechnicianNotFound,
    Workshop,
    validate_settings,
)
from workshop_scheduling.models import Appointment, Bay, Technician, WorkshopSettings

# ----------------------------------------------------------------------------- settings


def get_settings(*, session: Session, for_update: bool = False) -> WorkshopSettings:
    """The workshop's settings; the defaults until someone changes them."""
    row = session.get(WorkshopSettings, 1, with_for_update=for_update)
    if row is None:
        defaults = validate_settings(DEFAULT_SETTINGS)
        session.execute(
            insert(cast(Table, WorkshopSettings.__table__))  # a declarative class's table is a Table
            .values(id=1, version=1, updated_at=utcnow(), **defaults)
            .on_conflict_do_nothing()
        )
        row = session.get(WorkshopSettings, 1, with_for_update=for_update, populate_existing=True)
    if row is None:  # inserted just now, or by a concurrent request: it is there
        raise RuntimeError("the workshop settings row is missing")
    return row


def workshop(session: Session) -> Workshop:
    return get_settings(session=session).as_domain()


def update_settings(
    *, session: Session, data: dict[str, Any], expected_versions: set[int] | None
) -> WorkshopSettings:
    """Replace the settings. Appointments already booked stay as they are; the new
    rules apply to every booking and reschedule from now on."""
    row = get_settings(session=session, for_update=True)
    ensure_version(row.version, expected_versions)
    for name, value in validate_settings(data).items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    session.flush()
    return row


# -------------------------------------------------------------------- bays, technicians

Resource = type[Bay] | type[Technician]


def _name_taken(session: Session, model: Resource, name: str, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(model.id).where(func.lower(model.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


def _upcoming_count(session: Session, column: Any, resource_id: uuid.UUID) -> int:
    return session.execute(
        select(func.count())
        .select_from(Appointment)
        .where(column == resource_id, Appointment.status.in_(HOLDING), Appointment.end_at > utcnow())
    ).scalar_one()


def _create_resource(session: Session, model: Resource, what: str, data: dict[str, Any]) -> Any:
    name = data["name"].strip()
    if _name_taken(session, model, name):
        raise NameAlreadyInUse(what, name)
    resource = model(**{**data, "name": name})
    session.add(resource)
    session.flush()
    return resource


def _get_resource(
    session: Session, model: Resource, resource_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    resource = session.get(model, resource_id, with_for_update=for_update)
    if resource is None:
        raise (BayNotFound if model is Bay else TechnicianNotFound)(resource_id)
    return resource


def _update_resource(
    session: Session,
    model: Resource,
    what: str,
    resource_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
) -> Any:
    resource = _get_resource(session, model, resource_id, for_update=True)
    ensure_version(resource.version, expected_versions)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if changes["name"].lower() != resource.name.lower() and _name_taken(
            session, model, changes["name"], resource.id
        ):
            raise NameAlreadyInUse(what, changes["name"])
    if changes.get("active") is False and resource.active:
        column = Appointment.bay_id if model is Bay else Appointment.technician_id
        upcoming = _upcoming_count(session, column, resource.id)
        if upcoming:
            raise StillBooked(what, upcoming)
    for name, value in changes.items():
        if getattr(resource, name) != value:
            setattr(resource, name, value)
    session.flush()
    return resource


def _list_resources(
    session: Session, model: Resource, filters: dict[str, Any], *, limit: int, cursor: str | None
) -> Page:
    stmt = select(model)
    if filters.get("active") is not None:
        stmt = stmt.where(model.active == filters["active"])
    if filters.get("kind") and model is Bay:
        stmt = stmt.where(Bay.kind == filters["kind"])
    if filters.get("skill") and model is Technician:
        stmt = stmt.where(filters["skill"] == any_(Technician.skills))
    if filters.get("account_subject") and model is Technician:
        stmt = stmt.where(Technician.account_subject == filters["account_subject"])
    return keyset_page(session, stmt, key_columns=[model.id], limit=limit, cursor=cursor)


def create_bay(*, session: Session, data: dict[str, Any]) -> Bay:
    return _create_resource(session, Bay, "bay", data)


def get_bay(*, session: Session, bay_id: uuid.UUID) -> Bay:
    return _get_resource(session, Bay, bay_id)


def list_bays(*, session: Session, filters: dict[str, Any], limit: int, cursor: str | None) -> Page:
    return _list_resources(session, Bay, filters, limit=limit, cursor=cursor)


def update_bay(
    *, session: Session, bay_id: uuid.UUID, changes: dict[str, Any], expected_versions: set[int] | None
) -> Bay:
    """A bay with upcoming appointments cannot be deactivated: move them first."""
    return _update_resource(session, Bay, "bay", bay_id, changes, expected_versions)


def _ensure_account_free(session: Session, data: dict[str, Any], except_id: uuid.UUID | None = None) -> None:
    """One technician an account (the unique index settles a race with a 409 too)."""
    subject = data.get("account_subject")
    if subject is None:
        return
    stmt = select(Technician.id).where(Technician.account_subject == subject)
    if except_id is not None:
        stmt = stmt.where(Technician.id != except_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise AccountAlreadyLinked(subject)


def create_technician(*, session: Session, data: dict[str, Any]) -> Technician:
    _ensure_account_free(session, data)
    return _create_resource(session, Technician, "technician", data)


def get_technician(*, session: Session, technician_id: uuid.UUID) -> Technician:
    return _get_resource(session, Technician, technician_id)


def list_technicians(*, session: Session, filters: dict[str, Any], limit: int, cursor: str | None) -> Page:
    return _list_resources(session, Technician, filters, limit=limit, cursor=cursor)


def update_technician(
    *, session: Session, technician_id: uuid.UUID, changes: dict[str, Any], expected_versions: set[int] | None
) -> Technician:
    _ensure_account_free(session, changes, technician_id)
    return _update_resource(session, Technician, "technician", technician_id, changes, expected_versions)


def active_bays(session: Session, kind: str | None) -> list[Bay]:
    """The bays in use (of ``kind``, if given) in name order: where an appointment may go."""
    stmt = select(Bay).where(Bay.active.is_(True))
    if kind:
        stmt = stmt.where(Bay.kind == kind)
    return list(session.scalars(stmt.order_by(Bay.name, Bay.id)))
