"""workshop-scheduling, through the outbox, with this service's token (role ``service``):

- ``PUT /api/v1/appointments/{appointment_id}/job`` with the job's ``job_id``,
  ``job_status``, ``job_version``, ``changed_at`` and, for a cancelled job, the
  ``reason``, each time the job's status changes (docs/visits.md);
- ``POST /api/v1/booking-invitations`` with ``type`` ``declined_work``: the work the
  customer declined on a visit, followed up (docs/feedback.md). workshop-scheduling adds
  the booking link and asks notification-management to send it; consent and quiet
  hours are notification-management's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from service_kit.outbox import OutboxRequest

TARGET = "workshop-scheduling"  # base URL from WORKSHOP_SCHEDULING_URL
# An appointment's statuses, as workshop-scheduling reports them to a job.
APPOINTMENT_STATUSES = ("booked", "checked_in", "cancelled", "no_show", "completed")
CHECKED_IN = "checked_in"


def job_status(
    *,
    appointment_id: uuid.UUID,
    job_id: uuid.UUID,
    status: str,
    version: int,
    changed_at: datetime,
    reason: str | None = None,
) -> OutboxRequest:
    # One key per version: a retry is the same request; a later change is a new one.
    # The receiver applies a version once and never one older than it has.
    return OutboxRequest(
        target=TARGET,
        method="PUT",
        path=f"/api/v1/appointments/{appointment_id}/job",
        body={
            "job_id": str(job_id),
            "job_status": status,
            "job_version": version,
            "changed_at": changed_at.isoformat(),
            "reason": reason,
        },
        idempotency_key=f"job-status-{job_id}-v{version}",
    )


INVITATIONS = "/api/v1/booking-invitations"
DECLINED_WORK = "declined_work"


def declined_work_key(job_id: uuid.UUID) -> str:
    """One follow-up per job, whoever asks twice."""
    return f"declined-work-{job_id}"


def declined_work(*, job_id: uuid.UUID, vehicle_id: uuid.UUID, data: dict[str, Any]) -> OutboxRequest:
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path=INVITATIONS,
        body={"vehicle_id": str(vehicle_id), "type": DECLINED_WORK, "data": data},
        idempotency_key=declined_work_key(job_id),
    )
