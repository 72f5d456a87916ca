"""What this service asks other services for, coded against the calls agreed in
ARCHITECTURE.md ("Every call between services"). Jobs only make consequence calls,
so each client builds outbox requests (``service_kit.outbox.OutboxRequest``) rather
than calling inline."""
