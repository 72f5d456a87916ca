"""workshop-scheduling: ``PUT /api/v1/appointments/{appointment_id}/job`` with the job's
``job_id``, ``job_status``, ``job_version``, ``changed_at`` and, for a cancelled job, the
``reason``, each time the job's status changes (docs/visits.md). Internal to the two
services, role ``service``."""

from __future__ import annotations

import uuid
from datetime import datetime

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
