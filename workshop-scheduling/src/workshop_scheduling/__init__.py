"""workshop-scheduling: when the workshop can take a vehicle in."""

from workshop_scheduling.app import create_app

__all__ = ["create_app"]
