"""Service interval use cases: the garage's kinds of service and how often each is due.
Each takes its dependencies as keyword arguments, flushes but never commits, and knows
no HTTP."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service_kit.auth import Actor
from service_kit.etag import ensure_version
from service_kit.problems import NotFound, Unprocessable
from vehicle_management.models import ServiceIntervalRule

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class IntervalNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"no service interval {code!r}")


def _check_code(code: str, field: str = "code") -> None:
    if not CODE.fullmatch(code):
        raise Unprocessable.on_field(field, "1-40 lower-case letters, digits and '-', e.g. small-service")


def list_intervals(*, session: Session) -> list[ServiceIntervalRule]:
    return list(session.scalars(select(ServiceIntervalRule).order_by(ServiceIntervalRule.code)))


def get_interval(*, session: Session, code: str) -> ServiceIntervalRule:
    interval = session.get(ServiceIntervalRule, code) if CODE.fullmatch(code) else None
    if interval is None:
        raise IntervalNotFound(code)
    return interval


def put_interval(
    *, session: Session, code: str, data: dict[str, Any], actor: Actor, expected_versions: set[int] | None
) -> tuple[ServiceIntervalRule, bool]:
    """Create or replace the interval ``code``; True when it was new."""
    _check_code(code)
    if data.get("months") is None and data.get("km") is None:
        raise Unprocessable(
            "a service is due by months, by km or both", errors={"months": ["give months or km"]}
        )
    codes = data.get("canned_job_codes") or [code]
    for i, canned in enumerate(codes):
        if not CODE.fullmatch(canned):
            raise Unprocessable.on_field(f"canned_job_codes.{i}", "a canned job's code, e.g. small-service")
    interval = session.get(ServiceIntervalRule, code, with_for_update=True)
    created = interval is None
    if interval is None:
        interval = ServiceIntervalRule(code=code)
        session.add(interval)
    else:
        ensure_version(interval.version, expected_versions)
    interval.name = data["name"].strip()
    interval.months = data.get("months")
    interval.km = data.get("km")
    interval.canned_job_codes = list(dict.fromkeys(codes))
    interval.active = data.get("active", True)
    for key, value in actor.fields("updated_by").items():
        setattr(interval, key, value)
    session.flush()
    return interval, created
