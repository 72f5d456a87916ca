"""signing keys' private parts encrypted at rest (IDENTITY_KEY_ENCRYPTION_KEY)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 00:10:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "identity"


def _cipher() -> Any:
    # The settings of the app running the migration (flask migrate, tests), else the environment's.
    from identity.config import load_config
    from identity.service.keys import cipher_from

    alembic = op.get_context().config
    config = alembic.attributes.get("flask_config") if alembic is not None else None
    return cipher_from(config if config and "IDENTITY_KEY_ENCRYPTION_KEY" in config else load_config())


def upgrade() -> None:
    op.add_column("signing_keys", sa.Column("private_key_encrypted", sa.Text(), nullable=True), schema=SCHEMA)
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT kid, private_pem FROM identity.signing_keys")).all()
    if rows:
        cipher = _cipher()
        for kid, pem in rows:
            bind.execute(
                sa.text("UPDATE identity.signing_keys SET private_key_encrypted = :encrypted WHERE kid = :kid"),
                {"encrypted": cipher.encrypt(pem.encode()).decode(), "kid": kid},
            )
    op.drop_column("signing_keys", "private_pem", schema=SCHEMA)
    op.alter_column("signing_keys", "private_key_encrypted", nullable=False, schema=SCHEMA)


def downgrade() -> None:
    op.add_column("signing_keys", sa.Column("private_pem", sa.Text(), nullable=True), schema=SCHEMA)
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT kid, private_key_encrypted FROM identity.signing_keys")).all()
    if rows:
        cipher = _cipher()
        for kid, encrypted in rows:
            bind.execute(
                sa.text("UPDATE identity.signing_keys SET private_pem = :pem WHERE kid = :kid"),
                {"pem": cipher.decrypt(encrypted.encode()).decode(), "kid": kid},
            )
    op.drop_column("signing_keys", "private_key_encrypted", schema=SCHEMA)
    op.alter_column("signing_keys", "private_pem", nullable=False, schema=SCHEMA)
