"""What workshop-scheduling asks other services for, coded against their committed
contracts and the calls agreed in ARCHITECTURE.md ("Every call between services").
Vehicles and jobs are asked inline; notifications are consequences and go through
the outbox, so their client builds outbox requests."""

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
