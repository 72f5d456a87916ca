"""What workshop-scheduling asks other services for, coded against their committed
contracts and the calls agreed in ARCHITECTURE.md ("Every call between services").
Vehicles and jobs are asked inline; notifications are consequences and go through
the outbox, so their client builds outbox requests
(``service_kit.outbox.OutboxRequest``)."""
