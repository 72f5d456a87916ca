"""The use cases, one module per part of the service (docs/new-service.md); delivery
itself is the dispatcher's (dispatcher.py).

- ``notifications``: accept a notification (idempotent per source and key), read,
  list, retry a failed one;
- ``templates``: the message templates per type and language: list, read, put
  (versioned), preview with sample data.
"""
