"""Commands every service has: ``flask --app <package> migrate | token | purge-idempotency-keys``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from service_kit.auth import ROLES, mint_token


def register_migrate(app: Flask) -> None:
    """``flask --app <package> migrate``: every component with a schema has it (the web
    apps too, whose only other commands are their own)."""

    @app.cli.command("migrate")
    @click.option("--revision", default="head", show_default=True)
    def migrate(revision: str) -> None:
        """Apply the service's migrations to its schema."""
        from service_kit.migrations import upgrade

        upgrade(current_app, revision)
        click.echo(f"{current_app.config['DB_SCHEMA']}: migrated to {revision}")


def register_commands(app: Flask) -> None:
    register_migrate(app)

    @app.cli.command("token")
    @click.argument("roles", nargs=-1, required=True, type=click.Choice(ROLES))
    @click.option("--subject", default="dev-user", show_default=True)
    @click.option("--name", default=None, help="the person's display name (the name claim)")
    @click.option("--ttl", default=8 * 3600, show_default=True, help="seconds")
    def token(roles: tuple[str, ...], subject: str, name: str | None, ttl: int) -> None:
        """Print a development token carrying ROLES."""
        click.echo(mint_token(current_app.config, roles=roles, subject=subject, name=name, ttl_seconds=ttl))

    @app.cli.command("purge-idempotency-keys")
    def purge() -> None:
        """Delete Idempotency-Keys older than IDEMPOTENCY_TTL_HOURS."""
        from service_kit.idempotency import purge_expired_keys

        removed = purge_expired_keys(older_than_hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
        click.echo(f"removed {removed} expired idempotency keys")
