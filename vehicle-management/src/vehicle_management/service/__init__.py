"""The use cases, one module per part of the service (docs/new-service.md).

- ``vehicles``: register, read, search and change a vehicle; ownership transfers and
  their history; odometer readings.
"""
