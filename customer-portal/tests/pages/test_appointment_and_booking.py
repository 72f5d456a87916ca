"""The appointment and booking pages against workshop-scheduling faked at the HTTP boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from portal_fakes import PortalService
from portal_pages import csrf_of, hidden_of, text_of
from portal_samples import appointment, booking, free_starts, token

from service_kit.fakes import problem

WS = "workshop-scheduling"
APPOINTMENT = "/api/v1/portal/appointment"
BOOKING = "/api/v1/portal/booking"


def appointment_served(fake: PortalService, body: dict[str, Any]) -> dict[str, Any]:
    state = {"appointment": body}

    def confirm(_request: Any) -> tuple[int, Any]:
        state["appointment"] = {
            **state["appointment"],
            "customer_confirmed_at": datetime.now(UTC).isoformat(),
        }
        return 200, state["appointment"]

    def move(request: Any) -> tuple[int, Any]:
        start = datetime.fromisoformat(request.json["start"])
        state["appointment"] = {
            **state["appointment"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        }
        return 200, state["appointment"]

    def cancel(_request: Any) -> tuple[int, Any]:
        state["appointment"] = {**state["appointment"], "status": "cancelled", "changeable": False}
        return 200, state["appointment"]

    fake.route("GET", APPOINTMENT, lambda _r: (200, state["appointment"]))
    fake.route("POST", APPOINTMENT + "/confirm", confirm)
    fake.route("POST", APPOINTMENT + "/move", move)
    fake.route("POST", APPOINTMENT + "/cancel", cancel)
    return state


def test_the_appointment_is_shown_and_confirmed(client: FlaskClient, fakes: dict[str, PortalService]) -> None:
    link = fakes[WS].link(token(), "appointment")
    appointment_served(fakes[WS], appointment())
    page = client.get(f"/appointment/{link}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    # The plate is kept on one line (a span the stylesheet does not let wrap).
    assert 'Toyota Yaris (<span class="plate">12-ABC-3</span>)' in page.get_data(as_text=True)
    assert "Small service" in text_of(page)
    answer = client.post(f"/appointment/{link}/confirm", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    assert len(fakes[WS].received(APPOINTMENT + "/confirm")) == 1
    assert "You confirmed this appointment" in text_of(client.get(f"/appointment/{link}"))


def test_the_appointment_is_moved_to_a_free_time_of_the_chosen_day(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "appointment")
    appointment_served(fakes[WS], appointment())
    day = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    fakes[WS].route(
        "GET", APPOINTMENT + "/availability", lambda r: (200, free_starts(r.query["date"], 9, 14))
    )
    page = client.get(f"/appointment/{link}/move?date={day}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "09:00" in text_of(page) and "14:00" in text_of(page)
    assert fakes[WS].received(APPOINTMENT + "/availability")[0].query == {"date": day}
    answer = client.post(
        f"/appointment/{link}/move", data={"csrf_token": csrf_of(page), "start": f"{day}T14:00:00+01:00"}
    )
    assert answer.status_code == 303
    [sent] = fakes[WS].received(APPOINTMENT + "/move")
    assert sent.json == {"start": f"{day}T14:00:00+01:00"}
    assert "Your appointment has been moved." in text_of(client.get(f"/appointment/{link}"))


def test_a_day_out_of_range_or_nonsense_asks_for_a_day_the_page_offers(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "appointment")
    appointment_served(fakes[WS], appointment())
    fakes[WS].route("GET", APPOINTMENT + "/availability", lambda r: (200, free_starts(r.query["date"])))
    for day in ("nonsense", "1999-01-01", "2999-01-01"):
        page = client.get(f"/appointment/{link}/move?date={day}")
        assert page.status_code == 200
        assert "No free time that day" in text_of(page)
    asked = [r.query["date"] for r in fakes[WS].received(APPOINTMENT + "/availability")]
    assert all(datetime.now(UTC).date().isoformat() <= d for d in asked)


def test_within_the_cut_off_the_page_explains_and_nothing_changes(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "appointment")
    soon = datetime.now(UTC) + timedelta(hours=3)
    appointment_served(fakes[WS], appointment(start=soon))
    page = client.get(f"/appointment/{link}", headers={"Accept-Language": "en"})
    assert "too close to be moved or cancelled online" in text_of(page)
    assert "+31 20 123 4567" in text_of(page)
    assert client.get(f"/appointment/{link}/move").status_code == 409
    assert client.get(f"/appointment/{link}/cancel").status_code == 409
    assert not fakes[WS].received(APPOINTMENT + "/availability")


def test_a_too_late_refusal_from_the_service_is_the_plain_explanation(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "appointment")
    fakes[WS].route("GET", APPOINTMENT, (200, appointment()))
    late = problem(409, "within 24 hours of the start", kind="too-late-to-change")
    fakes[WS].route("POST", APPOINTMENT + "/cancel", (409, late))
    fakes[WS].route("POST", APPOINTMENT + "/move", (409, late))
    csrf = csrf_of(client.get(f"/appointment/{link}/cancel"))
    for action, data in (("cancel", {"reason": "ill"}), ("move", {"start": "2026-12-09T09:00:00+01:00"})):
        answer = client.post(f"/appointment/{link}/{action}", data={"csrf_token": csrf, **data})
        assert answer.status_code == 409
        assert "Too late to change online" in text_of(answer)


def test_a_time_taken_meanwhile_is_said_and_another_offered(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "appointment")
    fakes[WS].route("GET", APPOINTMENT, (200, appointment()))
    fakes[WS].route(
        "POST", APPOINTMENT + "/move", (409, problem(409, "no bay free then", kind="no-capacity"))
    )
    csrf = csrf_of(client.get(f"/appointment/{link}"))
    answer = client.post(
        f"/appointment/{link}/move", data={"csrf_token": csrf, "start": "2026-12-09T09:00:00+01:00"}
    )
    assert answer.status_code == 409
    assert "no bay free then" in text_of(answer) and "Choose another time" in text_of(answer)
    assert (
        client.post(f"/appointment/{link}/move", data={"csrf_token": csrf}).status_code == 303
    )  # no time chosen


def test_the_appointment_is_cancelled_after_asking(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "appointment")
    appointment_served(fakes[WS], appointment())
    page = client.get(f"/appointment/{link}/cancel", headers={"Accept-Language": "en"})
    assert "Cancel your appointment?" in text_of(page)
    assert client.post(f"/appointment/{link}/cancel", data={"csrf_token": csrf_of(page)}).status_code == 303
    shown = client.get(f"/appointment/{link}")
    assert "This appointment is cancelled." in text_of(shown)
    assert "Move to another time" not in text_of(shown)


def test_a_visit_is_booked_once_for_the_chosen_work_and_time(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "booking")
    fakes[WS].route("GET", BOOKING, (200, booking()))
    fakes[WS].route("GET", BOOKING + "/availability", lambda r: (200, free_starts(r.query["date"], 8, 10)))
    fakes[WS].route("POST", BOOKING, lambda r: (201, {**appointment(), "start": r.json["start"]}))
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    page = client.get(f"/book/{link}", headers={"Accept-Language": "en"})
    assert "Small service" in text_of(page) and "MOT" in text_of(page)
    slots = client.get(f"/book/{link}?work=MOT&date={day}")
    assert fakes[WS].received(BOOKING + "/availability")[0].query == {"date": day, "duration_minutes": "30"}
    form = {
        "csrf_token": csrf_of(slots),
        "idempotency_key": hidden_of(slots, "idempotency_key"),
        "work": "MOT",
        "description": "",
        "start": f"{day}T10:00:00+01:00",
    }
    answer = client.post(f"/book/{link}", data=form)
    assert answer.status_code == 303
    again = client.post(f"/book/{link}", data=form)  # a double tap: the same key
    assert again.status_code == 303
    sent = fakes[WS].received(BOOKING)
    posted = [r for r in sent if r.method == "POST"]
    assert posted[0].json == {"start": f"{day}T10:00:00+01:00", "description": "MOT", "duration_minutes": 30}
    assert (
        posted[0].headers["Idempotency-Key"]
        == posted[1].headers["Idempotency-Key"]
        == form["idempotency_key"]
    )
    done = client.get(answer.headers["Location"])
    assert "Your visit is booked" in text_of(done) and "MOT" in text_of(done)


def test_other_work_needs_a_description_and_a_full_day_says_so(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "booking")
    fakes[WS].route("GET", BOOKING, (200, booking()))
    fakes[WS].route("GET", BOOKING + "/availability", lambda r: (200, free_starts(r.query["date"])))
    page = client.get(
        f"/book/{link}?work=other&description=&date=2030-01-01", headers={"Accept-Language": "en"}
    )
    assert "describe it under other work" in text_of(page)
    assert not fakes[WS].received(BOOKING + "/availability")
    page = client.get(f"/book/{link}?work=other&description=Rattle&date=2030-01-01")
    assert "No free time that day" in text_of(page)
    assert fakes[WS].received(BOOKING + "/availability")[0].query["duration_minutes"] == "60"
    fakes[WS].route("GET", BOOKING + "/availability", lambda r: (200, free_starts(r.query["date"], 9)))
    csrf = csrf_of(client.get(f"/book/{link}?work=MOT&date=2030-01-01"))
    refused = client.post(f"/book/{link}", data={"csrf_token": csrf, "work": "9", "start": "x"})
    assert refused.status_code == 303
    assert not [r for r in fakes[WS].received(BOOKING) if r.method == "POST"]


def test_a_time_gone_when_booking_is_said_and_nothing_booked(
    client: FlaskClient, fakes: dict[str, PortalService]
) -> None:
    link = fakes[WS].link(token(), "booking")
    fakes[WS].route("GET", BOOKING, (200, booking()))
    fakes[WS].route("POST", BOOKING, (409, problem(409, "that time is no longer free", kind="no-capacity")))
    fakes[WS].route("GET", BOOKING + "/availability", lambda r: (200, free_starts(r.query["date"], 9)))
    csrf = csrf_of(client.get(f"/book/{link}?work=SMALL&date=2030-01-02"))
    answer = client.post(
        f"/book/{link}", data={"csrf_token": csrf, "work": "SMALL", "start": "2030-01-02T09:00:00+01:00"}
    )
    assert answer.status_code == 409
    assert "that time is no longer free" in text_of(answer)
