"""The garage's labour rates: a default and one per kind of work (diagnosis, bodywork
...). A labour line added without a rate takes the rate of its kind of work; a line
keeps the rate it was added with when the rate changes later."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.models import LabourRate
from service_kit.auth import Actor
from service_kit.etag import ensure_version


def list_rates(*, session: Session) -> list[LabourRate]:
    return list(session.scalars(select(LabourRate).order_by(LabourRate.code)))


def get_rate(*, session: Session, code: str) -> LabourRate:
    rate = session.get(LabourRate, code)
    if rate is None:
        raise domain.LabourRateNotFound(code)
    return rate


def put_rate(
    *, session: Session, code: str, data: dict[str, Any], actor: Actor, expected_versions: set[int] | None
) -> tuple[LabourRate, bool]:
    """Set the rate ``code`` (made when new); answers it and whether it was made."""
    domain.ensure_code(code)
    rate = session.get(LabourRate, code, with_for_update=True)
    if rate is None:
        rate = LabourRate(code=code, **actor.fields("updated_by"), **data)
        session.add(rate)
        session.flush()
        return rate, True
    ensure_version(rate.version, expected_versions)
    for field, value in data.items():
        setattr(rate, field, value)
    rate.updated_by, rate.updated_by_name = actor.subject, actor.name
    session.flush()
    return rate, False


def rates_by_code(session: Session) -> dict[str, int]:
    return {rate.code: rate.hourly_rate for rate in list_rates(session=session)}


def hourly_rate_for(*, session: Session, work_kind: str | None) -> int:
    return domain.hourly_rate_for(work_kind, rates_by_code(session))
