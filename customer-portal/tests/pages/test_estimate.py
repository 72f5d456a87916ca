"""The estimate page against maintenance-job-management faked at the HTTP boundary."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from portal_fakes import PortalService
from portal_pages import csrf_of, text_of
from portal_samples import decided, estimate, token

from service_kit.fakes import problem

MJM = "maintenance-job-management"
PATH = "/api/v1/portal/estimate"


def estimate_served(fake: PortalService, body: dict[str, Any]) -> dict[str, Any]:
    """GET answers the estimate; the decision records it (a second is a 409)."""
    state = {"estimate": body}

    def decide(request: Any) -> tuple[int, Any]:
        if state["estimate"]["status"] == "decided":
            return 409, problem(409, "already decided", kind="estimate-already-decided")
        chosen = {d["line_id"]: d["decision"] for d in request.json["decisions"]}
        state["estimate"] = decided(state["estimate"], chosen, request.json["signature"])
        return 200, state["estimate"]

    fake.route("GET", PATH, lambda _r: (200, state["estimate"]))
    fake.route("POST", PATH + "/decision", decide)
    return state


def test_the_customer_sees_the_lines_prices_and_notes(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    estimate_served(fakes[MJM], estimate())
    page = client.get(f"/estimate/{link}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    words = text_of(page)
    for shown in (
        "Brake pads front",
        "Fit brake pads",
        "€96.80",
        "€108.90",
        "€205.70",
        "Front pads at 2 mm",
        "12-ABC-3",
    ):
        assert shown in words, shown
    sent = fakes[MJM].received(PATH)[0]
    assert sent.headers["Portal-Link"] == link
    assert sent.headers["Portal-Client-Address"] == "127.0.0.1"
    assert sent.headers["Authorization"] == "Bearer portal-test-token"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_each_line_is_approved_or_declined_and_signed(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    body = estimate()
    estimate_served(fakes[MJM], body)
    page = client.get(f"/estimate/{link}")
    first, second = (line["line_id"] for line in body["lines"])
    answer = client.post(
        f"/estimate/{link}",
        data={
            "csrf_token": csrf_of(page),
            f"line-{first}": "approved",
            f"line-{second}": "declined",
            "signature": "Jan de Vries",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/estimate/{link}")
    [sent] = fakes[MJM].received(PATH + "/decision")
    assert sent.json == {
        "decisions": [
            {"line_id": first, "decision": "approved"},
            {"line_id": second, "decision": "declined"},
        ],
        "signature": "Jan de Vries",
    }
    shown = client.get(f"/estimate/{link}")
    words = text_of(shown)
    assert "signed by Jan de Vries" in words
    assert "Approved" in words and "Declined" in words
    assert "€96.80" in words  # the approved work's total
    assert 'name="signature"' not in shown.get_data(as_text=True)  # a used link shows, it does not ask again


def test_a_line_left_undecided_or_no_name_sends_nothing(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    body = estimate()
    estimate_served(fakes[MJM], body)
    csrf = csrf_of(client.get(f"/estimate/{link}"))
    first = body["lines"][0]["line_id"]
    answer = client.post(
        f"/estimate/{link}", data={"csrf_token": csrf, f"line-{first}": "approved", "signature": "J"}
    )
    assert answer.status_code == 422
    words = text_of(answer)
    assert "Choose approve or decline for this line." in words
    assert "Type your full name" in words
    assert 'value="approved" checked' in answer.get_data(as_text=True)  # what was chosen stays chosen
    assert not fakes[MJM].received(PATH + "/decision")


def test_a_decision_sent_twice_shows_what_was_decided(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    body = estimate()
    state = estimate_served(fakes[MJM], body)
    csrf = csrf_of(client.get(f"/estimate/{link}"))
    form = {
        "csrf_token": csrf,
        "signature": "Jan de Vries",
        **{f"line-{line['line_id']}": "approved" for line in body["lines"]},
    }
    assert client.post(f"/estimate/{link}", data=form).status_code == 303
    state["estimate"] = {**state["estimate"]}
    again = client.post(f"/estimate/{link}", data=form)
    assert again.status_code == 303
    assert len(fakes[MJM].received(PATH + "/decision")) == 1  # the page saw it decided: not sent again
    assert "already decided" in text_of(client.get(f"/estimate/{link}"))


def test_a_conflict_from_the_service_shows_the_decided_estimate(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    body = estimate()
    fakes[MJM].route("GET", PATH, (200, body))
    fakes[MJM].route(
        "POST",
        PATH + "/decision",
        (409, problem(409, "decided at the counter", kind="estimate-already-decided")),
    )
    csrf = csrf_of(client.get(f"/estimate/{link}"))
    form = {
        "csrf_token": csrf,
        "signature": "Jan",
        **{f"line-{line['line_id']}": "declined" for line in body["lines"]},
    }
    answer = client.post(f"/estimate/{link}", data=form)
    assert answer.status_code == 303


def test_nonsense_decisions_are_refused_by_the_page(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[MJM].link(token(), "estimate")
    body = estimate()
    estimate_served(fakes[MJM], body)
    csrf = csrf_of(client.get(f"/estimate/{link}"))
    form = {
        "csrf_token": csrf,
        "signature": "x" * 5000,
        **{f"line-{line['line_id']}": "maybe" for line in body["lines"]},
    }
    answer = client.post(f"/estimate/{link}", data=form)
    assert answer.status_code == 422
    assert not fakes[MJM].received(PATH + "/decision")
