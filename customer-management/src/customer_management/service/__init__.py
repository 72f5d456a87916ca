"""The use cases, one module per part of the service (docs/new-service.md).

- ``customers``: register, read, list, change and erase a customer; the consent ledger.
- ``search``: ``q`` at a million customers: ranks, each read from its own index.
"""
