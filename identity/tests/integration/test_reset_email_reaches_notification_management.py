"""The reset email end to end over HTTP, as deployed: identity (a real server, its issuer
and key set) and notification-management (a real server trusting identity's key set and
issuer, as in compose and Kubernetes). identity's relay delivers the outbox row with
identity's own service token; notification-management takes it as a password_reset to
the person's address."""

from __future__ import annotations

import pytest
from identity.models import SCHEMA, db
from identity.service import accounts

from identity import create_app, outbox
from service_kit.migrations import upgrade
from service_kit.testing import served, truncate_schema

from ..conftest import PASSWORD, csrf_token, settings


def test_notification_management_takes_identitys_reset_email(identity_server, fresh_database_url):
    pytest.importorskip("notification_management")
    from notification_management import create_app as create_notification_management
    from notification_management.models import db as notifications_db

    issuer, _ = identity_server
    receiver = create_notification_management(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "RATE_LIMIT_ENABLED": False,
            "JWT_ISSUER": issuer,
            "JWT_JWKS_URL": f"{issuer}/.well-known/jwks.json",
            "JWT_ALGORITHMS": ["ES256"],
        }
    )
    upgrade(receiver)
    with served(receiver) as receiver_url:
        app = create_app(
            settings(
                fresh_database_url,
                IDENTITY_ISSUER=issuer,
                NOTIFICATION_MANAGEMENT_URL=receiver_url,
                PASSWORD_RESET_SEND_AT_ONCE=False,
            )
        )
        try:
            with app.app_context():
                accounts.create_account(
                    session=db.session(),
                    hasher=accounts.password_hasher(app.config),
                    data={
                        "email": "anna@garage.nl",
                        "name": "Anna",
                        "roles": ["advisor"],
                        "password": PASSWORD,
                    },
                    actor="test",
                    address=None,
                )
                db.session.commit()
            client = app.test_client()
            page = client.get("/oauth/password-reset")
            answer = client.post(
                "/oauth/password-reset",
                data={"email": "anna@garage.nl", "csrf_token": csrf_token(page.get_data(as_text=True))},
                headers={"Accept-Language": "nl"},
            )
            assert answer.status_code == 200
            with app.app_context():
                stats = outbox.relay(app).run_once()
            assert (stats.delivered, stats.retried, stats.dead) == (1, 0, 0)
            with receiver.app_context():
                (row,) = notifications_db.session.execute(
                    notifications_db.text(
                        "SELECT type, addressee, requested_by, status, data FROM notifications.notifications"
                    )
                ).all()
                notifications_db.session.remove()
            assert (row.type, row.requested_by, row.status) == ("password_reset", "identity", "pending")
            assert row.addressee == {"email": "anna@garage.nl", "name": "Anna", "language": "nl"}
            assert row.data["link"].startswith(f"{issuer}/oauth/password-reset/new?token=")
        finally:
            with app.app_context():
                db.session.remove()
                truncate_schema(db.engine, SCHEMA)
            # Only what this test made: notification-management's own tests keep their templates.
            with receiver.app_context(), notifications_db.engine.begin() as connection:
                connection.exec_driver_sql(
                    "DELETE FROM notifications.notifications WHERE type = 'password_reset'"
                )
                connection.exec_driver_sql(
                    "DELETE FROM notifications.idempotency_keys WHERE key LIKE 'password-reset-%%'"
                )
