"""``flask relay-outbox [--once]`` and ``flask outbox relay|list|retry|purge``."""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from service_kit.db import current_db
from service_kit.outbox.admin import list_messages, purge_delivered, retry_dead_messages, retry_message
from service_kit.outbox.relay import OutboxRelay
from service_kit.outbox.table import DEAD, STATUSES


def register_outbox_commands(
    app: Flask, make_relay: Callable[[Flask], OutboxRelay] = OutboxRelay.for_app
) -> None:
    """``flask relay-outbox [--once]`` and ``flask outbox relay|list|retry|purge``;
    ``make_relay`` builds the relay (a service whose messages carry a token of its own
    making, as identity's, gives its own)."""

    @click.command("relay")
    @click.option("--once", is_flag=True, help="deliver what is due now, then exit")
    @with_appcontext
    def relay(once: bool) -> None:
        """Deliver the outbox to the other services (long-running)."""
        runner = make_relay(current_app._get_current_object())  # type: ignore[attr-defined]  # the app, not its proxy
        if once:
            stats = runner.run_once()
            click.echo(f"delivered {stats.delivered}, to retry {stats.retried}, dead {stats.dead}")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        runner.run_forever(stop, poll_seconds=current_app.config["OUTBOX_POLL_SECONDS"])

    group = AppGroup("outbox", help="Requests to other services waiting in the outbox.")
    group.add_command(relay)

    @group.command("list")
    @click.option("--status", type=click.Choice(STATUSES), default=DEAD, show_default=True)
    @click.option("--limit", default=50, show_default=True)
    def list_command(status: str, limit: int) -> None:
        """List outbox messages with a status, newest first."""
        for row in list_messages(current_db().session(), status=status, limit=limit)["items"]:
            click.echo(
                f"{row.id} {row.target} {row.method} {row.path} attempts={row.attempts} "
                f"last_error={row.last_error or '-'}"
            )

    @group.command("retry")
    @click.argument("message_ids", nargs=-1, type=click.UUID)
    @click.option("--all-dead", is_flag=True, help="every dead message")
    def retry_command(message_ids: tuple[uuid.UUID, ...], all_dead: bool) -> None:
        """Send dead messages again."""
        session = current_db().session()
        if all_dead:
            count = retry_dead_messages(session)
        else:
            for message_id in message_ids:
                retry_message(session, message_id)
            count = len(message_ids)
        session.commit()
        click.echo(f"{count} messages will be sent again")

    @group.command("purge")
    def purge_command() -> None:
        """Delete delivered messages older than OUTBOX_RETENTION_DAYS."""
        session = current_db().session()
        removed = purge_delivered(session, older_than_days=current_app.config["OUTBOX_RETENTION_DAYS"])
        session.commit()
        click.echo(f"removed {removed} delivered messages")

    app.cli.add_command(group)
    app.cli.add_command(relay, "relay-outbox")
