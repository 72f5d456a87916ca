"""vehicle-management: the garage's vehicles."""

from vehicle_management.app import create_app

__all__ = ["create_app"]
