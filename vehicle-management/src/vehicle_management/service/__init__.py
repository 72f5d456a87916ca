"""The use cases, one module per part of the service (docs/new-service.md).

- ``vehicles``: register, read, search and change a vehicle; also the owner check
  (``check_owner``) that registration and transfers both ask of customer-management.
- ``ownership``: transfer a vehicle to another customer, and its ownership history.
- ``odometer``: record an odometer reading, and list a vehicle's readings.

Imports go one way: ``ownership`` → ``vehicles`` and ``odometer`` → ``vehicles``.
"""
