"""The authorization code flow with PKCE through the sign-in page, refresh token
rotation, client credentials, revocation, userinfo and the keys: every refusal too."""

import re
import time
from datetime import timedelta

import jwt
import pyotp
import pytest
from identity.models import db
from identity.service import keys

from service_kit.auth import mint_token
from service_kit.config import kit_settings
from service_kit.testing import assert_problem


def claims_of(app, token):
    header = jwt.get_unverified_header(token)
    with app.app_context():
        key = keys.public_key(db.session(), header["kid"])
    return jwt.decode(token, key, algorithms=["ES256"], audience=app.config["JWT_AUDIENCE"])


def test_discovery_and_jwks(client, app):
    config = client.get("/.well-known/openid-configuration").get_json()
    assert config["issuer"] == app.config["IDENTITY_ISSUER"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("vehicle-management", "vm-secret")
    )
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [k["alg"] for k in jwks["keys"]] == ["ES256"]
    assert all("d" not in k for k in jwks["keys"])  # never the private part


def test_code_flow_gives_the_claims_the_services_check(client, app, browser, make_account):
    account = make_account(name="Anna de Vries", roles=["advisor", "technician"])
    tokens = browser.tokens(account["email"])
    claims = claims_of(app, tokens["access_token"])
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "name", "roles"}
    assert claims["sub"] == account["id"] and claims["name"] == "Anna de Vries"
    assert claims["roles"] == ["advisor", "technician"]
    assert claims["exp"] - claims["iat"] == app.config["ACCESS_TOKEN_TTL_SECONDS"] == tokens["expires_in"]
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_token["aud"] == [browser.CONSOLE] and id_token["sub"] == account["id"]
    info = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).get_json()
    assert info["sub"] == account["id"] and info["email"] == account["email"]


def test_its_own_tokens_open_the_admin_api(client, browser, make_account):
    account = make_account(roles=["admin"])
    token = browser.tokens(account["email"])["access_token"]
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_development_token_opens_the_admin_api_as_it_opens_the_services(client):
    # `make token ROLE=admin` (another service's development config): the development
    # key and issuer, which identity accepts in development beside its own tokens.
    config = kit_settings(service="customer-management", schema="customers", env={})
    token = mint_token(config, roles=["admin"])
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_wrong_password_is_refused_and_recorded(client, admin, browser, make_account):
    account = make_account()
    response = browser.sign_in(account["email"], "not the password at all")
    assert response.status_code == 401
    assert "wrong" in response.get_data(as_text=True)
    event = client.get("/api/v1/audit-events?kind=sign_in_failed", headers=admin).get_json()["items"][0]
    assert event["detail"]["reason"] == "wrong_password" and event["address"] == "127.0.0.1"
    assert client.get(f"/api/v1/accounts/{account['id']}", headers=admin).get_json()["failed_attempts"] == 1


def test_repeated_failures_lock_the_account_visibly(client, app, admin, browser, make_account):
    account = make_account()
    for _ in range(app.config["SIGN_IN_ACCOUNT_FAILURES"]):
        browser.sign_in(account["email"], "not the password at all")
    locked = browser.sign_in(account["email"])  # even the right password
    assert locked.status_code == 429
    seen = client.get(f"/api/v1/accounts/{account['id']}", headers=admin).get_json()
    assert seen["lock"] is not None
    kinds = {e["kind"] for e in client.get("/api/v1/audit-events", headers=admin).get_json()["items"]}
    assert "account_locked" in kinds
    client.post(f"/api/v1/accounts/{account['id']}/unlock", headers=admin)
    assert browser.sign_in(account["email"]).status_code == 302


def test_an_address_with_many_failures_is_refused(client, app, browser, make_account):
    account = make_account()
    app.config["SIGN_IN_ADDRESS_FAILURES"] = 3
    try:
        for n in range(3):
            browser.sign_in(f"nobody{n}@garage.nl", "whatever password")
        assert browser.sign_in(account["email"]).status_code == 429
    finally:
        app.config["SIGN_IN_ADDRESS_FAILURES"] = 20


def test_a_disabled_account_cannot_sign_in(client, admin, browser, make_account):
    account = make_account()
    client.post(f"/api/v1/accounts/{account['id']}/disable", headers=admin)
    assert browser.sign_in(account["email"]).status_code == 401


def test_a_form_without_its_csrf_token_is_refused(client, browser, make_account):
    account = make_account()
    response = client.post(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": browser.CONSOLE,
            "redirect_uri": browser.REDIRECT_URI,
        },
        data={"email": account["email"], "password": browser.PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400


def test_an_unregistered_redirect_uri_is_never_redirected_to(client, browser):
    response = client.get(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": browser.CONSOLE,
            "redirect_uri": "https://evil.example/callback",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_code_is_exchanged_once(browser, make_account):
    account = make_account()
    response = browser.sign_in(account["email"])
    code = browser.code_from(response)
    assert browser.exchange(code, response.verifier).status_code == 200
    again = browser.exchange(code, response.verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(browser, make_account):
    account = make_account()
    response = browser.sign_in(account["email"])
    answer = browser.exchange(browser.code_from(response), "a" * 64)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"


def test_refresh_rotates_and_a_reused_token_ends_the_family(browser, make_account):
    account = make_account()
    first = browser.tokens(account["email"])
    second = browser.refresh(first["refresh_token"])
    assert second.status_code == 200
    rotated = second.get_json()["refresh_token"]
    assert rotated != first["refresh_token"]
    replay = browser.refresh(first["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    # The replay revoked the family: the rotated token, though never used, stops too.
    assert browser.refresh(rotated).status_code == 400


def test_an_expired_refresh_token_is_refused(app, browser, make_account):
    account = make_account()
    tokens = browser.tokens(account["email"])
    with app.app_context():
        db.session.execute(
            db.text("UPDATE identity.refresh_tokens SET expires_at = now() - interval '1 second'")
        )
        db.session.commit()
    assert browser.refresh(tokens["refresh_token"]).status_code == 400


def test_disabling_an_account_stops_its_refresh_tokens_at_once(client, admin, browser, make_account):
    account = make_account()
    tokens = browser.tokens(account["email"])
    client.post(f"/api/v1/accounts/{account['id']}/disable", headers=admin)
    assert browser.refresh(tokens["refresh_token"]).status_code == 400


def test_revocation_ends_a_refresh_token(client, browser, make_account):
    account = make_account()
    tokens = browser.tokens(account["email"])
    revoked = client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(browser.CONSOLE, browser.CONSOLE_SECRET),
    )
    assert revoked.status_code == 200
    assert browser.refresh(tokens["refresh_token"]).status_code == 400


def test_client_credentials_name_the_service(client, app, admin):
    answer = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("vehicle-management", "vm-secret")
    )
    assert answer.status_code == 200, answer.get_json()
    token = answer.get_json()
    assert "refresh_token" not in token
    claims = claims_of(app, token["access_token"])
    assert (claims["sub"], claims["roles"], claims["name"]) == (
        "vehicle-management",
        ["service"],
        "vehicle-management",
    )
    event = client.get("/api/v1/audit-events?kind=token_issued", headers=admin).get_json()["items"][0]
    assert event["client_id"] == "vehicle-management"
    wrong = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("vehicle-management", "nope")
    )
    assert wrong.status_code == 401


def test_the_portal_gets_the_portal_role_and_nothing_more(client, app):
    answer = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("customer-portal", "portal-secret")
    )
    assert answer.status_code == 200, answer.get_json()
    claims = claims_of(app, answer.get_json()["access_token"])
    assert (claims["sub"], claims["roles"]) == ("customer-portal", ["portal"])
    refused = client.get(
        "/oauth/authorize",
        query_string={"response_type": "code", "client_id": "customer-portal", "redirect_uri": "http://x/cb"},
    )
    assert refused.status_code == 400


def test_a_service_cannot_use_the_code_flow(client, browser):
    response = client.get(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": "vehicle-management",
            "redirect_uri": browser.REDIRECT_URI,
        },
    )
    assert response.status_code == 400


def test_rotation_publishes_ahead_and_retires_after(client, app, browser, make_account):
    account = make_account(roles=["admin"])
    old_token = browser.tokens(account["email"])["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    with app.app_context():
        new = keys.rotate(
            db.session(), publish_ahead=timedelta(seconds=60), token_lifetime=timedelta(seconds=300)
        )
        db.session.commit()
        new_kid = new.kid
    listed = {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert listed == {old_kid, new_kid}
    # Published, not signing yet: tokens still come from the old key.
    assert jwt.get_unverified_header(browser.tokens(account["email"])["access_token"])["kid"] == old_kid
    with app.app_context():
        db.session.execute(
            db.text(
                "UPDATE identity.signing_keys SET signs_from = now() - interval '1 second' WHERE kid = :k"
            ),
            {"k": new_kid},
        )
        db.session.execute(
            db.text(
                "UPDATE identity.signing_keys SET retired_at = now() - interval '1 second', "
                "published_until = now() - interval '1 second' WHERE kid = :k"
            ),
            {"k": old_kid},
        )
        db.session.commit()
    assert jwt.get_unverified_header(browser.tokens(account["email"])["access_token"])["kid"] == new_kid
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]} == {new_kid}
    # A token of the rotated-out key opens nothing.
    assert_problem(client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {old_token}"}), 401)


def test_a_second_factor_is_required_when_the_garage_turns_it_on(client, app, admin, browser, make_account):
    account = make_account(roles=["accountant"])
    app.config["TOTP_REQUIRED"] = True
    try:
        assert browser.sign_in(account["email"]).status_code == 401  # not enrolled: no way in
        enrolled = client.post(f"/api/v1/accounts/{account['id']}/second-factor", headers=admin).get_json()
        totp = pyotp.parse_uri(enrolled["provisioning_uri"])
        asked = browser.sign_in(account["email"])
        assert asked.status_code == 401 and 'name="otp"' in asked.get_data(as_text=True)
        assert (
            browser.sign_in(
                account["email"], otp="000000" if totp.now() != "000000" else "111111"
            ).status_code
            == 401
        )
        assert browser.sign_in(account["email"], otp=totp.now()).status_code == 302
        # The same code is taken once.
        assert browser.sign_in(account["email"], otp=totp.now()).status_code == 401
    finally:
        app.config["TOTP_REQUIRED"] = False


@pytest.mark.parametrize(
    ("accept", "lang"), [("nl-NL,nl;q=0.9,en;q=0.5", "nl"), ("fr", "en"), ("en-GB", "en")]
)
def test_the_page_speaks_the_browsers_language(client, browser, accept, lang):
    query = {
        "response_type": "code",
        "client_id": browser.CONSOLE,
        "redirect_uri": browser.REDIRECT_URI,
        "scope": "openid",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    page = client.get("/oauth/authorize", query_string=query, headers={"Accept-Language": accept})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'<html lang="{lang}">' in html
    assert '<label for="email">' in html and '<label for="password">' in html
    assert "form-action" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("accept", "sentence"), [("en", "You are signing in to"), ("nl", "U logt in bij")])
def test_the_page_names_the_client_for_people_not_by_its_id(client, browser, accept, sentence):
    query = {"response_type": "code", "client_id": browser.CONSOLE, "redirect_uri": browser.REDIRECT_URI}
    html = client.get("/oauth/authorize", query_string=query, headers={"Accept-Language": accept}).get_data(
        as_text=True
    )
    assert f"{sentence} Garage staff console." in html and browser.CONSOLE not in html.split("<form")[0]


def test_the_pages_stylesheet_is_under_oauth_where_the_ingress_routes(client, browser):
    query = {"response_type": "code", "client_id": browser.CONSOLE, "redirect_uri": browser.REDIRECT_URI}
    html = client.get("/oauth/authorize", query_string=query).get_data(as_text=True)
    (href,) = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert href.startswith("/oauth/")
    stylesheet = client.get(href)
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"


def test_the_access_token_expires_quickly(app):
    assert app.config["ACCESS_TOKEN_TTL_SECONDS"] <= 300
    assert time.time()  # the lifetime itself is asserted in the code-flow test
