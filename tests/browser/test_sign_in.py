"""identity's sign-in page in a real browser, reached as the staff console starts the
code flow (GET /oauth/authorize with its registered redirect URI and a PKCE challenge):
in English and in Dutch, axe finds no serious or critical violation on the form nor on
its error; a development account signs in and the browser lands on the console's
redirect URI with a code, under the page's own Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from identity.models import SCHEMA, db

from identity import create_app
from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema

CONSOLE = "staff-console"
# The staff console's redirect URI as identity registers it in development (identity.config).
REDIRECT_URI = "http://127.0.0.1:8008/auth/callback"
LANGUAGES = {
    "en-GB": ("en", "Sign in to the garage", "The email address or password is wrong."),
    "nl-NL": ("nl", "Inloggen bij de garage", "Het e-mailadres of het wachtwoord klopt niet."),
}


@pytest.fixture(scope="module")
def identity(fresh_database_url: str) -> Iterator[tuple[Any, dict[str, str]]]:
    """identity with its development settings (so its development clients), migrated,
    and the development accounts: the app and each role's email and password."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "RATE_LIMIT_ENABLED": False,
            # Cheap hashes for a test; production's cost is measured in docs/identity.md.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8 * 1024,
        }
    )
    upgrade(app)
    result = app.test_cli_runner().invoke(args=["development-accounts"])
    assert result.exit_code == 0, result.output
    accounts = {
        role: (email, password) for role, email, password in map(str.split, result.output.splitlines())
    }
    yield app, accounts
    with app.app_context():
        db.session.remove()
        truncate_schema(db.engine, SCHEMA)  # identity's own tests start from an empty schema


def authorize_url(base: str) -> tuple[str, str]:
    """The URL the console sends a person to, and the state it expects back."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "client_id": CONSOLE,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email offline_access",
        "state": state,
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/oauth/authorize?{urlencode(query)}", state


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_sign_in_page_and_its_error_are_accessible(
    locale, identity, serve, offline_context, accessibility_violations
):
    app, accounts = identity
    lang, heading, wrong = LANGUAGES[locale]
    # The page's CSP (default-src 'none') refuses the injected axe script: bypassed here only.
    context = offline_context(locale=locale, bypass_csp=True)
    page = context.new_page()
    url, _ = authorize_url(serve(app))

    answer = page.goto(url)
    assert answer.status == 200
    assert answer.headers["content-language"] == lang
    assert page.locator("html").get_attribute("lang") == lang
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert accessibility_violations(page) == []

    email, _ = accounts["advisor"]
    page.locator("#email").fill(email)
    page.locator("#password").fill("not the password at all")
    with page.expect_navigation():
        page.locator("button[type=submit]").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text() == wrong
    assert page.locator("#email").get_attribute("aria-describedby") == alert.get_attribute("id")
    assert page.locator("#email").input_value() == email  # kept; the password is not
    assert page.locator("#password").input_value() == ""
    assert accessibility_violations(page) == []
    assert context.refused == []


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_development_account_signs_in_and_the_browser_goes_to_the_console_with_a_code(
    locale, identity, serve, offline_context
):
    app, accounts = identity
    context = offline_context(
        locale=locale
    )  # the page's CSP in force: its form-action must allow the redirect
    page = context.new_page()
    refused_by_csp: list[str] = []
    page.on(
        "console",
        lambda message: refused_by_csp.append(message.text) if "Security Policy" in message.text else None,
    )
    base = serve(app)
    url, state = authorize_url(base)

    page.goto(url)
    email, password = accounts["advisor"]
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    # Seen as the browser asks for it: Playwright routes no redirect hop (so none can be
    # fulfilled), and no console need listen on its port for the code to be handed over.
    with page.expect_request(
        lambda request: request.url.startswith(REDIRECT_URI), timeout=10_000
    ) as redirected:
        page.locator("button[type=submit]").click()

    sign_in = redirected.value.redirected_from
    assert (
        sign_in is not None
        and sign_in.method == "POST"
        and sign_in.url.startswith(f"{base}/oauth/authorize?")
    )
    query = parse_qs(urlsplit(redirected.value.url).query)
    assert query["state"] == [state]
    assert len(query["code"][0]) >= 20
    assert refused_by_csp == []
    assert context.refused == []
