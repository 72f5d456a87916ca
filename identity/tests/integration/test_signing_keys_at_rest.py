"""The signing keys' private parts are encrypted at rest with IDENTITY_KEY_ENCRYPTION_KEY:
the table holds no PEM, signing and the JWKS work, a wrong key stops identity at start
with a message naming the setting, and the migration encrypts the keys made before it."""

import jwt
import pytest
from alembic import command
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from identity.models import db
from identity.service import keys

from identity import create_app
from service_kit.migrations import alembic_config, upgrade

from ..conftest import settings


def stored(app):
    with app.app_context():
        rows = db.session.execute(db.text("SELECT * FROM identity.signing_keys")).mappings().all()
        db.session.remove()
    return rows


def service_token(client):
    answer = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("vehicle-management", "vm-secret")
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["access_token"]


def test_the_table_holds_no_pem_and_signing_and_the_jwks_still_work(app, client):
    token = service_token(client)
    (row,) = stored(app)
    assert "private_pem" not in row
    assert "PRIVATE KEY" not in row["private_key_encrypted"] and "-----" not in row["private_key_encrypted"]
    assert not any("PRIVATE KEY" in str(value) for value in row.values())
    # Fernet: the configured key decrypts it to the PEM that signed the token.
    pem = Fernet(app.config["IDENTITY_KEY_ENCRYPTION_KEY"][0]).decrypt(row["private_key_encrypted"].encode())
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # pragma: allowlist secret
    (published,) = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert published["kid"] == row["kid"] == jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, jwt.PyJWK(published).key, algorithms=["ES256"], audience="garage")
    assert claims["sub"] == "vehicle-management"


def test_a_wrong_key_encryption_key_stops_identity_at_start(app, client, fresh_database_url):
    service_token(client)  # a key is stored, encrypted with the configured key
    wrong = Fernet.generate_key().decode()
    with pytest.raises(keys.KeyDecryptionFailed, match="IDENTITY_KEY_ENCRYPTION_KEY"):
        create_app(settings(fresh_database_url, IDENTITY_KEY_ENCRYPTION_KEY=[wrong]))
    # The new key first, the old one after it: identity starts and still signs with the old key.
    both = create_app(
        settings(
            fresh_database_url,
            IDENTITY_KEY_ENCRYPTION_KEY=[wrong, *app.config["IDENTITY_KEY_ENCRYPTION_KEY"]],
        )
    )
    assert service_token(both.test_client())


def test_the_migration_encrypts_the_keys_made_before_it(app, client):
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    command.downgrade(alembic_config(app), "0001")
    try:
        with app.app_context():
            db.session.execute(
                db.text(
                    "INSERT INTO identity.signing_keys (kid, algorithm, private_pem, public_jwk, created_at, "
                    "signs_from) VALUES ('old', 'ES256', :pem, '{}', now(), now())"
                ),
                {"pem": pem},
            )
            db.session.commit()
            db.session.remove()
    finally:
        upgrade(app)
    (row,) = stored(app)
    assert row["kid"] == "old" and "PRIVATE KEY" not in row["private_key_encrypted"]
    assert keys.decrypt_pem(keys.cipher_from(app.config), "old", row["private_key_encrypted"]) == pem
