"""Whatever a form sends, the portal never answers 500; behind the ingress the customer's
address is the one the ingress saw."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_fakes import PortalService, portal_settings
from portal_pages import csrf_of
from portal_samples import appointment, booking, estimate, free_starts, invoice, token, visit

from service_kit.migrations import upgrade

NONSENSE = [
    {},
    {"start": "", "work": "", "description": "", "rating": "", "signature": "", "reason": ""},
    {
        "start": "not a time",
        "work": "other",
        "description": "x" * 5000,
        "rating": "99",
        "signature": "\x00\x01",
    },
    {
        "start": "2026-13-45T99:99",
        "work": "../../etc",
        "rating": "-1",
        "reason": "r" * 10_000,
        "date": "soon",
    },
]


def everything_served(fakes: dict[str, PortalService], link: str) -> None:
    for fake in fakes.values():
        for purpose in ("estimate", "visit", "appointment", "booking", "invoice"):
            fake.link(link, purpose)
    mjm, ws, inv = fakes["maintenance-job-management"], fakes["workshop-scheduling"], fakes["invoicing"]
    mjm.route("GET", "/api/v1/portal/estimate", (200, estimate()))
    mjm.route("GET", "/api/v1/portal/visit", (200, visit()))
    ws.route("GET", "/api/v1/portal/appointment", (200, appointment()))
    ws.route("GET", "/api/v1/portal/booking", (200, booking()))
    ws.route("GET", "/api/v1/portal/booking/availability", lambda r: (200, free_starts(r.query["date"], 9)))
    ws.route(
        "GET", "/api/v1/portal/appointment/availability", lambda r: (200, free_starts(r.query["date"], 9))
    )
    inv.route("GET", "/api/v1/portal/invoice", (200, invoice()))
    refusal = (422, {"type": "urn:garage:problem:validation", "title": "Unprocessable Entity", "status": 422})
    for fake, path in (
        (mjm, "/api/v1/portal/estimate/decision"),
        (mjm, "/api/v1/portal/visit/feedback"),
        (ws, "/api/v1/portal/appointment/move"),
        (ws, "/api/v1/portal/appointment/cancel"),
        (ws, "/api/v1/portal/booking"),
    ):
        fake.route("POST", path, refusal)


def test_no_form_answers_500_to_nonsense(
    portal_app: Flask, client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = token()
    everything_served(fakes, link)
    csrf = csrf_of(client.get(f"/feedback/{link}"))
    posts = [
        rule
        for rule in portal_app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and "<token>" in rule.rule
    ]
    assert len(posts) >= 6
    for rule in posts:
        path = rule.rule.replace("<token>", link)
        for form in NONSENSE:
            answer = client.post(path, data={"csrf_token": csrf, **form})
            assert answer.status_code < 500, (path, form, answer.status_code)
        for bad_link in ("x", "a.b.c", token() + "!"):
            answer = client.post(rule.rule.replace("<token>", bad_link), data={"csrf_token": csrf})
            assert answer.status_code < 500, (rule.rule, bad_link, answer.status_code)
    for rule in portal_app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and "<token>" in rule.rule:
            for query in ("date=nonsense&work=other&description=", "lang=xx", "date=99999-01-01"):
                answer = client.get(rule.rule.replace("<token>", link) + "?" + query)
                assert answer.status_code < 500, (rule.rule, query, answer.status_code)


@pytest.fixture
def behind_the_ingress(portal_database: str, fake_services: dict[str, PortalService]) -> Any:
    from customer_portal import create_app

    app = create_app(portal_settings(portal_database, fake_services, PROXY_HOPS=1))
    upgrade(app)
    return app


def test_behind_the_ingress_the_customer_s_address_is_the_forwarded_one(
    behind_the_ingress: Flask, fakes: dict[str, PortalService]
) -> None:
    link = fakes["invoicing"].link(token(), "invoice")
    fakes["invoicing"].route("GET", "/api/v1/portal/invoice", (200, invoice()))
    client = behind_the_ingress.test_client()
    answer = client.get(
        f"/invoice/{link}", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert answer.status_code == 200
    assert fakes["invoicing"].received("/invoice")[0].headers["Portal-Client-Address"] == "203.0.113.7"
    # Only the last hop counts: a customer cannot pose as someone else.
    client.get(f"/invoice/{link}", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})
    assert fakes["invoicing"].received("/invoice")[1].headers["Portal-Client-Address"] == "203.0.113.8"


def test_over_https_a_form_without_a_referer_is_accepted(
    behind_the_ingress: Flask, fakes: dict[str, PortalService]
) -> None:
    # The pages send no Referer (no-referrer), so Flask-WTF's HTTPS referrer check is off;
    # the form's token and the SameSite cookie remain.
    link = fakes["maintenance-job-management"].link(token(), "visit")
    fakes["maintenance-job-management"].route("GET", "/api/v1/portal/visit", (200, visit()))
    fakes["maintenance-job-management"].route(
        "POST", "/api/v1/portal/visit/feedback", lambda r: (201, {**visit(), "feedback": None})
    )
    client = behind_the_ingress.test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = client.get(f"/feedback/{link}", headers=https, base_url="https://garage.example")
    answer = client.post(
        f"/feedback/{link}",
        data={"csrf_token": csrf_of(page), "rating": "5"},
        headers=https,
        base_url="https://garage.example",
    )
    assert answer.status_code == 303
    refused = client.post(
        f"/feedback/{link}", data={"rating": "5"}, headers=https, base_url="https://garage.example"
    )
    assert refused.status_code == 400
