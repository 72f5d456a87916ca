"""The console's sessions and pages as a browser meets them: the cookie, fixation,
CSRF, the page headers, sign-out revoking the refresh token, the person's language."""

from __future__ import annotations

import re

import requests
from console_harness import Garage, csrf_of
from sqlalchemy import create_engine, text


def test_the_session_cookie_is_http_only_same_site_and_nothing_else_is_set(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    page = advisor.get(garage.console_url + "/customers/new", timeout=10)
    assert page.status_code == 200
    console_cookies = [c for c in advisor.cookies if c.path == "/"]
    assert [c.name for c in console_cookies] == ["console"]
    cookie = console_cookies[0]
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Lax"
    # No token reaches the browser: not in the cookie (a random id), not in the page.
    assert not cookie.value.startswith("eyJ")
    assert "eyJ" not in page.text


def test_signing_in_gives_the_browser_a_new_session_id(garage: Garage) -> None:
    browser = requests.Session()
    page = browser.get(garage.console_url + "/auth/sign-in", timeout=10)
    before = browser.cookies.get("console", path="/")
    assert before  # the sign-in's state and PKCE verifier are in a session already
    email, password = garage.accounts["advisor"]
    browser.post(
        page.url, data={"csrf_token": csrf_of(page), "email": email, "password": password}, timeout=10
    )
    after = browser.cookies.get("console", path="/")
    assert after and after != before
    # The id a fixation attacker planted opens nothing.
    planted = requests.get(
        garage.console_url + "/board", cookies={"console": before}, allow_redirects=False, timeout=10
    )
    assert planted.status_code == 302


def test_pages_carry_a_strict_content_security_policy_and_may_not_be_framed(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    page = advisor.get(garage.console_url + "/board", timeout=10)
    policy = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text and " onclick=" not in page.text


def test_a_cross_site_post_is_refused(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    # What another site can make the browser send: the cookie, but not the CSRF token.
    forged = advisor.post(
        garage.console_url + "/customers/new",
        data={"kind": "person", "name": "Forged", "csrf_token": "made-up"},
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    assert forged.status_code == 400
    found = advisor.get(garage.console_url + "/customers", params={"q": "Forged"}, timeout=10)
    assert "Forged" not in re.sub(r'value="[^"]*"', "", found.text).replace("“Forged”", "")


def test_sign_out_revokes_the_refresh_token_and_ends_the_session(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    board = advisor.get(garage.console_url + "/board", timeout=10)
    cookie = advisor.cookies.get("console", path="/")
    engine = create_engine(garage.database_url.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as connection:
        refresh = connection.execute(
            text(
                "SELECT refresh_token FROM staff_console.sessions WHERE id_hash = encode(sha256(:id), 'hex')"
            ),
            {"id": cookie.encode()},
        ).scalar_one()
    assert refresh
    out = advisor.post(garage.console_url + "/auth/sign-out", data={"csrf_token": csrf_of(board)}, timeout=10)
    assert out.status_code == 200 and "signed out" in out.text
    again = requests.get(
        garage.console_url + "/board", cookies={"console": cookie}, allow_redirects=False, timeout=10
    )
    assert again.status_code == 302
    # The provider no longer renews with it.
    from service_kit.config import DEV_JWT_SECRET as secret
    from service_kit.config import development_client_secret

    refused = requests.post(
        garage.issuer + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=("staff-console", development_client_secret(secret, "staff-console")),
        timeout=10,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    engine.dispose()


def test_a_person_who_chose_dutch_gets_the_pages_in_dutch(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    board = advisor.get(garage.console_url + "/board", timeout=10)
    advisor.post(
        garage.console_url + "/language",
        data={"csrf_token": csrf_of(board), "language": "nl"},
        headers={"Referer": garage.console_url + "/board"},
        timeout=10,
    )
    dutch = advisor.get(garage.console_url + "/board", timeout=10)
    assert 'lang="nl"' in dutch.text and "Werkplaats op" in dutch.text and "Afmelden" in dutch.text


def test_a_browser_asking_for_dutch_gets_dutch_before_choosing(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    page = advisor.get(
        garage.console_url + "/customers", headers={"Accept-Language": "nl-NL,nl;q=0.9"}, timeout=10
    )
    assert "Klant of voertuig zoeken" in page.text


def test_pages_loading_at_once_renew_an_ending_token_once(garage: Garage) -> None:
    """Four pages at once when the access token is about to end: one renewal (a refresh
    token used twice would make identity end the whole family: a sign-out for the person)."""
    from concurrent.futures import ThreadPoolExecutor

    advisor = garage.signed_in("advisor")
    cookie = advisor.cookies.get("console", path="/")
    engine = create_engine(garage.database_url.replace("postgresql://", "postgresql+psycopg2://"))
    where = "WHERE id_hash = encode(sha256(:id), 'hex')"
    query = f"FROM staff_console.sessions {where}"
    with engine.begin() as connection:
        before = connection.execute(
            text(f"SELECT refresh_token {query}"), {"id": cookie.encode()}
        ).scalar_one()
        connection.execute(
            text(f"UPDATE staff_console.sessions SET access_expires_at = now() {where}"),
            {"id": cookie.encode()},
        )
    with ThreadPoolExecutor(4) as pool:
        pages = list(
            pool.map(
                lambda _: advisor.get(garage.console_url + "/board", allow_redirects=False, timeout=20),
                range(4),
            )
        )
    assert [page.status_code for page in pages] == [200] * 4
    with engine.connect() as connection:
        after = connection.execute(
            text(f"SELECT refresh_token {query}"), {"id": cookie.encode()}
        ).scalar_one()
    assert after != before
    # Still signed in afterwards: the family was not ended.
    assert advisor.get(garage.console_url + "/board", allow_redirects=False, timeout=10).status_code == 200
    engine.dispose()


def test_expired_sessions_are_forgotten_with_their_tokens(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    cookie = advisor.cookies.get("console", path="/")
    engine = create_engine(garage.database_url.replace("postgresql://", "postgresql+psycopg2://"))
    where = "WHERE id_hash = encode(sha256(:id), 'hex')"
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE staff_console.sessions SET expires_at = now() - interval '1 second' {where}"),
            {"id": cookie.encode()},
        )
    # Past its end the session opens nothing, even before the clean-up runs.
    assert advisor.get(garage.console_url + "/board", allow_redirects=False, timeout=10).status_code == 302
    result = garage.apps["staff-console"].test_cli_runner().invoke(args=["forget-expired-sessions"])
    assert result.exit_code == 0 and "forgot" in result.output
    with engine.connect() as connection:
        left = connection.execute(
            text(f"SELECT count(*) FROM staff_console.sessions {where}"), {"id": cookie.encode()}
        )
        assert left.scalar_one() == 0
    engine.dispose()
