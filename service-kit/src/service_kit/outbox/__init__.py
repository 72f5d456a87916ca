"""The transactional outbox: requests to other services that are consequences of a
change ("the job is done, so invoice it"), written in the same transaction as the
change and delivered afterwards by a relay, with retries, until the receiver has them.

- ``table``: ``make_database(schema, tables=(..., define_outbox_table))`` puts the
  ``outbox_messages`` table in the service's metadata; the service's migration calls
  ``create_outbox_table(schema)``.
- ``enqueueing``: ``enqueue(session, OutboxRequest(target, method, path, body,
  idempotency_key))`` adds a row in the caller's transaction and nothing else: no
  I/O, so the change and its requests commit or roll back together. One (target, key)
  is one row.
- ``relay``: ``OutboxRelay`` (``flask --app <package> relay-outbox [--once]``) claims
  one due row at a time with ``SELECT ... FOR UPDATE SKIP LOCKED`` and holds that row
  lock while it delivers, so relays running side by side never send one row at the
  same time. It sends through a ``send(message)`` seam; the default (``HttpSender``)
  is the kit's ``ServiceClient`` for the row's target (``<TARGET>_URL``, timeouts,
  breaker, service token). Every request carries the row's ``Idempotency-Key``; after
  a crash a row may go out again, and the receiver's idempotency makes that harmless
  (at-least-once delivery, effect exactly once).
- Outcomes (``classify``): 2xx is delivered; no answer, a timeout, 5xx, 408, 409, 425
  and 429 are retried with exponential backoff and jitter; any other answer (400,
  401, 403, 404, 422, a redirect ...) would be the same next time, so the row goes
  ``dead`` at once, as it does when the attempts run out.
- ``admin`` and ``commands``: dead rows stay, visible through the staff endpoints
  (``outbox_blueprint``) and ``flask outbox list``, and staff send them again with
  ``retry``. Rows are never deleted except delivered ones past retention.

docs/outbox.md records why.
"""

from service_kit.outbox.admin import (
    OutboxMessagePageSchema,
    OutboxMessageQueryArgsSchema,
    OutboxMessageSchema,
    get_message,
    list_messages,
    outbox_blueprint,
    purge_delivered,
    retry_dead_messages,
    retry_message,
)
from service_kit.outbox.commands import register_outbox_commands
from service_kit.outbox.enqueueing import METHODS, OutboxRequest, enqueue
from service_kit.outbox.relay import (
    DELIVERIES,
    MAX_ERROR_LENGTH,
    RETRY,
    RETRYABLE_4XX,
    HttpSender,
    OutboxMessage,
    OutboxRelay,
    RelayStats,
    Sender,
    SendResult,
    UnknownTarget,
    classify,
    outbox_settings,
    target_setting,
)
from service_kit.outbox.table import (
    DEAD,
    DELIVERED,
    OUTBOX_TABLE,
    PENDING,
    STATUSES,
    create_outbox_table,
    define_outbox_table,
    drop_outbox_table,
    outbox_table,
)

__all__ = [
    "DEAD",
    "DELIVERED",
    "DELIVERIES",
    "MAX_ERROR_LENGTH",
    "METHODS",
    "OUTBOX_TABLE",
    "PENDING",
    "RETRY",
    "RETRYABLE_4XX",
    "STATUSES",
    "HttpSender",
    "OutboxMessage",
    "OutboxMessagePageSchema",
    "OutboxMessageQueryArgsSchema",
    "OutboxMessageSchema",
    "OutboxRelay",
    "OutboxRequest",
    "RelayStats",
    "SendResult",
    "Sender",
    "UnknownTarget",
    "classify",
    "create_outbox_table",
    "define_outbox_table",
    "drop_outbox_table",
    "enqueue",
    "get_message",
    "list_messages",
    "outbox_blueprint",
    "outbox_settings",
    "outbox_table",
    "purge_delivered",
    "register_outbox_commands",
    "retry_dead_messages",
    "retry_message",
    "target_setting",
]
