"""Links the services refuse, services that do not answer, and what every link page
does whatever its link: friendly pages, nothing changed, no token in the logs, a limit
per client address."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from portal_fakes import PortalService, portal_settings
from portal_pages import csrf_of, text_of
from portal_samples import estimate, invoice, token, visit

from service_kit.migrations import upgrade

MJM = "maintenance-job-management"
PAGES = {
    "/estimate/{}": (MJM, "/api/v1/portal/estimate"),
    "/feedback/{}": (MJM, "/api/v1/portal/visit"),
    "/appointment/{}": ("workshop-scheduling", "/api/v1/portal/appointment"),
    "/book/{}": ("workshop-scheduling", "/api/v1/portal/booking"),
    "/invoice/{}": ("invoicing", "/api/v1/portal/invoice"),
}


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize(
    ("kind", "status", "heading"),
    [
        ("not-valid", 403, "This link is not valid"),
        ("expired", 410, "This link has expired"),
        ("revoked", 410, "This link was withdrawn"),
    ],
)
def test_a_refused_link_is_a_friendly_page_with_the_garage_s_number(
    client: FlaskClient, fakes: dict[str, PortalService], page: str, kind: str, status: int, heading: str
) -> None:
    service, _ = PAGES[page]
    link = fakes[service].refuse(token(), kind)
    answer = client.get(page.format(link), headers={"Accept-Language": "en"})
    assert answer.status_code == status
    words = text_of(answer)
    assert heading in words
    assert "+31 20 123 4567" in words
    assert "Nothing was changed" in words
    assert "Traceback" not in words


def test_a_link_of_another_purpose_or_from_another_service_is_not_valid(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    # The services decide: a visit link on the estimate page is unknown to the estimate's
    # operation (403 link-not-valid), an invoice link unknown to maintenance altogether.
    visit_link = fakes[MJM].link(token(), "visit")
    fakes[MJM].route("GET", "/api/v1/portal/visit", (200, visit()))
    fakes[MJM].route(
        "GET",
        "/api/v1/portal/estimate",
        lambda r: (403, {"type": "urn:garage:problem:link-not-valid", "title": "Forbidden", "status": 403}),
    )
    assert client.get(f"/estimate/{visit_link}").status_code == 403
    invoice_link = fakes["invoicing"].link(token(), "invoice")
    fakes["invoicing"].route("GET", "/api/v1/portal/invoice", (200, invoice()))
    assert client.get(f"/estimate/{invoice_link}").status_code == 403
    assert client.get(f"/invoice/{invoice_link}").status_code == 200


@pytest.mark.parametrize("bad", ["abc", "a.b.c", "x" * 5000, "....", "%00%0d%0aSet-Cookie:x"])
def test_what_cannot_be_a_link_is_refused_without_asking_anyone(
    client: FlaskClient, fakes: dict[str, PortalService], bad: str
) -> None:
    answer = client.get(f"/estimate/{bad}")
    assert answer.status_code in (403, 404)
    assert not fakes[MJM].received()


def test_a_tampered_link_changes_nothing(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    good = fakes[MJM].link(token(), "estimate")
    body = estimate()
    fakes[MJM].route("GET", "/api/v1/portal/estimate", (200, body))
    csrf = csrf_of(client.get(f"/estimate/{good}"))
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    answer = client.post(
        f"/estimate/{tampered}",
        data={
            "csrf_token": csrf,
            "signature": "Jan",
            **{f"line-{line['line_id']}": "approved" for line in body["lines"]},
        },
    )
    assert answer.status_code == 403
    assert not fakes[MJM].received("/decision")


def test_a_form_without_its_csrf_token_is_refused_and_sends_nothing(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "visit")
    fakes[MJM].route("GET", "/api/v1/portal/visit", (200, visit()))
    client.get(f"/feedback/{link}")
    for form in ({"rating": "5"}, {"rating": "5", "csrf_token": "forged"}):
        answer = client.post(f"/feedback/{link}", data=form)
        assert answer.status_code == 400
        assert "This form has expired" in text_of(answer)
    assert not fakes[MJM].received("/feedback")


@pytest.mark.parametrize(("service", "named"), [(MJM, "workshop system"), ("invoicing", "invoicing system")])
def test_a_service_that_is_down_is_a_503_page_naming_it(
    client: FlaskClient, fakes: dict[str, PortalService], service: str, named: str
) -> None:
    page = "/estimate/{}" if service == MJM else "/invoice/{}"
    link = fakes[service].link(token(), "x")
    fakes[service].failing = 503
    answer = client.get(page.format(link), headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert named in text_of(answer)
    fakes[service].stop()
    try:
        answer = client.get(page.format(link), headers={"Accept-Language": "en"})
        assert answer.status_code == 503
        assert named in text_of(answer)
    finally:
        fakes[service].start()


def test_the_access_log_names_the_route_not_the_token(
    client: FlaskClient, fakes: dict[str, PortalService], caplog: pytest.LogCaptureFixture
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    fakes[MJM].route("GET", "/api/v1/portal/estimate", (200, estimate()))
    with caplog.at_level(logging.INFO):
        assert client.get(f"/estimate/{link}").status_code == 200
        client.get(f"/feedback/{token()}")
    access = [r for r in caplog.records if r.name == "customer-portal.access"]
    assert access
    assert all(link not in r.getMessage() and link not in str(getattr(r, "path", "")) for r in caplog.records)
    assert any(getattr(r, "path", "") == "/estimate/<token>" for r in access)


@pytest.fixture
def limited(portal_database: str, fake_services: dict[str, PortalService]) -> Iterator[Flask]:
    from customer_portal import create_app

    app = create_app(
        portal_settings(
            portal_database,
            fake_services,
            RATE_LIMIT_ENABLED=True,
            LINK_RATE_LIMIT="3 per minute",
            RATE_LIMIT_STORAGE_URL="memory://",
        )
    )
    upgrade(app)
    yield app


def test_link_use_is_limited_per_client_address_across_pages(
    limited: Flask, fakes: dict[str, PortalService]
) -> None:
    client = limited.test_client()
    link = fakes[MJM].link(token(), "estimate")
    fakes[MJM].route("GET", "/api/v1/portal/estimate", (200, estimate()))
    statuses = [client.get(f"/estimate/{link}").status_code for _ in range(2)]
    statuses.append(client.get(f"/feedback/{token()}").status_code)  # another page, the same address
    refused = client.get(f"/estimate/{link}", headers={"Accept-Language": "en"})
    assert statuses == [200, 200, 403]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many requests" in text_of(refused)
    other = limited.test_client()
    answer = other.get(f"/estimate/{link}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert answer.status_code == 200  # another address has its own count
    assert client.get("/").status_code == 200  # the start page is no link


def test_the_page_speaks_the_browser_s_language_and_the_switch_keeps_it(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    fakes[MJM].route("GET", "/api/v1/portal/estimate", (200, estimate()))
    assert "Your estimate" in text_of(client.get(f"/estimate/{link}", headers={"Accept-Language": "en"}))
    assert "Uw offerte" in text_of(client.get(f"/estimate/{link}", headers={"Accept-Language": "nl"}))
    assert "Uw offerte" in text_of(client.get(f"/estimate/{link}?lang=nl", headers={"Accept-Language": "en"}))
    assert "Uw offerte" in text_of(client.get(f"/estimate/{link}", headers={"Accept-Language": "en"}))
    assert "Your estimate" in text_of(client.get(f"/estimate/{link}?lang=en"))


def test_the_invoice_s_language_is_the_page_s_unless_the_customer_switched(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes["invoicing"].link(token(), "invoice")
    fakes["invoicing"].route("GET", "/api/v1/portal/invoice", (200, invoice(language="nl")))
    assert "Factuur 2026-0042" in text_of(client.get(f"/invoice/{link}", headers={"Accept-Language": "en"}))
    assert "Invoice 2026-0042" in text_of(
        client.get(f"/invoice/{link}?lang=en", headers={"Accept-Language": "nl"})
    )


def test_the_portal_s_own_identity_refused_is_a_503_not_the_customer_s_fault(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes["invoicing"].link(token(), "invoice")
    fakes["invoicing"].route("GET", "/api/v1/portal/invoice", (200, invoice()))
    fakes["invoicing"].failing = 401
    answer = client.get(f"/invoice/{link}", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert "invoicing system" in text_of(answer)
