"""What the customer approves: estimates that put the lines awaiting a decision before
them (by email or SMS through notification-management's outbox), their decision on each
line with its audit trail, and the approval rule — work growing past the approved total
plus the margin holds the job until the customer approves again."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.clients import notification_management
from maintenance_job_management.models import Approval, Estimate, Job, utcnow
from maintenance_job_management.service import jobs
from service_kit.auth import Actor
from service_kit.links import issue_link, link_url, revoke_links
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page


def apply_approval_rule(session: Session, job: Job, *, margin_percent: int) -> None:
    """Work growing past the approved total plus the margin stops the job until the
    customer approves again; that approval lets it go on by itself."""
    exceeded = domain.approval_exceeded(job.lines, margin_percent=margin_percent)
    if exceeded and job.status == domain.IN_PROGRESS:
        jobs.put_on_hold(
            session,
            job,
            kind=domain.HOLD_APPROVAL,
            reason=f"the work exceeds the approved total by more than {margin_percent}%; "
            "waiting for the customer's approval",
        )
    elif not exceeded and job.status == domain.ON_HOLD and job.hold_kind == domain.HOLD_APPROVAL:
        job.status = domain.IN_PROGRESS
        job.hold_kind = job.hold_reason = None
        jobs.status_changed(session, job)


def send_estimate(*, session: Session, job_id: uuid.UUID, data: dict[str, Any], actor: Actor) -> Estimate:
    """Put the lines awaiting approval before the customer, recording exactly what they
    see; by email or SMS that goes out as an ``estimate_ready`` notification."""
    job = jobs.lock_job(session, job_id)
    domain.ensure_not_final(job.status)
    requested = data.get("line_ids")
    if requested:
        candidates = {line.id: line for line in domain.estimate_candidates(job.lines, include=requested)}
        unknown = [str(i) for i in requested if i not in {line.id for line in job.lines}]
        settled = [str(i) for i in requested if i not in candidates and str(i) not in unknown]
        if unknown or settled:
            errors = {}
            if unknown:
                errors["line_ids"] = [f"not lines of this job: {', '.join(unknown)}"]
            if settled:
                errors.setdefault("line_ids", []).append(
                    f"already approved as they are: {', '.join(settled)}"
                )
            raise domain.InvalidDecision(errors)
        lines = [candidates[i] for i in dict.fromkeys(requested)]
    else:
        lines = [line for line in domain.estimate_candidates(job.lines) if line.approval != domain.DECLINED]
    if not lines:
        raise domain.NothingToEstimate()
    for earlier in session.scalars(
        select(Estimate).where(Estimate.job_id == job.id, Estimate.status == domain.ESTIMATE_SENT)
    ):
        earlier.status = domain.ESTIMATE_SUPERSEDED
        # Its link would show the customer lines that are no longer what is asked.
        revoke_links(session, purpose="estimate", resource_id=earlier.id)
    estimate = Estimate(
        job_id=job.id,
        status=domain.ESTIMATE_SENT,
        channel=data["channel"],
        snapshot=domain.estimate_snapshot(lines, currency=job.currency, message=data.get("message")),
        **actor.fields("sent_by"),
        sent_at=utcnow(),
    )
    session.add(estimate)
    session.flush()
    if estimate.channel in domain.NOTIFIED_ESTIMATE_CHANNELS:
        # The customer decides from the message: a link to this estimate on the portal.
        token = issue_link(
            session,
            purpose="estimate",
            resource_id=estimate.id,
            customer_id=job.customer_id,
            valid_for=timedelta(days=domain.ESTIMATE_LINK_DAYS),
        )
        enqueue(
            session,
            notification_management.notify(
                customer_id=job.customer_id,
                type_="estimate_ready",
                data={
                    "job_id": str(job.id),
                    "estimate_id": str(estimate.id),
                    **estimate.snapshot,
                    **jobs.vehicle_fields(job),
                    "link_url": link_url("estimate", token),
                },
                idempotency_key=f"estimate-ready-{estimate.id}",
                channel=estimate.channel,
            ),
        )
    return estimate


def _estimate(session: Session, job_id: uuid.UUID, estimate_id: uuid.UUID) -> Estimate:
    estimate = session.get(Estimate, estimate_id)
    if estimate is None or estimate.job_id != job_id:
        raise domain.EstimateNotFound(job_id, estimate_id)
    return estimate


def get_estimate(*, session: Session, job_id: uuid.UUID, estimate_id: uuid.UUID) -> Estimate:
    jobs.get_job(session=session, job_id=job_id)
    return _estimate(session, job_id, estimate_id)


def list_estimates(*, session: Session, job_id: uuid.UUID, limit: int, cursor: str | None) -> Page:
    jobs.get_job(session=session, job_id=job_id)
    stmt = select(Estimate).where(Estimate.job_id == job_id)
    return keyset_page(session, stmt, key_columns=[Estimate.id], limit=limit, cursor=cursor, descending=True)


def decide_estimate(
    *,
    session: Session,
    job_id: uuid.UUID,
    estimate_id: uuid.UUID,
    data: dict[str, Any],
    actor: Actor,
    margin_percent: int,
) -> Estimate:
    """Record the customer's decision on every line of an estimate: who decided, when,
    through which channel, and the line as they were shown it. An advisor enters it for
    the customer; through the portal the customer enters it themselves (channel
    ``portal``, with ``signature`` and ``client_address``): the same record either way."""
    job = jobs.lock_job(session, job_id)
    domain.ensure_not_final(job.status)
    estimate = _estimate(session, job_id, estimate_id)
    if estimate.status == domain.ESTIMATE_DECIDED and data["channel"] == domain.PORTAL_CHANNEL:
        raise domain.EstimateAlreadyDecided(estimate.id)
    if estimate.status != domain.ESTIMATE_SENT:
        raise domain.EstimateNotOpen(estimate.id, estimate.status)
    decisions: dict[str, bool] = {}
    for entry in data["lines"]:
        key = str(entry["line_id"])
        if key in decisions:
            raise domain.InvalidDecision({"lines": [f"line {key} is decided twice"]})
        decisions[key] = entry["approved"]
    domain.check_decisions(estimate.snapshot, decisions)
    now = utcnow()
    decided_at = data.get("decided_at") or now
    if decided_at > now + jobs.CLOCK_SKEW or decided_at < estimate.sent_at - jobs.CLOCK_SKEW:
        raise domain.InvalidTimes("decided_at", "must lie between sending the estimate and now")
    decided_by = domain.required_text("decided_by", data["decided_by"])
    lines = {str(line.id): line for line in job.lines}
    shown = {entry["line_id"]: entry for entry in estimate.snapshot["lines"]}
    gone = [line_id for line_id in shown if line_id not in lines]
    changed = domain.changed_since_shown([lines[i] for i in shown if i in lines], estimate.snapshot)
    if gone or changed:
        raise domain.EstimateStale([*gone, *changed])
    for line_id, approved in decisions.items():
        line = lines[line_id]
        line.approval = domain.APPROVED if approved else domain.DECLINED
        line.approved_net = line.net_amount if approved else None
        session.add(
            Approval(
                job_id=job.id,
                line_id=line.id,
                estimate_id=estimate.id,
                decision=line.approval,
                decided_by=decided_by,
                channel=data["channel"],
                decided_at=decided_at,
                shown=shown[line_id],
                note=data.get("note"),
                signature=data.get("signature"),
                client_address=data.get("client_address"),
                **actor.fields("recorded_by"),
            )
        )
    estimate.status = domain.ESTIMATE_DECIDED
    estimate.decided_at = decided_at
    jobs.touch(job)
    session.flush()
    apply_approval_rule(session, job, margin_percent=margin_percent)
    session.flush()
    return estimate


def list_approvals(*, session: Session, job_id: uuid.UUID, limit: int, cursor: str | None) -> Page:
    """The audit trail of a job's decisions, newest first."""
    jobs.get_job(session=session, job_id=job_id)
    stmt = select(Approval).where(Approval.job_id == job_id)
    return keyset_page(session, stmt, key_columns=[Approval.id], limit=limit, cursor=cursor, descending=True)
