"""The commands: the first admin, a key rotation, the development accounts."""

import jwt
from identity.models import db
from identity.service import keys


def test_create_admin_makes_an_admin_who_can_sign_in(app, client, browser):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "boss@garage.nl",
            "--name",
            "The Boss",
            "--password",
            browser.PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert browser.sign_in("boss@garage.nl").status_code == 302


def test_rotate_keys_publishes_a_new_key(app, client):
    with app.app_context():
        first = keys.current(db.session()).kid
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    listed = {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert first in listed and len(listed) == 2


def test_development_accounts_give_each_role_a_new_password_each_time(app, client, browser):
    for run in range(2):  # a second `make run` on the same database
        result = app.test_cli_runner().invoke(args=["development-accounts"])
        assert result.exit_code == 0, result.output
        rows = [line.split() for line in result.output.splitlines()]
        assert [row[0] for row in rows] == ["admin", "advisor", "technician", "accountant"]
        for role, email, password in rows:
            assert email == f"{role}@garage.example"
            tokens = browser.tokens(email, password)
            claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
            assert claims["roles"] == [role], run


def test_development_accounts_are_refused_in_production(app):
    app.config["GARAGE_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["development-accounts"])
    finally:
        app.config["GARAGE_ENV"] = "development"
    assert result.exit_code != 0 and "production" in result.output
