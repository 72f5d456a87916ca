"""The owner's set-up through the console's pages, against the real services and identity
(no browser: requests follows the redirects a browser would). Each change is read back
from the service through the console's pages, which show what the service answers."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
import requests
from console_harness import Garage, csrf_of

SETUP_PAGES = (
    "/setup",
    "/setup/hours",
    "/setup/bays",
    "/setup/technicians",
    "/setup/labour-rates",
    "/setup/canned-jobs",
    "/setup/canned-jobs/new",
    "/setup/templates",
    "/setup/templates/appointment_confirmed/en",
    "/setup/staff",
    "/setup/staff/new",
    "/setup/dead-messages",
)


def hidden(page: requests.Response, name: str, *, near: str | None = None) -> str:
    """A hidden field's value; with ``near``, the first after that text (a form per row)."""
    text = page.text[page.text.index(near) :] if near else page.text
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', text)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


def text_of(page: requests.Response) -> str:
    """The page's text without tags (what a person reads), entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


@pytest.fixture(scope="module")
def admin(garage: Garage) -> requests.Session:
    return garage.signed_in("admin")


def hours_form(page: requests.Response) -> dict[str, str]:
    """The opening hours and closed days as the hours page's form holds them."""
    fields = dict(
        re.findall(r'<input id="[^"]*" name="([^"]+)" type="(?:text|date)" value="([^"]*)"', page.text)
    )
    return {
        name: html.unescape(value) for name, value in fields.items() if name.startswith(("opening", "closed"))
    }


@pytest.fixture(scope="module", autouse=True)
def workshop_kept(garage: Garage) -> Any:
    """These tests change the opening hours: afterwards they are put back as they were, so
    tests that book later find the hours they expect."""
    admin = garage.signed_in("admin")
    before = hours_form(admin.get(garage.console_url + "/setup/hours", timeout=10))
    yield
    page = admin.get(garage.console_url + "/setup/hours", timeout=10)
    back = {name: "" for name in hours_form(page)} | before
    answer = admin.post(
        garage.console_url + "/setup/hours",
        data={"csrf_token": csrf_of(page), "etag": hidden(page, "etag"), **back},
        timeout=10,
    )
    assert "saved." in answer.text


def post(
    browser: requests.Session, garage: Garage, path: str, data: dict[str, Any], page: requests.Response
) -> requests.Response:
    return browser.post(garage.console_url + path, data={"csrf_token": csrf_of(page), **data}, timeout=15)


# ---------------------------------------------------------------------------------- pages


def test_every_set_up_page_renders_for_the_admin(garage: Garage, admin: requests.Session) -> None:
    for path in SETUP_PAGES:
        page = admin.get(garage.console_url + path, timeout=15)
        assert page.status_code == 200, (path, page.text[:500])
        assert "<h1>" in page.text
    menu = admin.get(garage.console_url + "/setup", timeout=10)
    assert 'href="/setup" aria-current="page">Set-up</a>' in menu.text


def test_set_up_is_for_the_admin_only(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    board = advisor.get(garage.console_url + "/board", timeout=10)
    assert 'href="/setup"' not in board.text
    for path in ("/setup", "/setup/hours", "/setup/staff", "/setup/dead-messages"):
        assert advisor.get(garage.console_url + path, timeout=10).status_code == 403
    signed_out = requests.get(garage.console_url + "/setup/bays", allow_redirects=False, timeout=10)
    assert signed_out.status_code == 302 and "/auth/sign-in" in signed_out.headers["Location"]


# -------------------------------------------------------- opening hours and closed days


def test_opening_hours_and_a_closed_day_are_saved(garage: Garage, admin: requests.Session) -> None:
    page = admin.get(garage.console_url + "/setup/hours", timeout=10)
    saved = post(
        admin,
        garage,
        "/setup/hours",
        {
            "etag": hidden(page, "etag"),
            "opening_hours.monday.0.opens": "08:00",
            "opening_hours.monday.0.closes": "12:00",
            "opening_hours.monday.1.opens": "13:00",
            "opening_hours.monday.1.closes": "17:30",
            "opening_hours.tuesday.0.opens": "08:00",
            "opening_hours.tuesday.0.closes": "17:30",
            "opening_hours.saturday.0.opens": "09:00",
            "opening_hours.saturday.0.closes": "12:00",
            "closed_dates.0.date": "2031-12-25",
            "closed_dates.0.reason": "Christmas",
        },
        page,
    )
    assert saved.status_code == 200 and "Opening hours and closed days saved." in saved.text
    # Read back: the page shows what workshop-scheduling now has.
    assert 'name="opening_hours.monday.1.closes" type="text" value="17:30"' in saved.text
    assert 'name="opening_hours.saturday.0.opens" type="text" value="09:00"' in saved.text
    assert 'name="opening_hours.wednesday.0.opens" type="text" value=""' in saved.text  # closed
    assert 'value="2031-12-25"' in saved.text and 'value="Christmas"' in saved.text
    # The closed day removed again, the rest kept.
    removed = post(
        admin,
        garage,
        "/setup/hours",
        {
            "etag": hidden(saved, "etag"),
            "opening_hours.monday.0.opens": "08:00",
            "opening_hours.monday.0.closes": "17:30",
            "closed_dates.0.date": "2031-12-25",
            "closed_dates.0.reason": "Christmas",
            "closed_dates.0.remove": "yes",
        },
        saved,
    )
    assert "Opening hours and closed days saved." in removed.text
    assert "2031-12-25" not in removed.text
    assert 'name="opening_hours.monday.0.closes" type="text" value="17:30"' in removed.text


def test_a_save_sends_back_the_settings_the_page_does_not_show() -> None:
    from staff_console.pages.setup.workshop import settings_body

    current = {
        "time_zone": "Europe/Amsterdam",
        "slot_minutes": 30,
        "booking_horizon_days": 120,
        "opening_hours": {"monday": [{"opens": "08:00", "closes": "17:00"}]},
        "closed_dates": [{"date": "2031-01-01", "reason": None}],
        "a_field_added_later": {"kept": True},
        "version": 4,
        "updated_at": "2031-01-01T00:00:00Z",
        "_etag": '"4"',
    }
    form = {
        "opening_hours.friday.0.opens": "07:30",
        "opening_hours.friday.0.closes": "16:00",
        "opening_hours.friday.1.opens": "",
        "opening_hours.friday.1.closes": "",
        "opening_hours.friday.2.opens": "18:00",
        "opening_hours.friday.2.closes": "21:00",
        "closed_dates.0.date": "",
        "closed_dates.0.reason": "",
        "closed_dates.1.date": "2031-04-27",
        "closed_dates.1.reason": "King's Day",
    }
    body, rows = settings_body(form, current)
    assert body["slot_minutes"] == 30 and body["booking_horizon_days"] == 120
    assert body["time_zone"] == "Europe/Amsterdam" and body["a_field_added_later"] == {"kept": True}
    assert not {"version", "updated_at", "_etag"} & set(body)
    assert body["opening_hours"]["friday"] == [
        {"opens": "07:30", "closes": "16:00"},
        {"opens": "18:00", "closes": "21:00"},
    ]
    assert body["opening_hours"]["monday"] == []  # the form had no Monday: closed
    assert body["closed_dates"] == [{"date": "2031-04-27", "reason": "King's Day"}]
    assert rows["opening_hours.friday"] == [0, 2] and rows["closed_dates"] == [1]


def test_refused_opening_hours_show_beside_their_fields(garage: Garage, admin: requests.Session) -> None:
    page = admin.get(garage.console_url + "/setup/hours", timeout=10)
    # The contract's pattern, beside Tuesday's opening time, what was typed kept.
    refused = post(
        admin,
        garage,
        "/setup/hours",
        {
            "etag": hidden(page, "etag"),
            "opening_hours.tuesday.0.opens": "8 uur",
            "opening_hours.tuesday.0.closes": "17:00",
        },
        page,
    )
    assert refused.status_code == 200 and "saved." not in refused.text
    assert 'id="f-opening_hours-tuesday-0-opens-error"' in refused.text
    assert re.search(
        r'name="opening_hours.tuesday.0.opens" type="text" value="8 uur"\s+aria-invalid="true"', refused.text
    )
    # workshop-scheduling's rule for a period, under Monday's third row, which is the second
    # period sent (an empty row is not sent): the refusal finds its row.
    refused = post(
        admin,
        garage,
        "/setup/hours",
        {
            "etag": hidden(page, "etag"),
            "opening_hours.monday.0.opens": "08:00",
            "opening_hours.monday.0.closes": "17:00",
            "opening_hours.monday.1.opens": "",
            "opening_hours.monday.1.closes": "",
            "opening_hours.monday.2.opens": "18:00",
            "opening_hours.monday.2.closes": "17:00",
        },
        page,
    )
    assert refused.status_code == 200 and "saved." not in refused.text
    row = refused.text[refused.text.index('name="opening_hours.monday.2.opens"') :]
    assert re.search(r'<p class="error" id="f-opening_hours-monday-2-error">opens must be before closes', row)
    assert 'value="18:00"' in row


def test_a_stale_settings_edit_offers_to_reload(garage: Garage, admin: requests.Session) -> None:
    page = admin.get(garage.console_url + "/setup/hours", timeout=10)
    stale = hidden(page, "etag")
    fields = {"opening_hours.monday.0.opens": "08:00", "opening_hours.monday.0.closes": "17:30"}
    # Someone else (another admin) saves first.
    other = garage.signed_in("admin")
    theirs = other.get(garage.console_url + "/setup/hours", timeout=10)
    change = {
        "closed_dates.0.date": "2031-05-05",
        "closed_dates.0.reason": f"Liberation Day {uuid.uuid4().hex[:6]}",
    }
    assert "saved." in post(other, garage, "/setup/hours", {"etag": stale, **fields, **change}, theirs).text
    refused = post(
        admin,
        garage,
        "/setup/hours",
        {
            "etag": stale,
            **fields,
            "opening_hours.friday.0.opens": "07:00",
            "opening_hours.friday.0.closes": "15:00",
        },
        page,
    )
    assert refused.status_code == 200
    assert "Someone else changed this in the meantime." in refused.text
    assert '<a href="/setup/hours">Reload to see their change</a>' in refused.text
    # What was typed is still there to copy, with the stale ETag (saving again is refused again).
    assert 'name="opening_hours.friday.0.opens" type="text" value="07:00"' in refused.text
    assert hidden(refused, "etag") == stale


# --------------------------------------------------------------- bays and technicians


def test_a_bay_is_added_renamed_and_taken_out_of_use(garage: Garage, admin: requests.Session) -> None:
    name = f"Lift {uuid.uuid4().hex[:6]}"
    page = admin.get(garage.console_url + "/setup/bays", timeout=10)
    fields = {
        "action": "add",
        "idempotency_key": hidden(page, "idempotency_key"),
        "name": name,
        "kind": "lift",
    }
    added = post(admin, garage, "/setup/bays", fields, page)
    assert "Bay added." in added.text and f'value="{name}"' in added.text
    # The same form sent twice (a double-click) adds one bay.
    post(admin, garage, "/setup/bays", fields, page)
    assert admin.get(garage.console_url + "/setup/bays", timeout=10).text.count(f'value="{name}"') == 1
    row = added.text[: added.text.index(f'value="{name}"')]
    bay_id = re.findall(r'name="item_id" value="([^"]+)"', row)[-1]
    etag = re.findall(r'name="etag" value="([^"]+)"', row)[-1]
    renamed = post(
        admin,
        garage,
        "/setup/bays",
        {
            "action": "change",
            "item_id": bay_id,
            "etag": html.unescape(etag),
            "name": name + " (new)",
            "kind": "alignment",
        },
        added,
    )
    assert "Bay saved." in renamed.text
    assert f'value="{name} (new)"' in renamed.text and 'value="alignment"' in renamed.text
    out = post(
        admin,
        garage,
        "/setup/bays",
        {
            "action": "active",
            "item_id": bay_id,
            "etag": hidden(renamed, "etag", near=f'value="{bay_id}"'),
            "active": "false",
        },
        renamed,
    )
    assert "Bay saved." in out.text
    row = out.text[out.text.index(f'id="f-{bay_id}-name"') :]
    assert "Not in use" in row[: row.index("</li>")] and "Bring into use" in row[: row.index("</li>")]


def test_a_refused_bay_shows_the_refusal_beside_its_field(garage: Garage, admin: requests.Session) -> None:
    page = admin.get(garage.console_url + "/setup/bays", timeout=10)
    refused = post(
        admin,
        garage,
        "/setup/bays",
        {
            "action": "add",
            "idempotency_key": hidden(page, "idempotency_key"),
            "name": "Wash bay",
            "kind": "Wash Bay!",
        },
        page,
    )
    assert refused.status_code == 200 and "Bay added." not in refused.text
    assert 'id="f-new-kind-error"' in refused.text
    assert re.search(
        r'id="f-new-kind" name="kind" type="text" value="Wash Bay!"[^>]*aria-invalid="true"', refused.text
    )


def test_a_technician_is_added_with_skills_changed_and_deactivated(
    garage: Garage, admin: requests.Session
) -> None:
    name = f"Piet {uuid.uuid4().hex[:6]}"
    page = admin.get(garage.console_url + "/setup/technicians", timeout=10)
    added = post(
        admin,
        garage,
        "/setup/technicians",
        {
            "action": "add",
            "idempotency_key": hidden(page, "idempotency_key"),
            "name": name,
            "skills": "brakes, tyres",
        },
        page,
    )
    assert "Technician added." in added.text
    row = added.text[: added.text.index(f'value="{name}"')]
    technician_id = re.findall(r'name="item_id" value="([^"]+)"', row)[-1]
    etag = html.unescape(re.findall(r'name="etag" value="([^"]+)"', row)[-1])
    assert f'id="f-{technician_id}-skills" name="skills" type="text" value="brakes, tyres"' in added.text
    changed = post(
        admin,
        garage,
        "/setup/technicians",
        {
            "action": "change",
            "item_id": technician_id,
            "etag": etag,
            "name": name,
            "skills": "brakes diagnosis",
        },
        added,
    )
    assert (
        f'id="f-{technician_id}-skills" name="skills" type="text" value="brakes, diagnosis"' in changed.text
    )
    # A skill the contract refuses, beside the skills field of that row.
    refused = post(
        admin,
        garage,
        "/setup/technicians",
        {
            "action": "change",
            "item_id": technician_id,
            "etag": hidden(changed, "etag", near=f'value="{technician_id}"'),
            "name": name,
            "skills": "Brakes!",
        },
        changed,
    )
    assert f'id="f-{technician_id}-skills-error"' in refused.text
    # A stale one (the ETag of before the change) offers to reload.
    stale = post(
        admin,
        garage,
        "/setup/technicians",
        {"action": "active", "item_id": technician_id, "etag": etag, "active": "false"},
        changed,
    )
    assert "Someone else changed this in the meantime." in stale.text
    out = post(
        admin,
        garage,
        "/setup/technicians",
        {
            "action": "active",
            "item_id": technician_id,
            "etag": hidden(changed, "etag", near=f'value="{technician_id}"'),
            "active": "false",
        },
        changed,
    )
    assert "Technician saved." in out.text
    row = out.text[out.text.index(f'id="f-{technician_id}-name"') :]
    assert "Not active" in row[: row.index("</li>")]
