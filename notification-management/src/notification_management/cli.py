"""``flask --app notification_management dispatch [--once]``: the delivery process;
``vapid-public-key``: the key the customer portal subscribes browsers with."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask, current_app


def register_commands(app: Flask) -> None:
    @app.cli.command("dispatch")
    @click.option("--once", is_flag=True, help="deliver what is due now, then exit")
    @click.option("--batch", default=100, show_default=True, help="claims between two polls at most")
    def dispatch(once: bool, batch: int) -> None:
        """Deliver accepted notifications by email and SMS (long-running)."""
        from notification_management.dispatcher import Dispatcher

        dispatcher = Dispatcher.for_app(current_app)
        if once:
            stats = dispatcher.run_once()
            click.echo(
                f"sent {stats.sent}, to retry {stats.failed}, dead {stats.dead}, skipped {stats.skipped}"
            )
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        dispatcher.run_forever(stop, poll_seconds=current_app.config["DISPATCH_POLL_SECONDS"], batch=batch)

    @app.cli.command("vapid-public-key")
    def vapid_public_key() -> None:
        """Print the VAPID public key the customer portal subscribes browsers with."""
        from notification_management.push import WebPushSender

        sender = WebPushSender.from_config(current_app.config)
        if sender is None:
            raise click.ClickException("Web Push is off: PUSH_VAPID_PRIVATE_KEY is not set")
        click.echo(sender.public_key)
