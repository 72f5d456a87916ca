"""notification-management: telling the garage's customers, by email and SMS."""

from notification_management.app import create_app

__all__ = ["create_app"]
