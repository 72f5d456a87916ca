"""Password reset by an emailed one-time link: the request (the same answer for every
email, throttled per address and per account), the email through identity's outbox to
notification-management (faked at the HTTP boundary, checked against its contract), and
the link: once, not after it expired or a newer one was sent, ending every session."""

import hashlib
import logging
import re
import time
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from identity.models import db

from identity import outbox
from service_kit.clock import utcnow
from service_kit.outbox import OutboxRelay

from ..conftest import csrf_token


def page_form(client, path, **query):
    page = client.get(path, query_string=query)
    return page, csrf_token(page.get_data(as_text=True))


def ask(client, email, *, language="en", **query):
    page, token = page_form(client, "/oauth/password-reset", **query)
    assert page.status_code == 200
    return client.post(
        "/oauth/password-reset",
        query_string=query,
        data={"email": email, "csrf_token": token, "return_to": query.get("return_to", "")},
        headers={"Accept-Language": language},
    )


def relay(app):
    with app.app_context():
        return outbox.relay(app).run_once()


def link_of(notification):
    return notification["data"]["link"]


def token_of(link):
    return parse_qs(urlsplit(link).query)["token"][0]


def set_password(client, link, password, repeated=None):
    page = client.get("/oauth/password-reset/new", query_string={"token": token_of(link)})
    if page.status_code != 200:
        return page
    csrf = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/oauth/password-reset/new",
        data={
            "token": token_of(link),
            "password": password,
            "repeated": password if repeated is None else repeated,
            "csrf_token": csrf,
        },
    )


NEW_PASSWORD = "a much newer passphrase"  # pragma: allowlist secret


def events(client, admin, kind):
    return client.get(f"/api/v1/audit-events?kind={kind}", headers=admin).get_json()["items"]


def text_of(response):
    """The page as a person reads it: what differs between two answers, the CSRF token aside."""
    html = response.get_data(as_text=True)
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def test_the_sign_in_page_links_to_it(client, browser):
    query = {"response_type": "code", "client_id": browser.CONSOLE, "redirect_uri": browser.REDIRECT_URI}
    html = client.get("/oauth/authorize", query_string=query, headers={"Accept-Language": "nl"}).get_data(
        as_text=True
    )
    (href,) = re.findall(r'<a href="([^"]+)">Wachtwoord vergeten\?</a>', html)
    href = unescape(href)
    assert href.startswith("/oauth/password-reset?return_to=")
    page = client.get(href, headers={"Accept-Language": "nl"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="nl">' in html
    assert '<label for="email">E-mailadres</label>' in html and 'name="csrf_token"' in html
    # Back to the very sign-in page it came from.
    assert 'href="/oauth/authorize?' in html


def test_a_request_emails_a_link_through_notification_management(
    app, client, admin, notifications, make_account
):
    account = make_account(name="Anna de Vries")
    answer = ask(client, account["email"].upper(), language="nl")
    assert answer.status_code == 200
    assert "Als er een account met dit e-mailadres bestaat" in answer.get_data(as_text=True)
    assert notifications.notifications == []  # in the outbox, sent by the relay
    assert relay(app).delivered == 1
    (request,) = notifications.received("/api/v1/notifications")
    # identity's own service token, signed with its key (what the services trust).
    bearer = request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(bearer, options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], jwt.get_unverified_header(bearer)["alg"]) == (
        "identity",
        ["service"],
        "ES256",
    )
    sent = request.json
    assert request.headers["Idempotency-Key"].startswith("password-reset-")
    assert sent["type"] == "password_reset" and "customer_id" not in sent
    assert sent["addressee"] == {"email": account["email"], "name": "Anna de Vries", "language": "nl"}
    assert sent["data"]["expires_minutes"] == 30
    link = link_of(sent)
    assert link.startswith(app.config["IDENTITY_ISSUER"] + "/oauth/password-reset/new?token=")
    # The token is kept only as its hash.
    with app.app_context():
        stored = db.session.execute(
            db.text("SELECT token_hash FROM identity.password_reset_tokens")
        ).scalars()
        assert list(stored) == [hashlib.sha256(token_of(link).encode()).hexdigest()]
        db.session.remove()
    (event,) = events(client, admin, "password_reset_requested")
    assert event["actor"] == account["email"] and event["account_id"] == account["id"]
    assert event["address"] == "127.0.0.1" and event["detail"]["outcome"] == "sent" and event["at"]


def test_an_unknown_or_disabled_email_answers_the_same_and_sends_nothing(
    app, client, admin, notifications, make_account
):
    known = make_account()
    disabled = make_account()
    client.post(f"/api/v1/accounts/{disabled['id']}/disable", headers=admin)
    answers = [ask(client, email) for email in (known["email"], "nobody@garage.nl", disabled["email"])]
    assert {a.status_code for a in answers} == {200}
    assert text_of(answers[0]) == text_of(answers[1]) == text_of(answers[2])
    relay(app)
    assert [n["addressee"]["email"] for n in notifications.notifications] == [known["email"]]
    outcomes = [e["detail"]["outcome"] for e in events(client, admin, "password_reset_requested")]
    assert sorted(outcomes) == ["disabled", "sent", "unknown_email"]


def test_every_answer_takes_the_same_least_time(app, client, make_account):
    account = make_account()
    app.config["PASSWORD_RESET_ANSWER_SECONDS"] = 0.2
    try:
        for email in (account["email"], "nobody@garage.nl"):
            started = time.monotonic()
            assert ask(client, email).status_code == 200
            assert time.monotonic() - started >= 0.2
    finally:
        app.config["PASSWORD_RESET_ANSWER_SECONDS"] = 0.0


def test_the_link_works_once(app, client, admin, browser, notifications, make_account):
    account = make_account()
    ask(client, account["email"])
    relay(app)
    link = link_of(notifications.notifications[0])
    done = set_password(client, link, NEW_PASSWORD)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Your new password is set" in done.get_data(as_text=True)
    assert browser.sign_in(account["email"]).status_code == 401  # the old password
    assert browser.tokens(account["email"], NEW_PASSWORD)["access_token"]
    again = set_password(client, link, "yet another passphrase")
    assert again.status_code == 400 and "no longer works" in again.get_data(as_text=True)
    (event,) = events(client, admin, "password_reset")
    assert event["actor"] == account["email"] and event["address"] == "127.0.0.1"
    assert event["account_id"] == account["id"]


def test_an_expired_link_does_not_work(app, client, browser, notifications, make_account):
    account = make_account()
    ask(client, account["email"])
    relay(app)
    with app.app_context():
        db.session.execute(
            db.text("UPDATE identity.password_reset_tokens SET expires_at = now() - interval '1 second'")
        )
        db.session.commit()
        db.session.remove()
    link = link_of(notifications.notifications[0])
    assert client.get("/oauth/password-reset/new", query_string={"token": token_of(link)}).status_code == 400
    assert set_password(client, link, NEW_PASSWORD).status_code == 400
    assert browser.sign_in(account["email"]).status_code == 302  # the password is as it was


def test_a_newer_link_supersedes_the_older(app, client, notifications, make_account):
    account = make_account()
    ask(client, account["email"])
    ask(client, account["email"])
    relay(app)
    older, newer = (link_of(n) for n in notifications.notifications)
    assert set_password(client, older, NEW_PASSWORD).status_code == 400
    assert set_password(client, newer, NEW_PASSWORD).status_code == 200


def test_a_reset_ends_every_session_and_lifts_a_lock(
    app, client, admin, browser, notifications, make_account
):
    account = make_account()
    tokens = browser.tokens(account["email"])
    for _ in range(app.config["SIGN_IN_ACCOUNT_FAILURES"]):
        browser.sign_in(account["email"], "not the password at all")
    assert client.get(f"/api/v1/accounts/{account['id']}", headers=admin).get_json()["lock"]
    ask(client, account["email"])
    relay(app)
    assert set_password(client, link_of(notifications.notifications[0]), NEW_PASSWORD).status_code == 200
    assert browser.refresh(tokens["refresh_token"]).status_code == 400
    seen = client.get(f"/api/v1/accounts/{account['id']}", headers=admin).get_json()
    assert seen["lock"] is None
    assert events(client, admin, "password_reset")[0]["detail"]["refresh_tokens_revoked"] == 1
    assert browser.sign_in(account["email"], NEW_PASSWORD).status_code == 302


def test_the_new_password_follows_the_rules_and_is_typed_twice(app, client, notifications, make_account):
    account = make_account(name="Piet Jansen")
    ask(client, account["email"])
    relay(app)
    link = link_of(notifications.notifications[0])
    short = set_password(client, link, "too short")
    assert short.status_code == 422 and 'role="alert"' in short.get_data(as_text=True)
    assert set_password(client, link, "piet jansen").status_code == 422  # the name... and short
    assert set_password(client, link, account["email"]).status_code == 422
    assert set_password(client, link, NEW_PASSWORD, "something else entirely").status_code == 422
    assert set_password(client, link, NEW_PASSWORD).status_code == 200  # the link still worked


def test_requests_are_throttled_per_account_silently_and_per_address_openly(
    app, client, admin, notifications, make_account
):
    account = make_account()
    limit = app.config["PASSWORD_RESET_ACCOUNT_REQUESTS"]
    answers = [ask(client, account["email"]) for _ in range(limit + 1)]
    # The account's extra request answers as every other: nobody learns it exists.
    assert [a.status_code for a in answers] == [200] * (limit + 1)
    assert text_of(answers[0]) == text_of(answers[-1])
    relay(app)
    assert len(notifications.notifications) == limit
    assert events(client, admin, "password_reset_requested")[0]["detail"]["outcome"] == "account_throttled"
    app.config["PASSWORD_RESET_ADDRESS_REQUESTS"] = limit + 3
    try:
        assert ask(client, "someone@garage.nl").status_code == 200
        assert ask(client, "someone.else@garage.nl").status_code == 200
        blocked = ask(client, "a.third@garage.nl")
        assert blocked.status_code == 429 and "Too many requests" in blocked.get_data(as_text=True)
    finally:
        app.config["PASSWORD_RESET_ADDRESS_REQUESTS"] = 10


def test_a_form_without_its_csrf_token_is_refused(client, notifications, make_account):
    account = make_account()
    client.get("/oauth/password-reset")
    answer = client.post("/oauth/password-reset", data={"email": account["email"], "csrf_token": "forged"})
    assert answer.status_code == 400


def test_it_goes_back_only_to_a_sign_in_page(client):
    html = client.get("/oauth/password-reset", query_string={"return_to": "https://evil.example/"}).get_data(
        as_text=True
    )
    assert "evil.example" not in html


def test_notification_management_down_answers_the_same_and_the_email_goes_later(
    app, client, notifications, make_account, caplog
):
    account = make_account()
    notifications.failing = 503
    answer = ask(client, account["email"])
    assert answer.status_code == 200 and "If an account with this email address exists" in answer.get_data(
        as_text=True
    )
    with caplog.at_level(logging.INFO):
        stats = relay(app)
    assert stats.retried == 1
    assert any("retry" in record.getMessage() for record in caplog.records)
    with app.app_context():
        (row,) = db.session.execute(
            db.text("SELECT status, attempts, last_error FROM identity.outbox_messages")
        ).all()
        db.session.remove()
    assert row.status == "pending" and row.attempts == 1 and "503" in row.last_error
    notifications.failing = None
    later = utcnow() + timedelta(hours=1)
    with app.app_context():
        again = OutboxRelay.for_app(app, send=outbox.sender(app), clock=lambda: later).run_once()
    assert again.delivered == 1
    # The same request again (refused once with 503, taken now), under the same key.
    first, second = notifications.received("/api/v1/notifications")
    assert first.json == second.json and first.json["addressee"]["email"] == account["email"]
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_the_email_goes_right_after_the_answer(app, client, notifications, make_account):
    account = make_account()
    app.config["PASSWORD_RESET_SEND_AT_ONCE"] = True
    try:
        answer = ask(client, account["email"])
        answer.close()  # the server is done with the answer: call_on_close runs
    finally:
        app.config["PASSWORD_RESET_SEND_AT_ONCE"] = False
    assert [n["addressee"]["email"] for n in notifications.notifications] == [account["email"]]


def test_identity_signs_its_own_service_token(app, client):
    token = outbox.own_service_token(app)()
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in client.get("/.well-known/jwks.json").get_json()["keys"] if k["kid"] == kid]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"], audience=app.config["JWT_AUDIENCE"])
    assert (claims["sub"], claims["roles"], claims["iss"]) == (
        "identity",
        ["service"],
        app.config["IDENTITY_ISSUER"],
    )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_pages_are_labelled_in_both_languages(client, language):
    html = client.get("/oauth/password-reset", headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'<html lang="{language}">' in html and '<label for="email">' in html
