"""invoicing: ``POST /api/v1/invoices`` with ``{job_id}``, one invoice per job."""

from __future__ import annotations

import uuid

from service_kit.outbox import OutboxRequest

TARGET = "invoicing"  # base URL from INVOICING_URL


def invoice_job(job_id: uuid.UUID) -> OutboxRequest:
    # Invoicing pulls the job's lines itself (GET /api/v1/maintenance-jobs/{id}), so the
    # invoice reflects the job as completed, not a copy sent along.
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path="/api/v1/invoices",
        body={"job_id": str(job_id)},
        idempotency_key=f"invoice-{job_id}",
    )
