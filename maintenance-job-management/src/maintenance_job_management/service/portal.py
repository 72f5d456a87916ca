"""What the customer portal reaches through a customer's link, and nothing else: the
estimate a link names (see it, decide it) and the visit a link names (see it, rate it).

Each use case takes the checked link (``service_kit.links.Link``) and acts on its
``resource_id`` alone; a link whose customer is not the job's customer is not valid
(403), whatever its signature says. A decision goes through the same code as an
advisor's entry (``approvals.decide_estimate``), with channel ``portal``."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.models import Approval, Estimate, Job
from maintenance_job_management.service import approvals, feedback, jobs
from service_kit.auth import Actor
from service_kit.links import Link, LinkNotValid, LinkRevoked


def _resource(link: Link) -> uuid.UUID:
    try:
        return uuid.UUID(link.resource_id)
    except ValueError:
        raise LinkNotValid("this link is not valid") from None


def _ensure_customer(link: Link, job: Job | None) -> Job:
    if job is None or link.customer_id != str(job.customer_id):
        raise LinkNotValid("this link is not valid")
    return job


def _linked_estimate(session: Session, link: Link) -> tuple[Estimate, Job]:
    estimate = session.get(Estimate, _resource(link))
    if estimate is None:
        raise LinkNotValid("this link is not valid")
    job = _ensure_customer(link, session.get(Job, estimate.job_id))
    if estimate.status == domain.ESTIMATE_SUPERSEDED:
        raise LinkRevoked("a newer estimate has replaced this one")
    return estimate, job


def _vehicle(job: Job) -> dict[str, Any]:
    return jobs.vehicle_fields(job)


def _estimate_page(session: Session, estimate: Estimate, job: Job) -> dict[str, Any]:
    decided = {
        str(approval.line_id): approval
        for approval in session.scalars(
            select(Approval).where(Approval.estimate_id == estimate.id).order_by(Approval.id)
        )
    }
    first = next(iter(decided.values()), None)
    snapshot = estimate.snapshot
    decided_yet = estimate.status == domain.ESTIMATE_DECIDED
    return {
        "status": domain.PORTAL_DECIDED if decided_yet else domain.PORTAL_PENDING,
        "sent_at": estimate.sent_at,
        "currency": snapshot["currency"],
        "message": snapshot.get("message"),
        "technician_notes": job.technician_notes,
        "vehicle": _vehicle(job),
        "lines": [
            {
                **line,
                "decision": decided[line["line_id"]].decision if line["line_id"] in decided else None,
            }
            for line in snapshot["lines"]
        ],
        "total_net": snapshot["total_net"],
        "total_vat": snapshot["total_vat"],
        "total_gross": snapshot["total_gross"],
        "decided_at": estimate.decided_at,
        # The customer's typed name; for a decision an advisor entered, the name given.
        "signature": (first.signature or first.decided_by) if first else None,
        "decided_through": first.channel if first else None,
    }


def estimate(*, session: Session, link: Link) -> dict[str, Any]:
    """The estimate as the customer was shown it, and when decided, what they decided."""
    found, job = _linked_estimate(session, link)
    return _estimate_page(session, found, job)


def decide(
    *,
    session: Session,
    link: Link,
    data: dict[str, Any],
    actor: Actor,
    client_address: str,
    margin_percent: int,
) -> dict[str, Any]:
    """The customer decides every line of the estimate themselves: recorded as an
    advisor's entry is, with channel ``portal``, their typed name and their address."""
    found, job = _linked_estimate(session, link)
    signature = domain.required_text("signature", data["signature"])
    decided = approvals.decide_estimate(
        session=session,
        job_id=job.id,
        estimate_id=found.id,
        data={
            "channel": domain.PORTAL_CHANNEL,
            "decided_by": signature,
            "signature": signature,
            "client_address": domain.printable(client_address),
            "lines": [
                {"line_id": entry["line_id"], "approved": entry["decision"] == domain.APPROVED}
                for entry in data["decisions"]
            ],
        },
        actor=actor,
        margin_percent=margin_percent,
    )
    return _estimate_page(session, decided, job)


def _visit_page(session: Session, job: Job, time_zone: ZoneInfo) -> dict[str, Any]:
    given = feedback.of_job(session, job.id)
    ended = job.collected_at or job.completed_at
    return {
        "vehicle": _vehicle(job),
        "visit_date": ended.astimezone(time_zone).date() if ended else None,
        "description": job.description,
        "completed_at": job.completed_at,
        "collected_at": job.collected_at,
        "work": [
            {"kind": line.kind, "description": line.description}
            for line in job.lines
            if line.approval == domain.APPROVED
        ],
        "technician": domain.first_name(feedback.technician_name(job)),
        "feedback": None
        if given is None
        else {"rating": given.rating, "comment": given.comment, "given_at": given.given_at},
    }


def visit(*, session: Session, link: Link, time_zone: ZoneInfo) -> dict[str, Any]:
    """The visit (a completed job): the vehicle, when, the work done, who did it, and
    the customer's feedback once given."""
    job = _ensure_customer(link, session.get(Job, _resource(link)))
    return _visit_page(session, job, time_zone)


def give_feedback(
    *,
    session: Session,
    link: Link,
    rating: int,
    comment: str | None,
    client_address: str,
    time_zone: ZoneInfo,
) -> dict[str, Any]:
    job = _ensure_customer(link, session.get(Job, _resource(link)))
    feedback.give(
        session=session, job_id=job.id, rating=rating, comment=comment, client_address=client_address
    )
    return _visit_page(session, job, time_zone)
