"""The invoice and feedback pages against invoicing and maintenance-job-management faked
at the HTTP boundary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from portal_fakes import PortalService
from portal_pages import csrf_of, text_of
from portal_samples import invoice, token, visit

from service_kit.fakes import problem

MJM = "maintenance-job-management"
VISIT = "/api/v1/portal/visit"
INVOICE = "/api/v1/portal/invoice"


def test_the_invoice_shows_what_is_due(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    link = fakes["invoicing"].link(token(), "invoice")
    fakes["invoicing"].route("GET", INVOICE, (200, invoice(language="en")))
    page = client.get(f"/invoice/{link}")
    words = text_of(page)
    assert page.status_code == 200
    for shown in ("Invoice 2026-0042", "J. de Vries", "Small service", "€121.00", "To pay"):
        assert shown in words, shown
    assert f"/invoice/{link}/pdf" in page.get_data(as_text=True)


def test_a_paid_invoice_says_so(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    link = fakes["invoicing"].link(token(), "invoice")
    fakes["invoicing"].route(
        "GET", INVOICE, (200, invoice(language="en", status="paid", paid=12100, balance_due=0))
    )
    page = client.get(f"/invoice/{link}")
    assert "Paid" in text_of(page)
    assert "/pay" not in page.get_data(as_text=True)


def test_the_invoice_pdf_is_downloaded(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    link = fakes["invoicing"].link(token(), "invoice")
    pdf = b"%PDF-1.4 a small invoice"

    def answer(_request: Any) -> Any:
        return 200, None

    fakes["invoicing"].route("GET", INVOICE + "/pdf", answer)
    fakes["invoicing"].answer = lambda request: (  # type: ignore[method-assign]
        200,
        {"Content-Type": "application/pdf", "Content-Disposition": 'attachment; filename="2026-0042.pdf"'},
        pdf,
    )
    try:
        download = client.get(f"/invoice/{link}/pdf")
    finally:
        del fakes["invoicing"].answer
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == pdf
    assert download.headers["Content-Disposition"] == 'attachment; filename="2026-0042.pdf"'
    assert download.headers["Cache-Control"] == "no-store"
    assert fakes["invoicing"].received(INVOICE + "/pdf")[0].headers["Accept"] == "application/pdf"


def visit_served(fake: PortalService) -> dict[str, Any]:
    state = {"visit": visit()}

    def give(request: Any) -> tuple[int, Any]:
        if state["visit"]["feedback"]:
            return 409, problem(409, "already given", kind="feedback-already-given")
        state["visit"] = {
            **state["visit"],
            "feedback": {**request.json, "given_at": datetime.now(UTC).isoformat()},
        }
        return 201, state["visit"]

    fake.route("GET", VISIT, lambda _r: (200, state["visit"]))
    fake.route("POST", VISIT + "/feedback", give)
    return state


def test_feedback_is_given_once_and_thanked_for(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    link = fakes[MJM].link(token(), "visit")
    visit_served(fakes[MJM])
    page = client.get(f"/feedback/{link}", headers={"Accept-Language": "en"})
    assert "How was your visit?" in text_of(page) and "Sanne" in text_of(page)
    form = {"csrf_token": csrf_of(page), "rating": "4", "comment": "  Quick and friendly  "}
    assert client.post(f"/feedback/{link}", data=form).status_code == 303
    [sent] = fakes[MJM].received(VISIT + "/feedback")
    assert sent.json == {"rating": 4, "comment": "Quick and friendly"}
    thanks = client.get(f"/feedback/{link}")
    assert "Thank you for your feedback" in text_of(thanks) and "4 out of 5" in text_of(thanks)
    assert 'name="rating"' not in thanks.get_data(as_text=True)
    assert client.post(f"/feedback/{link}", data=form).status_code == 303  # again: the thanks page


def test_feedback_without_a_rating_or_too_long_is_refused_by_the_page(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "visit")
    visit_served(fakes[MJM])
    csrf = csrf_of(client.get(f"/feedback/{link}"))
    for form in ({"rating": ""}, {"rating": "6"}, {"rating": "five"}, {"rating": "3", "comment": "x" * 2500}):
        answer = client.post(f"/feedback/{link}", data={"csrf_token": csrf, **form})
        assert answer.status_code == 422
    assert not fakes[MJM].received(VISIT + "/feedback")
