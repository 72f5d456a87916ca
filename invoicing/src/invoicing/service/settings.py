"""The use cases' settings, read from the app's configuration."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from service_kit.clock import utcnow


@dataclass(frozen=True)
class Settings:
    payment_terms_days: int = 14
    timezone: str = "Europe/Amsterdam"
    base_url: str = "http://127.0.0.1:8005"
    reminder_interval_days: int = 7
    reminder_max: int = 3

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            payment_terms_days=config["PAYMENT_TERMS_DAYS"],
            timezone=config["GARAGE_TIMEZONE"],
            base_url=config["INVOICING_URL"],
            reminder_interval_days=config["PAYMENT_REMINDER_INTERVAL_DAYS"],
            reminder_max=config["PAYMENT_REMINDER_MAX"],
        )

    def today(self, now: datetime | None = None) -> date:
        """The date at the garage: what an invoice issued now is dated."""
        return (now or utcnow()).astimezone(ZoneInfo(self.timezone)).date()

    def invoice_pdf_url(self, invoice_id: uuid.UUID) -> str:
        return f"{self.base_url}/api/v1/invoices/{invoice_id}/pdf"

    def credit_note_pdf_url(self, credit_note_id: uuid.UUID) -> str:
        return f"{self.base_url}/api/v1/credit-notes/{credit_note_id}/pdf"
