"""invoicing: the garage's invoices, credit notes and payments."""

from invoicing.app import create_app

__all__ = ["create_app"]
