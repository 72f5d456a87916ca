"""`flask --app identity development-token` (what `make token` and `make demo` run against
`make run`): a token of a development account or an active account, signed with the
current key, that the services accept through the JWKS; refused in production and for an
account that is missing or disabled."""

from __future__ import annotations

import jwt
from identity.models import db
from identity.service import accounts, keys


def claims_of(app, token: str) -> dict:
    with app.app_context():
        key = keys.public_key(db.session(), jwt.get_unverified_header(token)["kid"])
        db.session.commit()
    assert key is not None
    return jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        audience=app.config["JWT_AUDIENCE"],
        issuer=app.config["IDENTITY_ISSUER"],
    )


def test_a_token_per_role_and_per_email(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["development-accounts"]).exit_code == 0
    result = runner.invoke(args=["development-token", "advisor", "accountant@garage.example", "--ttl", "600"])
    assert result.exit_code == 0, result.output
    advisor, accountant = result.output.split()
    first = claims_of(app, advisor)
    assert first["roles"] == ["advisor"] and first["name"] == "Development advisor"
    assert first["exp"] - first["iat"] == 600
    assert claims_of(app, accountant)["roles"] == ["accountant"]
    # It is one of identity's own tokens: its admin API takes the admin's.
    admin = runner.invoke(args=["development-token", "admin"]).output.strip()
    answer = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200, answer.get_json()


def test_no_token_for_a_missing_or_disabled_account(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["development-accounts"]).exit_code == 0
    result = runner.invoke(args=["development-token", "nobody@garage.example"])
    assert result.exit_code != 0 and "no active account" in result.output
    with app.app_context():
        account = accounts.find_by_email(session=db.session(), email="technician@garage.example")
        accounts.set_status(
            session=db.session(),
            account_id=account.id,
            status="disabled",
            expected_versions=None,
            actor="test",
            address=None,
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["development-token", "technician"])
    assert result.exit_code != 0 and "no active account" in result.output


def test_refused_in_production(app):
    app.config["GARAGE_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["development-token", "admin"])
    finally:
        app.config["GARAGE_ENV"] = "development"
    assert result.exit_code != 0 and "production" in result.output
