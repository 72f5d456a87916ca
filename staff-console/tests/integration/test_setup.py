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
from console_harness import Garage, booked_appointment, csrf_of, service_stopped

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


# ------------------------------------------------------------ labour rates, canned jobs


def test_a_labour_rate_is_added_and_changed(garage: Garage, admin: requests.Session) -> None:
    code = f"diag-{uuid.uuid4().hex[:6]}"
    page = admin.get(garage.console_url + "/setup/labour-rates", timeout=10)
    added = post(
        admin,
        garage,
        "/setup/labour-rates",
        {"action": "add", "code": code, "name": "Diagnosis", "hourly_rate": "95,00"},
        page,
    )
    assert f"Labour rate {code} saved." in added.text
    assert f'id="f-{code}-hourly_rate" name="hourly_rate" type="text" value="95.00"' in added.text
    assert "€95.00 an hour" in added.text
    # Adding the same code again would replace it: refused before it is sent.
    again = post(
        admin,
        garage,
        "/setup/labour-rates",
        {"action": "add", "code": code, "name": "X", "hourly_rate": "1"},
        added,
    )
    assert 'id="f-new-code-error"' in again.text and "There is a rate with this code already" in again.text
    etag = hidden(added, "etag", near=f'name="code" value="{code}"')
    changed = post(
        admin,
        garage,
        "/setup/labour-rates",
        {"action": "change", "code": code, "etag": etag, "name": "Diagnosis", "hourly_rate": "€ 97.50"},
        added,
    )
    assert f'id="f-{code}-hourly_rate" name="hourly_rate" type="text" value="97.50"' in changed.text
    # The amount maintenance-job-management refuses, beside its field; a stale edit offers reload.
    refused = post(
        admin,
        garage,
        "/setup/labour-rates",
        {
            "action": "change",
            "code": code,
            "etag": hidden(changed, "etag", near=f'name="code" value="{code}"'),
            "name": "Diagnosis",
            "hourly_rate": "a lot",
        },
        changed,
    )
    assert f'id="f-{code}-hourly_rate-error"' in refused.text and 'value="a lot"' in refused.text
    stale = post(
        admin,
        garage,
        "/setup/labour-rates",
        {"action": "change", "code": code, "etag": etag, "name": "Diagnosis", "hourly_rate": "99"},
        changed,
    )
    assert "Someone else changed this in the meantime." in stale.text


def test_a_canned_job_is_added_changed_and_retired(garage: Garage, admin: requests.Session) -> None:
    code = f"brakes-{uuid.uuid4().hex[:6]}"
    form = admin.get(garage.console_url + "/setup/canned-jobs/new", timeout=10)
    fields = {
        "idempotency_key": hidden(form, "idempotency_key"),
        "code": code,
        "name": "Brake pads front",
        "description": "Both front pads, discs checked",
        "work_kind": "",
        "lines.0.kind": "labour",
        "lines.0.description": "Replace front pads",
        "lines.0.amount": "1,5",
        "lines.0.price": "",
        "lines.1.kind": "part",
        "lines.1.description": "",  # an empty row in between is not sent
        "lines.1.amount": "",
        "lines.2.kind": "part",
        "lines.2.description": "Brake pad set",
        "lines.2.amount": "1",
        "lines.2.price": "64.95",
        "lines.2.part_number": "BP-1234",
        "lines.2.vat_rate": "21",
    }
    added = post(admin, garage, "/setup/canned-jobs/new", fields, form)
    assert f"Canned job {code} added." in added.text
    assert post(admin, garage, "/setup/canned-jobs/new", fields, form).text.count(f">{code}<") == 1  # once
    canned_job_id = re.search(
        r'href="/setup/canned-jobs/([0-9a-f-]+)">', added.text[added.text.index(f">{code}<") :]
    )
    assert canned_job_id
    path = f"/setup/canned-jobs/{canned_job_id.group(1)}"
    edit = admin.get(garage.console_url + path, timeout=10)
    # Read back: the lines as maintenance-job-management keeps them.
    assert 'name="lines.0.amount" type="text" value="1.50"' in edit.text
    assert 'name="lines.1.description" type="text" value="Brake pad set"' in edit.text
    assert 'name="lines.1.price" type="text" value="64.95"' in edit.text
    assert 'name="lines.1.part_number" type="text" value="BP-1234"' in edit.text
    # A quantity the contract refuses, beside its field in its row (the third, the second sent).
    change = {
        "etag": hidden(edit, "etag"),
        "code": code,
        "name": "Brake pads front (both sides)",
        "description": "",
        "work_kind": "",
        "lines.0.kind": "labour",
        "lines.0.description": "Replace front pads",
        "lines.0.amount": "1.25",
        "lines.1.kind": "part",
        "lines.1.description": "",
        "lines.2.kind": "part",
        "lines.2.description": "Brake pad set",
        "lines.2.amount": "1.255",
        "lines.2.price": "64.95",
    }
    refused = post(admin, garage, path, change, edit)
    assert 'id="f-lines-2-amount-error"' in refused.text, refused.text[:3000]
    assert re.search(r'name="lines.2.amount" type="text" value="1.255"\s+aria-invalid="true"', refused.text)
    saved = post(admin, garage, path, {**change, "lines.2.amount": "2"}, edit)
    assert f"Canned job {code} saved." in saved.text and "Brake pads front (both sides)" in saved.text
    again = admin.get(garage.console_url + path, timeout=10)
    assert 'name="lines.0.amount" type="text" value="1.25"' in again.text
    assert 'name="lines.1.amount" type="text" value="2.00"' in again.text
    assert "Both front pads" not in again.text  # the description emptied
    # The edit made with the page read before the save is stale now.
    stale = post(admin, garage, path, {**change, "lines.2.amount": "3", "name": "Pads"}, edit)
    assert "Someone else changed this in the meantime." in stale.text
    # Retired from the list.
    listed = admin.get(garage.console_url + "/setup/canned-jobs", timeout=10)
    row = listed.text[listed.text.index(f">{code}<") :]
    retired = post(
        admin,
        garage,
        "/setup/canned-jobs",
        {
            "canned_job_id": canned_job_id.group(1),
            "etag": hidden(listed, "etag", near=f">{code}<"),
            "active": "false",
        },
        listed,
    )
    assert "Canned job saved." in retired.text
    row = retired.text[retired.text.index(f">{code}<") :]
    assert "no, retired" in row[: row.index("</tr>")] and "Offer again" in row[: row.index("</tr>")]


# ----------------------------------------------------------------- notification templates


def test_a_template_preview_shows_the_rendered_text_escaped(garage: Garage, admin: requests.Session) -> None:
    path = "/setup/templates/appointment_reminder/en"
    page = admin.get(garage.console_url + path, timeout=10)
    assert page.status_code == 200 and 'name="subject"' in page.text
    preview = post(
        admin,
        garage,
        path,
        {
            "action": "preview",
            "etag": hidden(page, "etag"),
            "subject": "<script>alert('x')</script> See you, {{ customer.name }}",
            "body": "<b>Bold?</b> Hello {{ customer.name }}",
            "sms_body": "Hi {{ customer.name }}",
        },
        page,
    )
    assert preview.status_code == 200
    assert "preview-heading" in preview.text, text_of(preview)[:1500]
    section = preview.text[preview.text.index('id="preview-heading"') :]
    # Rendered by notification-management with its sample data, shown as text: escaped.
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; See you, " in section
    assert "&lt;b&gt;Bold?&lt;/b&gt; Hello " in section
    assert "<script>" not in preview.text and "<b>Bold?" not in preview.text
    assert "{{ customer.name }}" not in section  # filled in
    # Nothing was saved by the preview.
    assert "&lt;script&gt;" not in admin.get(garage.console_url + path, timeout=10).text


def test_a_template_is_saved_refused_beside_its_field_and_a_stale_save_offers_reload(
    garage: Garage, admin: requests.Session
) -> None:
    path = "/setup/templates/vehicle_ready/en"
    page = admin.get(garage.console_url + path, timeout=10)
    texts = {name: hidden_text(page, name) for name in ("subject", "body", "sms_body")}
    marker = uuid.uuid4().hex[:8]
    refused = post(
        admin,
        garage,
        path,
        {"action": "save", "etag": hidden(page, "etag"), **texts, "body": "Hello {{ name"},
        page,
    )
    assert 'id="f-body-error"' in refused.text and "saved" not in refused.text
    saved = post(
        admin,
        garage,
        path,
        {"action": "save", "etag": hidden(page, "etag"), **texts, "sms_body": f"Ready ({marker})"},
        page,
    )
    assert "Template saved." in saved.text and f"Ready ({marker})" in saved.text
    listed = admin.get(garage.console_url + "/setup/templates", params={"type": "vehicle_ready"}, timeout=10)
    assert "/setup/templates/vehicle_ready/en" in listed.text and "appointment_reminder/en" not in listed.text
    stale = post(admin, garage, path, {"action": "save", "etag": hidden(page, "etag"), **texts}, page)
    assert "Someone else changed this in the meantime." in stale.text
    assert f'<a href="{path}">Reload to see their change</a>' in stale.text


def test_a_type_gets_another_language(garage: Garage, admin: requests.Session) -> None:
    listed = admin.get(garage.console_url + "/setup/templates", timeout=10)
    form = admin.get(
        garage.console_url + "/setup/templates/add",
        params={"type": "estimate_ready", "language": "de"},
        timeout=10,
    )
    assert form.url.endswith("/setup/templates/estimate_ready/de")
    assert "There is no template of this type in this language yet" in form.text
    # The page stays in the person's language, whatever the template's.
    assert '<html lang="en">' in form.text
    filtered = admin.get(garage.console_url + "/setup/templates", params={"language": "de"}, timeout=10)
    assert '<html lang="en">' in filtered.text
    saved = post(
        admin,
        garage,
        "/setup/templates/estimate_ready/de",
        {
            "action": "save",
            "subject": "Kostenvoranschlag",
            "body": "Hallo {{ customer.name }}",
            "sms_body": "Hallo",
        },
        form,
    )
    assert "Template saved." in saved.text and "There is no template" not in saved.text
    assert (
        "/setup/templates/estimate_ready/de"
        in admin.get(garage.console_url + "/setup/templates", timeout=10).text
    )
    assert listed.status_code == 200


def hidden_text(page: requests.Response, name: str) -> str:
    """A form field's text as the page shows it (an input's value or a textarea's content)."""
    match = re.search(rf'name="{name}" type="text" value="([^"]*)"', page.text) or re.search(
        rf'name="{name}"[^>]*>([^<]*)</textarea>', page.text
    )
    assert match, name
    return html.unescape(match.group(1))


# ------------------------------------------------------------------------ staff accounts


def sign_in(garage: Garage, email: str, password: str) -> tuple[requests.Session, requests.Response]:
    """A browser signing in to the console through identity's page with these details:
    the browser and where it ends (the console when identity let it in)."""
    browser = requests.Session()
    page = browser.get(garage.console_url + "/auth/sign-in", timeout=10)
    answer = browser.post(
        page.url, data={"csrf_token": csrf_of(page), "email": email, "password": password}, timeout=10
    )
    return browser, answer


def signed_in_to_console(garage: Garage, answer: requests.Response) -> bool:
    return answer.url.startswith(garage.console_url) and "Sign out" in answer.text


def act(
    browser: requests.Session, url: str, page: requests.Response, action: str, **fields: Any
) -> requests.Response:
    """One of an account page's buttons: its action, with the page's CSRF token and ETag."""
    data = {"csrf_token": csrf_of(page), "action": action, "etag": hidden(page, "etag"), **fields}
    return browser.post(url, data=data, timeout=10)


def test_a_staff_account_is_made_changed_disabled_and_can_no_longer_sign_in(
    garage: Garage, admin: requests.Session
) -> None:
    email = f"sanne.{uuid.uuid4().hex[:8]}@garage.example"
    password = "first-password-" + uuid.uuid4().hex[:6]  # pragma: allowlist secret
    form = admin.get(garage.console_url + "/setup/staff/new", timeout=10)
    # A password identity refuses (too short), beside its field; nothing made.
    short = post(
        admin,
        garage,
        "/setup/staff/new",
        {
            "idempotency_key": hidden(form, "idempotency_key"),
            "name": "Sanne Bakker",
            "email": email,
            "roles": "advisor",
            "password": "short",  # pragma: allowlist secret
        },
        form,
    )
    assert 'id="f-password-error"' in short.text and 'aria-invalid="true"' in short.text
    assert 'value="short"' not in short.text  # a password is never shown back
    # The form keeps its key: a refusal is not kept under it, so the corrected form makes one.
    assert hidden(short, "idempotency_key") == hidden(form, "idempotency_key")
    made = post(
        admin,
        garage,
        "/setup/staff/new",
        {
            "idempotency_key": hidden(short, "idempotency_key"),  # the refused form's key
            "name": "Sanne Bakker",
            "email": email,
            "roles": "advisor",
            "password": password,
        },
        short,
    )
    assert "Account for Sanne Bakker made." in made.text, text_of(made)[:2000]
    account_page = made.url
    account_id = account_page.rstrip("/").rsplit("/", 1)[1]
    assert re.search(r'value="advisor" checked', made.text)
    listed = admin.get(garage.console_url + "/setup/staff", timeout=10)
    assert email in listed.text and f"/setup/staff/{account_id}" in listed.text
    # She signs in: an advisor sees no set-up.
    _, answer = sign_in(garage, email, password)
    assert signed_in_to_console(garage, answer) and 'href="/setup"' not in answer.text
    # Her roles changed to technician (and her name), read back from identity (her sign-in
    # changed the account: the page is read again for its ETag).
    page = admin.get(account_page, timeout=10)
    changed = act(admin, account_page, page, "save", name="Sanne de Bakker", roles=["technician"])
    assert "Name and roles saved." in changed.text, text_of(changed)[:1500]
    assert "Sanne de Bakker" in changed.text
    assert re.search(r'value="technician" checked', changed.text) and not re.search(
        r'value="advisor" checked', changed.text
    )
    # A stale change offers to reload.
    stale = act(admin, account_page, page, "save", name="X", roles=["admin"])
    assert "Someone else changed this in the meantime." in stale.text
    assert f'<a href="/setup/staff/{account_id}">Reload to see their change</a>' in stale.text
    # As a technician she can be linked to a technician of the workshop.
    technicians = admin.get(garage.console_url + "/setup/technicians", timeout=10)
    assert f'<option value="{account_id}">Sanne de Bakker ({email})</option>' in technicians.text
    linked = post(
        admin,
        garage,
        "/setup/technicians",
        {
            "action": "add",
            "idempotency_key": hidden(technicians, "idempotency_key"),
            "name": "Sanne de Bakker",
            "skills": "",
            "account_subject": account_id,
        },
        technicians,
    )
    assert "Technician added." in linked.text
    assert f'<option value="{account_id}" selected>Sanne de Bakker ({email})</option>' in linked.text
    # Disabled: she can no longer sign in.
    disabled = act(admin, account_page, changed, "disable")
    assert "Account disabled: it can no longer sign in." in disabled.text
    assert "disabled: cannot sign in" in disabled.text
    _, refused = sign_in(garage, email, password)
    assert not signed_in_to_console(garage, refused) and refused.url.startswith(garage.issuer)
    listed = admin.get(garage.console_url + "/setup/staff", timeout=10)
    row = listed.text[listed.text.index(email) :]
    assert "disabled" in row[: row.index("</tr>")]
    # Enabled with a new password: she signs in with that one.
    enabled = act(admin, account_page, disabled, "enable")
    assert "Account enabled." in enabled.text
    new_password = "second-password-" + uuid.uuid4().hex[:6]  # pragma: allowlist secret
    reset = act(admin, account_page, enabled, "password", password=new_password)
    assert "New password set" in reset.text
    assert not signed_in_to_console(garage, sign_in(garage, email, password)[1])
    assert signed_in_to_console(garage, sign_in(garage, email, new_password)[1])


def test_a_locked_account_shows_its_lock_and_the_admin_lifts_it(
    garage: Garage, admin: requests.Session
) -> None:
    email = f"joost.{uuid.uuid4().hex[:8]}@garage.example"
    password = "joost-password-" + uuid.uuid4().hex[:6]  # pragma: allowlist secret
    form = admin.get(garage.console_url + "/setup/staff/new", timeout=10)
    made = post(
        admin,
        garage,
        "/setup/staff/new",
        {
            "idempotency_key": hidden(form, "idempotency_key"),
            "name": "Joost Visser",
            "email": email,
            "roles": "accountant",
            "password": password,
        },
        form,
    )
    for _ in range(5):  # identity locks an account after five failures in a row
        assert not signed_in_to_console(garage, sign_in(garage, email, "not-his-password")[1])
    locked = admin.get(made.url, timeout=10)
    assert "locked until" in locked.text and "Lift the lock" in locked.text
    listed = admin.get(garage.console_url + "/setup/staff", timeout=10)
    row = listed.text[listed.text.index(email) :]
    assert "locked until" in row[: row.index("</tr>")]
    assert not signed_in_to_console(garage, sign_in(garage, email, password)[1])  # locked: refused
    lifted = act(admin, made.url, locked, "unlock")
    assert "Lock lifted." in lifted.text and "locked until" not in lifted.text
    assert signed_in_to_console(garage, sign_in(garage, email, password)[1])


# -------------------------------------------------------------- messages that gave up


class Mailbox:
    """The SMTP server as notification-management's dispatcher meets it: it takes every
    message, but refuses one address for good (a mailbox that does not exist)."""

    def __init__(self, refused: str) -> None:
        self.refused = refused

    def send(self, *, to: str, subject: str, body: str, attachments: Any = (), reference: str) -> str:
        from notification_management.senders import DeliveryFailed

        if to == self.refused:
            raise DeliveryFailed("550 5.1.1 no such mailbox", permanent=True)
        return f"taken-{reference}"


def give_up_on(garage: Garage, service: str, idempotency_key: str) -> str:
    """One round of ``service``'s outbox relay in which the message with this key meets a
    peer that does not answer (an address nobody listens on) and, allowed one try only,
    gives up: it is dead. Every other message due goes to its real peer. Its id."""
    from dataclasses import replace

    from service_kit.fakes import closed_url
    from service_kit.http_client import ClientSettings, ServiceClient
    from service_kit.outbox import HttpSender, OutboxRelay
    from service_kit.retry import RetryPolicy

    app = garage.apps[service]
    with app.app_context():
        relay = OutboxRelay.for_app(app)
    nobody = HttpSender(
        lambda target: ServiceClient(
            target, ClientSettings(base_url=closed_url(), retries=0), token=lambda: None
        )
    )
    given_up: list[str] = []

    def send(message: Any) -> Any:
        if message.idempotency_key != idempotency_key:
            return relay.send(message)
        given_up.append(str(message.id))
        return nobody(message)

    stats = replace(relay, send=send, policy=RetryPolicy(max_attempts=1)).run_once()
    assert given_up and stats.dead >= 1, stats
    return given_up[0]


def weekdays_open(garage: Garage, admin: requests.Session) -> None:
    page = admin.get(garage.console_url + "/setup/hours", timeout=10)
    hours = {name: "" for name in hours_form(page) if name.startswith("opening")}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        hours |= {f"opening_hours.{day}.0.opens": "08:00", f"opening_hours.{day}.0.closes": "17:30"}
    assert "saved." in post(admin, garage, "/setup/hours", {"etag": hidden(page, "etag"), **hours}, page).text


def test_a_dead_outbox_message_and_a_dead_notification_are_sent_again(
    garage: Garage, admin: requests.Session
) -> None:
    from notification_management.dispatcher import Dispatcher

    weekdays_open(garage, admin)
    appointment = booked_appointment(garage, f"Dead Letter {uuid.uuid4().hex[:6]}")
    # workshop-scheduling's request to notification-management (the confirmation) gives up.
    message_id = give_up_on(garage, "workshop-scheduling", f"appointment-confirmed-{appointment['id']}")
    retry = f"/setup/dead-messages/workshop-scheduling/{message_id}/retry"
    page = admin.get(garage.console_url + "/setup/dead-messages", timeout=10)
    assert f'action="{retry}"' in page.text
    row = page.text[page.text.index(f'action="{retry}"') - 1500 : page.text.index(f'action="{retry}"')]
    assert "notification-management" in row and "POST /api/v1/notifications" in row
    assert "DependencyFailed" in row  # why it gave up
    sent = post(admin, garage, retry, {}, page)
    assert "Sent again: workshop-scheduling delivers it with its next round." in sent.text
    assert f'action="{retry}"' not in sent.text
    again = post(admin, garage, retry, {}, sent)  # it is no longer dead: workshop-scheduling's 409
    assert "Not sent again:" in again.text
    garage.drain()  # the relay's round: the confirmation reaches notification-management
    # Its delivery gives up too: the customer's mailbox does not exist.
    notifications = garage.apps["notification-management"]
    stats = Dispatcher.for_app(notifications, email=Mailbox(appointment["customer"]["email"])).run_once()
    assert stats.dead >= 1, stats
    page = admin.get(garage.console_url + "/setup/dead-messages", timeout=10)
    card = f'href="/customers/{appointment["customer"]["id"]}"'
    assert card in page.text
    row = page.text[page.text.index(card) :]
    row = row[: row.index("</tr>")]
    assert "Appointment confirmed" in row and "550 5.1.1 no such mailbox" in row
    notification_retry = re.search(r'action="(/setup/dead-notifications/[0-9a-f-]+/retry)"', row)
    assert notification_retry
    retried = post(admin, garage, notification_retry.group(1), {}, page)
    assert "The notification will be sent again." in retried.text
    assert card not in retried.text


def test_one_service_not_answering_spoils_only_its_part_of_the_dead_messages(
    garage: Garage, admin: requests.Session
) -> None:
    def parts(page: requests.Response) -> dict[str, str]:
        """Each part of the page (its heading's id) -> its text."""
        found = re.findall(r'<section aria-labelledby="([^"]+)-heading".*?</section>', page.text, re.S)
        bodies = re.split(r'<section aria-labelledby="[^"]+-heading"', page.text)[1:]
        return {
            name: html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))
            for name, body in zip(found, bodies, strict=True)
        }

    with service_stopped(garage, "invoicing"):
        page = admin.get(garage.console_url + "/setup/dead-messages", timeout=15)
    assert page.status_code == 200
    shown = parts(page)
    assert "invoicing is not answering, try again." in shown["outbox-invoicing"]
    for name in (
        "outbox-workshop-scheduling",
        "outbox-maintenance-job-management",
        "outbox-identity",
        "notifications",
    ):
        assert "is not answering" not in shown[name], name
    with service_stopped(garage, "notification-management"):
        page = admin.get(garage.console_url + "/setup/dead-messages", timeout=15)
    shown = parts(page)
    assert "notification-management is not answering, try again." in shown["notifications"]
    assert "is not answering" not in shown["outbox-invoicing"]


# -------------------------------------------------------- the garage's own provider


def test_identity_is_reached_for_accounts_only_when_it_is_the_provider() -> None:
    from staff_console.config import load_config

    with_identity = load_config(
        env={"IDENTITY_ISSUER": "https://id.garage.example", "IDENTITY_INTERNAL_URL": "http://identity:8007"}
    )
    assert with_identity["IDENTITY_URL"] == "http://identity:8007"
    own_provider = load_config(env={"OIDC_ISSUER": "https://sso.garage.example/realms/garage"})
    assert "IDENTITY_URL" not in own_provider


def test_with_the_garages_own_provider_accounts_are_managed_there(
    garage: Garage, admin: requests.Session
) -> None:
    from staff_console.garage import EXTENSION

    console = garage.apps["staff-console"]
    clients = console.extensions[EXTENSION]
    identity, issuer = clients.pop("identity"), console.config["OIDC_ISSUER"]
    console.config["OIDC_ISSUER"] = "https://sso.garage.example/realms/garage"
    try:
        for path in ("/setup/staff", "/setup/staff/new", f"/setup/staff/{uuid.uuid4()}"):
            page = admin.get(garage.console_url + path, timeout=10)
            assert page.status_code == 200
            assert "their accounts and roles are managed there, not here" in page.text
            assert "https://sso.garage.example/realms/garage" in page.text
        technicians = admin.get(garage.console_url + "/setup/technicians", timeout=10)
        assert 'id="f-new-account_subject" name="account_subject" type="text"' in technicians.text  # typed
        dead = admin.get(garage.console_url + "/setup/dead-messages", timeout=10)
        assert "From identity" not in dead.text and "From invoicing" in dead.text
    finally:
        console.config["OIDC_ISSUER"] = issuer
        clients["identity"] = identity


def test_the_set_up_speaks_dutch_to_who_chose_it(garage: Garage) -> None:
    owner = garage.signed_in("admin")
    page = owner.get(garage.console_url + "/setup", timeout=10)
    owner.post(
        garage.console_url + "/language",
        data={"csrf_token": csrf_of(page), "language": "nl"},
        headers={"Referer": garage.console_url + "/setup"},
        timeout=10,
    )
    dutch = text_of(owner.get(garage.console_url + "/setup", timeout=10))
    assert (
        "Instellingen" in dutch
        and "Openingstijden en sluitingsdagen" in dutch
        and "Standaardklussen" in dutch
    )
    hours = text_of(owner.get(garage.console_url + "/setup/hours", timeout=10))
    assert "Maandag" in hours and "Sluitingsdagen" in hours and "Monday" not in hours
    dead = text_of(owner.get(garage.console_url + "/setup/dead-messages", timeout=10))
    assert "Opgegeven berichten" in dead and "Berichten aan klanten (notification-management)" in dead
