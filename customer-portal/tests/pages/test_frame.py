"""The frame every page shares: headers, language, the plain pages for refusals."""

from __future__ import annotations

from flask.testing import FlaskClient
from portal_fakes import PortalService
from portal_samples import estimate, token


def test_the_start_page_answers_without_a_link(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    stylesheet = client.get("/static/portal.css")
    assert stylesheet.status_code == 200 and "no-store" not in stylesheet.headers.get("Cache-Control", "")


def test_an_unknown_address_is_a_page_not_a_traceback(client: FlaskClient) -> None:
    page = client.get("/nothing/here")
    assert page.status_code == 404
    assert "text/html" in page.headers["Content-Type"]


def test_mounted_under_a_path_every_link_and_form_keeps_it(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    # The ingress serves the portal under /portal (SCRIPT_NAME): the language switch, the
    # forms and "try again" must not lead out of it.
    link = fakes["maintenance-job-management"].link(token(), "estimate")
    fakes["maintenance-job-management"].route("GET", "/api/v1/portal/estimate", (200, estimate()))
    page = client.get(f"/estimate/{link}", base_url="http://garage.example/portal").get_data(as_text=True)
    assert f'href="/portal/estimate/{link}?lang=nl"' in page
    assert f'action="/portal/estimate/{link}"' in page
    assert 'href="/portal/static/portal.css"' in page
    fakes["maintenance-job-management"].failing = 503
    down = client.get(f"/estimate/{link}", base_url="http://garage.example/portal").get_data(as_text=True)
    assert f'href="/portal/estimate/{link}"' in down


def test_under_its_url_prefix_and_at_the_root_alike(portal_database, fake_services):
    # Behind the ingress the portal is /portal/...; the probes ask /readyz on its port.
    from customer_portal import create_app
    from portal_fakes import portal_settings

    app = create_app(portal_settings(portal_database, fake_services, URL_PREFIX="/portal"))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/portal/readyz").status_code == 200
    page = client.get("/portal/estimate/not-a-link")
    assert page.status_code == 403
    assert 'href="/portal/static/' in page.get_data(as_text=True)
