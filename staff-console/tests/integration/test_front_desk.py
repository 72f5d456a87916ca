"""The front desk through the console's pages, against the real services (no browser:
requests follows the redirects a browser would)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from console_harness import Garage, csrf_of

OPEN_TO_ALL = {"/healthz", "/readyz", "/metrics", "/auth/sign-in", "/auth/callback", "/auth/signed-out"}


def test_signed_out_every_page_sends_to_sign_in(garage: Garage) -> None:
    """Every route of the console (read from its URL map, so a new page is covered the day
    it is added), with made-up ids: signed out, a GET is sent to sign in and a POST is
    refused, and nothing is shown or done."""
    import uuid

    import requests

    app = garage.apps["staff-console"]
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "vendor") or rule.rule in OPEN_TO_ALL:
            continue
        values = {name: str(uuid.uuid4()) for name in rule.arguments}  # a uuid is also a fine string
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **values)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            answer = requests.request(method, garage.console_url + path, allow_redirects=False, timeout=10)
            if method == "GET":
                assert answer.status_code == 302, (method, path)
                assert answer.headers["Location"].startswith("/auth/sign-in?next="), (method, path)
            else:
                # No session, so no CSRF token can be right: refused before any view runs.
                assert answer.status_code in (302, 400), (method, path, answer.status_code)
            checked += 1
    assert checked > 40


def test_an_advisor_signs_in_and_sees_the_board_with_their_name(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    board = advisor.get(garage.console_url + "/board", timeout=10)
    assert board.status_code == 200
    assert "Workshop on" in board.text
    assert "Sign out" in board.text


def test_register_a_customer_and_a_vehicle_then_find_them(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    form = advisor.get(garage.console_url + "/customers/new", timeout=10)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)
    fields = {
        "csrf_token": csrf_of(form),
        "idempotency_key": key,
        "kind": "person",
        "name": "Anna de Vries",
        "email": "anna.devries@example.nl",
        "phone": "06 1234 5678",
        "preferred_channel": "email",
        "preferred_language": "nl",
    }
    card = advisor.post(garage.console_url + "/customers/new", data=fields, timeout=10)
    assert card.status_code == 200 and "Anna de Vries" in card.text
    # The same form sent twice (a double-click) registers one customer.
    again = advisor.post(garage.console_url + "/customers/new", data=fields, timeout=10)
    assert again.url == card.url
    vehicle_form = advisor.get(card.url + "/vehicles/new", timeout=10)
    card = advisor.post(
        card.url + "/vehicles/new",
        data={
            "csrf_token": csrf_of(vehicle_form),
            "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', vehicle_form.text).group(
                1
            ),
            "plate": "ab-123-c",
            "make": "Volkswagen",
            "model": "Golf",
        },
        timeout=10,
    )
    assert "AB-123-C" in card.text
    found = advisor.get(garage.console_url + "/customers", params={"q": "devries"}, timeout=10)
    assert found.text.count("Anna de Vries") == 1
    by_plate = advisor.get(garage.console_url + "/customers", params={"q": "AB123C"}, timeout=10)
    assert "Volkswagen Golf" in by_plate.text


def test_a_refused_field_is_shown_beside_it(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    form = advisor.get(garage.console_url + "/customers/new", timeout=10)
    page = advisor.post(
        garage.console_url + "/customers/new",
        data={"csrf_token": csrf_of(form), "kind": "person", "name": "", "email": "not-an-email"},
        timeout=10,
    )
    assert page.status_code == 200
    assert 'aria-invalid="true"' in page.text
    assert 'id="f-name-error"' in page.text or 'id="f-email-error"' in page.text


def test_a_form_without_its_csrf_token_is_refused(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    refused = advisor.post(
        garage.console_url + "/customers/new", data={"kind": "person", "name": "X"}, timeout=10
    )
    assert refused.status_code == 400
    assert "This form has expired" in refused.text


def test_the_day_after_tomorrow_is_shown_on_the_board(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    day = date.today() + timedelta(days=2)
    board = advisor.get(garage.console_url + "/board", params={"day": day.isoformat()}, timeout=10)
    assert board.status_code == 200


def test_checking_in_goes_back_to_the_day_the_board_showed(garage: Garage) -> None:
    # Pages send no Referer: the form says which day it was on. (An appointment no one
    # booked: the check-in is refused, and the answer still goes back to that day.)
    import uuid

    advisor = garage.signed_in("advisor")
    day = date.today() + timedelta(days=2)
    board = advisor.get(garage.console_url + "/board", params={"day": day.isoformat()}, timeout=10)
    answer = advisor.post(
        f"{garage.console_url}/board/appointments/{uuid.uuid4()}/check-in",
        data={"csrf_token": csrf_of(board), "day": day.isoformat()},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/board?day={day.isoformat()}")


def test_no_form_of_the_console_answers_500_to_bad_input(garage: Garage) -> None:
    """Every POST route (from the URL map), signed in as an admin (who may use them all),
    with made-up ids and with empty, nonsense and oversized fields: a page or a redirect,
    never a 500 (the console's own "something went wrong")."""
    from console_harness import Api

    api = Api(garage, "admin")
    settings = api("workshop-scheduling", "GET", "/api/v1/workshop/settings")
    try:
        _post_nonsense_everywhere(garage)
    finally:
        # An empty hours form is a workshop closed every day: the other tests need it open.
        api("workshop-scheduling", "PUT", "/api/v1/workshop/settings", _as_update(settings))


def _as_update(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as read, as the settings PUT takes them."""
    body = {
        key: settings[key] for key in ("booking_horizon_days", "opening_hours", "slot_minutes", "time_zone")
    }
    body["closed_dates"] = [{"date": c["date"], "reason": c.get("reason")} for c in settings["closed_dates"]]
    return body


def _post_nonsense_everywhere(garage: Garage) -> None:
    import uuid

    from flask import url_for

    admin = garage.signed_in("admin")
    token = csrf_of(admin.get(garage.console_url + "/board", timeout=10))
    app = garage.apps["staff-console"]
    bodies = [
        {},
        {
            "amount": "abc",
            "hours": "-1",
            "quantity": "1e9",
            "slot": "|",
            "start": "yesterday",
            "etag": "nope",
        },
        {name: "x" * 5000 for name in ("name", "email", "description", "reason", "password", "plate")},
    ]
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/auth/"):
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **{name: str(uuid.uuid4()) for name in rule.arguments})
        for body in bodies:
            answer = admin.post(
                garage.console_url + path,
                data={"csrf_token": token, **body},
                allow_redirects=False,
                timeout=20,
            )
            assert answer.status_code < 500 or answer.status_code == 503, (
                path,
                body.keys(),
                answer.status_code,
            )
            assert "Something went wrong" not in answer.text, (path, list(body))
            checked += 1
    assert checked > 60
