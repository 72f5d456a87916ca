"""identity's commands: ``flask --app identity create-admin | rotate-keys | client-secret |
development-accounts``."""

from __future__ import annotations

import secrets
from datetime import timedelta

import click
from flask import Flask, current_app

from identity import domain
from identity.config import development_client_secret
from identity.models import db
from identity.service import accounts, audit, keys


def register(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.password_option(help="at least 12 characters (asked for when not given)")
    def create_admin(email: str, name: str, password: str) -> None:
        """Create an admin account (the first one, or another)."""
        account = accounts.create_account(
            session=db.session(),
            hasher=accounts.password_hasher(current_app.config),
            data={"email": email, "name": name, "roles": ["admin"], "password": password},
            actor="cli",
            address=None,
        )
        db.session.commit()
        click.echo(f"admin {account.email} created ({account.id})")

    @app.cli.command("rotate-keys")
    @click.option(
        "--publish-ahead",
        type=int,
        default=None,
        help="seconds the new key is listed before it signs (default KEY_PUBLISH_AHEAD_SECONDS)",
    )
    def rotate_keys(publish_ahead: int | None) -> None:
        """Make a new signing key: published now, signing after the services' JWKS caches
        have seen it; the old one stays published until its last tokens expired."""
        config = current_app.config
        ahead = config["KEY_PUBLISH_AHEAD_SECONDS"] if publish_ahead is None else publish_ahead
        lifetime = (
            max(config["ACCESS_TOKEN_TTL_SECONDS"], config["ID_TOKEN_TTL_SECONDS"])
            + config["JWT_LEEWAY_SECONDS"]
        )
        key = keys.rotate(
            db.session(), publish_ahead=timedelta(seconds=ahead), token_lifetime=timedelta(seconds=lifetime)
        )
        audit.record(
            db.session(),
            "signing_key_rotated",
            actor="cli",
            kid=key.kid,
            signs_from=key.signs_from.isoformat(),
        )
        db.session.commit()
        click.echo(f"new key {key.kid} published; it signs from {key.signs_from.isoformat()}")

    @app.cli.command("client-secret")
    @click.argument("client_id")
    def client_secret(client_id: str) -> None:
        """Development only: the secret CLIENT_ID's tokens are asked for with (SERVICE_CLIENT_SECRET)."""
        if current_app.config["GARAGE_ENV"] == "production":
            raise click.ClickException("production secrets are set by the operator, not derived")
        click.echo(development_client_secret(current_app.config["JWT_SECRET"], client_id))

    @app.cli.command("development-accounts")
    def development_accounts() -> None:
        """Development only: an account per staff role (<role>@garage.example), each with a
        new random password, printed (`make run` runs this)."""
        if current_app.config["GARAGE_ENV"] == "production":
            raise click.ClickException("production accounts are made by an admin, not by this command")
        hasher = accounts.password_hasher(current_app.config)
        made = []
        for role in domain.STAFF_ROLES:
            password = secrets.token_urlsafe(12)
            account = accounts.ensure_development_account(
                session=db.session(), hasher=hasher, role=role, password=password
            )
            made.append((role, account.email, password))
        db.session.commit()
        for role, email, password in made:
            click.echo(f"{role:11} {email:27} {password}")
