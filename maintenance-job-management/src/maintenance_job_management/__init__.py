"""maintenance-job-management: what is done to a vehicle, by whom, for how much."""

from maintenance_job_management.app import create_app

__all__ = ["create_app"]
