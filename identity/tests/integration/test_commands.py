"""The commands: the first admin, and a key rotation."""

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
