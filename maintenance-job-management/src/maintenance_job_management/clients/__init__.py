"""What this service asks other services for, coded against the calls agreed in
ARCHITECTURE.md ("Every call between services"). Jobs only make consequence calls,
so each client builds outbox requests rather than calling inline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutboxRequest:
    target: str
    method: str
    path: str
    body: dict[str, Any]
    idempotency_key: str
