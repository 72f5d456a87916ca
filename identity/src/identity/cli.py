"""identity's commands: ``flask --app identity create-admin | rotate-keys | client-secret |
development-accounts | development-token``."""

from __future__ import annotations

import secrets
from datetime import timedelta

import click
from flask import Flask, current_app

from identity import domain, oauth
from identity.models import db
from identity.service import accounts, audit, keys
from service_kit.config import development_client_secret


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

    @app.cli.command("development-token")
    @click.argument("who", nargs=-1, required=True)
    @click.option("--ttl", type=click.IntRange(60, 12 * 3600), default=3600, help="seconds (default 3600)")
    def development_token(who: tuple[str, ...], ttl: int) -> None:
        """Development only: an access token for each WHO, a staff role (its development
        account, <role>@garage.example) or an active account's email, one a line, signed
        with the current key (`make token` and `make demo` run this)."""
        if current_app.config["GARAGE_ENV"] == "production":
            raise click.ClickException("production tokens are issued by signing in, not by this command")
        session = db.session()
        # A person's claims do not depend on the client (it is named only in a service's token).
        client = next(iter(oauth.clients().values()))
        tokens = []
        for item in who:
            email = f"{item}@garage.example" if item in domain.STAFF_ROLES else item
            account = accounts.find_by_email(session=session, email=email)
            if account is None or account.status != "active":
                raise click.ClickException(f"no active account {email} (`make run` makes one per role)")
            claims = oauth.access_token_claims(client, account)
            tokens.append(keys.sign(session, {**claims, "exp": claims["iat"] + ttl}))
            audit.record(session, "token_issued", actor="cli", account_id=account.id, grant="development")
        db.session.commit()
        click.echo("\n".join(tokens))
