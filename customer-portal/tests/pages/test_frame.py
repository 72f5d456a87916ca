"""The frame every page shares: headers, language, the plain pages for refusals."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_start_page_answers_without_a_link(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_an_unknown_address_is_a_page_not_a_traceback(client: FlaskClient) -> None:
    page = client.get("/nothing/here")
    assert page.status_code == 404
    assert "text/html" in page.headers["Content-Type"]
