"""customer-management: the garage's customers."""

from customer_management.app import create_app

__all__ = ["create_app"]
