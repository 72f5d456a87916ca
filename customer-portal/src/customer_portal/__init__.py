"""customer-portal: the garage's public pages for its customers, reached from links."""

from customer_portal.app import create_app

__all__ = ["create_app"]
