"""Commands beyond the kit's: the outbox relay and its staff tools.

flask --app maintenance_job_management relay-outbox [--once]
flask --app maintenance_job_management outbox list|retry|purge
"""

from __future__ import annotations

from flask import Flask

from service_kit.outbox import register_outbox_commands


def register_commands(app: Flask) -> None:
    register_outbox_commands(app)
