"""Canned jobs: work the garage does often ("small service": labour hours, parts with
prices, VAT), priced once and added to a job's lines in one call. Adding copies the
prices of that moment into the job's lines, so a later change to the catalogue or to
the labour rates never changes a job already priced. A canned job is retired, not
deleted: lines name the one they came from."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.models import CannedJob, CannedJobLine, Job, JobLine
from maintenance_job_management.service import jobs, lines, prices
from service_kit.auth import Actor
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page


def _lines(data: list[dict[str, Any]]) -> list[CannedJobLine]:
    made, errors = [], {}
    for position, fields in enumerate(data, start=1):
        try:
            values = domain.canned_line_values(fields["kind"], fields)
        except domain.InvalidLine as exc:
            errors[str(position - 1)] = exc.errors or {}
            continue
        made.append(CannedJobLine(position=position, kind=fields["kind"], **values))
    if errors:
        raise domain.InvalidLine({"lines": errors})  # type: ignore[dict-item]  # nested per line
    return made


def _ensure_work_kind(session: Session, work_kind: str | None) -> None:
    if work_kind is not None:
        rates = prices.rates_by_code(session)
        if work_kind not in rates:
            raise domain.InvalidLine(
                {"work_kind": [f"no labour rate {work_kind!r}; the rates are {sorted(rates)}"]}
            )


def create_canned_job(*, session: Session, data: dict[str, Any], actor: Actor) -> CannedJob:
    _ensure_work_kind(session, data.get("work_kind"))
    canned = CannedJob(
        code=data["code"],
        name=data["name"],
        description=data.get("description"),
        work_kind=data.get("work_kind"),
        active=data.get("active", True),
        **actor.fields("updated_by"),
        lines=_lines(data["lines"]),
    )
    session.add(canned)
    session.flush()  # a code already in use: the kit answers the unique violation with a 409
    return canned


def get_canned_job(*, session: Session, canned_job_id: uuid.UUID) -> CannedJob:
    canned = session.get(CannedJob, canned_job_id)
    if canned is None:
        raise domain.CannedJobNotFound(canned_job_id)
    return canned


def list_canned_jobs(*, session: Session, active: bool | None, limit: int, cursor: str | None) -> Page:
    stmt = select(CannedJob)
    if active is not None:
        stmt = stmt.where(CannedJob.active.is_(active))
    return keyset_page(session, stmt, key_columns=[CannedJob.id], limit=limit, cursor=cursor)


def update_canned_job(
    *,
    session: Session,
    canned_job_id: uuid.UUID,
    changes: dict[str, Any],
    actor: Actor,
    expected_versions: set[int] | None,
) -> CannedJob:
    """Details change in place; ``lines``, when given, replace the lines whole."""
    canned = session.get(CannedJob, canned_job_id, with_for_update=True)
    if canned is None:
        raise domain.CannedJobNotFound(canned_job_id)
    ensure_version(canned.version, expected_versions)
    if "work_kind" in changes:
        _ensure_work_kind(session, changes["work_kind"])
    if "lines" in changes:
        canned.lines = _lines(changes.pop("lines"))
        session.flush()  # the old lines go before the new ones take their positions
    for field, value in changes.items():
        setattr(canned, field, value)
    canned.updated_by, canned.updated_by_name = actor.subject, actor.name
    session.flush()
    return canned


def add_to_job(
    *,
    session: Session,
    job_id: uuid.UUID,
    canned_job_id: uuid.UUID,
    covered_by_booking: bool,
    actor: Actor,
    default_vat_rate: Decimal,
) -> tuple[Job, list[JobLine]]:
    """Every line of the canned job becomes a line of the job, priced now: labour at the
    canned line's own rate, else the rate of the canned job's kind of work."""
    canned = get_canned_job(session=session, canned_job_id=canned_job_id)
    if not canned.active:
        raise domain.CannedJobRetired(canned.code)
    needs_rate = any(line.kind == domain.LABOUR and line.unit_price is None for line in canned.lines)
    hourly_rate = prices.hourly_rate_for(session=session, work_kind=canned.work_kind) if needs_rate else 0
    added = [
        lines.add_line(
            session=session,
            job_id=job_id,
            data={
                **domain.job_line_fields(line, hourly_rate=hourly_rate),
                "covered_by_booking": covered_by_booking,
            },
            actor=actor,
            default_vat_rate=default_vat_rate,
            canned_job_id=canned.id,
        )
        for line in canned.lines
    ]
    return jobs.lock_job(session, job_id), added
