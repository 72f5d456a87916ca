"""Alembic, one chain per service, with its version table inside the service's schema.

A service's ``migrations/env.py`` is two lines: it calls ``run_migrations`` with its
metadata. ``upgrade(app)`` applies the chain from code (``flask migrate``, tests).
"""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from flask import Flask
from sqlalchemy import MetaData, create_engine, pool, text

from service_kit.db import NAMING_CONVENTION, engine_options, normalise_url


def alembic_config(app: Flask) -> Config:
    config = Config()
    config.set_main_option("script_location", app.config["MIGRATIONS_LOCATION"])
    config.attributes["flask_config"] = dict(app.config)
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    command.upgrade(alembic_config(app), revision)


def run_migrations(metadata: MetaData) -> None:
    """Body of every service's env.py."""
    schema = metadata.schema
    if schema is None:
        raise ValueError("the service's metadata names no schema (make it with schema_metadata)")
    flask_config = context.config.attributes.get("flask_config")
    if flask_config is None:  # plain `alembic` command line: settings from the environment
        from service_kit.config import kit_settings

        flask_config = kit_settings(service=f"{schema}-migrations", schema=schema)
    options = engine_options(flask_config)
    engine = create_engine(
        normalise_url(flask_config["DATABASE_URL"]),
        poolclass=pool.NullPool,
        # Not the service's schema first: Alembic would take it for the default schema
        # and autogenerate would no longer see the service's tables.
        connect_args={**options["connect_args"], "options": "-c search_path=public"},
    )
    with engine.connect() as connection:
        # Two replicas migrating at once must not interleave: serialise on an advisory lock.
        connection.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, type_, parent: type_ != "schema" or name == schema,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        connection.execute(text("SELECT pg_advisory_unlock(hashtext(:s))"), {"s": f"migrate:{schema}"})


def create_kit_tables(schema: str) -> None:
    """Create the kit's own tables in a service's schema (call from its first migration)."""
    from alembic import op

    from service_kit.idempotency import define_idempotency_table

    table = define_idempotency_table(MetaData(schema=schema, naming_convention=NAMING_CONVENTION))
    table.create(op.get_bind())


def drop_kit_tables(schema: str) -> None:
    from alembic import op

    op.drop_table("idempotency_keys", schema=schema)
