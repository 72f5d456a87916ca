"""The console's own small rules: how a board day is laid out, how long a canned job is
booked for, where a sign-in may send the browser back to."""

from __future__ import annotations

from flask import Flask
from staff_console.pages.board import board_bays, hour_rows
from staff_console.pages.booking import duration_for, slots_by_day
from staff_console.sign_in import _safe_next


def appointment(bay: str, start: str) -> dict[str, object]:
    return {"bay": {"id": bay, "name": bay}, "start": start, "end": start}


def test_the_board_runs_from_opening_to_closing_and_places_appointments_by_hour() -> None:
    day = {
        "opening_hours": [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:30"}],
        "appointments": [
            appointment("a", "2026-12-08T08:15:00+01:00"),
            appointment("b", "2026-12-08T16:45:00+01:00"),
        ],
    }
    rows = hour_rows(day)
    assert [hour for hour, _ in rows] == list(range(8, 18))
    assert dict(rows)[8] == {"a": [day["appointments"][0]]}
    assert dict(rows)[16] == {"b": [day["appointments"][1]]}
    assert dict(rows)[12] == {}


def test_an_appointment_outside_the_opening_hours_still_gets_its_row() -> None:
    day = {
        "opening_hours": [{"opens": "08:00", "closes": "10:00"}],
        "appointments": [appointment("a", "2026-12-08T19:00:00+01:00")],
    }
    assert [hour for hour, _ in hour_rows(day)][-1] == 19


def test_a_closed_day_without_appointments_has_no_rows() -> None:
    assert hour_rows({"opening_hours": [], "appointments": []}) == []


def test_an_inactive_bay_with_an_appointment_today_stays_on_the_board() -> None:
    day = {"appointments": [appointment("old", "2026-12-08T09:00:00+01:00")]}
    bays = [{"id": "new", "name": "new", "active": True}, {"id": "old", "name": "old", "active": False}]
    assert [bay["id"] for bay in board_bays(day, bays)] == ["new", "old"]


def test_a_canned_job_is_booked_for_its_labour_rounded_up_to_the_half_hour() -> None:
    def canned(*hours: str) -> dict[str, object]:
        lines = [{"kind": "labour", "hours": h, "quantity": h} for h in hours]
        return {"lines": [*lines, {"kind": "part", "quantity": "4.00", "hours": None}]}

    assert duration_for(canned("1.00")) == 60
    assert duration_for(canned("1.20")) == 90
    assert duration_for(canned("0.25", "0.50")) == 60
    assert duration_for(canned()) == 30
    assert duration_for(None) == 60


def test_free_times_are_grouped_by_day_in_order() -> None:
    slots = [
        {"start": "2026-12-08T08:00:00+01:00"},
        {"start": "2026-12-08T09:00:00+01:00"},
        {"start": "2026-12-09T08:00:00+01:00"},
    ]
    assert [(day, len(group)) for day, group in slots_by_day(slots)] == [("2026-12-08", 2), ("2026-12-09", 1)]


def test_after_sign_in_the_browser_goes_back_only_within_the_console() -> None:
    app = Flask(__name__)
    app.add_url_rule("/board", "board.today", lambda: "")
    with app.test_request_context():
        assert _safe_next("/customers?q=jansen") == "/customers?q=jansen"
        for elsewhere in (
            "https://evil.example/",
            "//evil.example/x",
            "javascript:alert(1)",
            "",
            None,
            "board",
        ):
            assert _safe_next(elsewhere) == "/board"


def test_money_and_quantities_as_people_type_them() -> None:
    from staff_console.formatting import amount_text, decimal_text, minor_units

    assert minor_units("175,45") == 17545
    assert minor_units("€ 1.234,50") == 123450
    assert minor_units("1,234.50") == 123450
    assert minor_units("78") == 7800
    for not_an_amount in ("", "12.345", "abc", "-5", None):
        assert minor_units(not_an_amount) is None
    assert amount_text(7850) == "78.50" and amount_text(None) == ""
    assert decimal_text(" 1,5 ") == "1.5" and decimal_text("") is None
