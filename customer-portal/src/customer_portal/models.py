"""The portal's tables, in the ``customer_portal`` schema. The pages keep no garage data
(that stays in the services, reached through the links); what the portal itself must
remember is the payments it started and their outbox (customer_portal.payments)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from service_kit.db import make_database, schema_metadata

SCHEMA = "customer_portal"


class Model(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


db = make_database(Model)
