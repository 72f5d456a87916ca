"""What the documents a job hands out are drawn from: an estimate with its job (what
the customer was shown), and the job itself for its work order. Read only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from maintenance_job_management.models import Estimate, Job
from maintenance_job_management.service import approvals, jobs


@dataclass(frozen=True)
class EstimateWithJob:
    estimate: Estimate
    job: Job


def estimate(*, session: Session, job_id: uuid.UUID, estimate_id: uuid.UUID) -> EstimateWithJob:
    shown = approvals.get_estimate(session=session, job_id=job_id, estimate_id=estimate_id)
    return EstimateWithJob(shown, jobs.get_job(session=session, job_id=job_id))


def work_order(*, session: Session, job_id: uuid.UUID) -> Job:
    return jobs.get_job(session=session, job_id=job_id)
