"""The use cases, one module per part of the service (docs/new-service.md).

- ``customers``: register, read, search, change and erase a customer; the consent ledger.
"""
