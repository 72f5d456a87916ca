"""The customer portal's pay link (issue 18, docs/customer-portal.md): invoicing puts a
link it signed in `invoice_issued` and `payment_reminder`, and lets the portal's
service identity (role portal) see that one invoice, its PDF, and record a payment the
provider took for it - exactly once per provider payment, however often and however
concurrently it is reported. Everything else is refused and changes nothing."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from invoicing.models import db
from invoicing.service import reminders
from invoicing.service.portal import PAYMENT_RECORD_GRACE
from invoicing.service.settings import Settings
from sqlalchemy import text

from service_kit.contract_testing import find_contract, validate_response
from service_kit.links import issue_link, revoke_links
from service_kit.testing import assert_problem, run_concurrently

URL = "/api/v1/invoices"
PORTAL = "/api/v1/portal/invoice"
LINK_PROBLEM = "link-not-valid"


# ---------------------------------------------------------------------------- helpers


def _rows(app, sql: str, **params: Any) -> list[Any]:
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def _links(app, invoice_id: str) -> list[Any]:
    return _rows(
        app, "SELECT * FROM invoicing.portal_links WHERE resource_id = :id ORDER BY created_at", id=invoice_id
    )


def _payments(app, invoice_id: str) -> list[Any]:
    return _rows(app, "SELECT * FROM invoicing.payments WHERE invoice_id = :id ORDER BY id", id=invoice_id)


def _expire(app, link: str, when: datetime) -> None:
    jti = jwt.decode(link, options={"verify_signature": False})["jti"]
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("UPDATE invoicing.portal_links SET expires_at = :when WHERE id = :id"),
            {"when": when, "id": jti},
        )


def _issue(app, **fields: Any) -> str:
    """A link made by this service's own code, as it would make one (to forge the odd ones)."""
    with app.test_request_context():
        session = db.session()
        token = issue_link(session, **fields)
        session.commit()
        return token


@pytest.fixture
def invoice(garage, labour, part) -> dict[str, Any]:
    return garage.invoice([labour(150, 6000), part(200, 1250, vat="9.00")])


@pytest.fixture
def link(portal, invoice) -> str:
    return portal.link(invoice["id"])


# ---------------------------------------------------------------------------- the link in the messages


def test_the_invoice_message_carries_a_pay_link_recorded_with_it(app, garage, invoice, outbox_rows):
    [row] = outbox_rows(target="notification-management")
    pay_url = row.body["data"]["pay_url"]
    assert pay_url.startswith("http://127.0.0.1:8009/invoice/")
    [recorded] = _links(app, invoice["id"])
    claims = jwt.decode(pay_url.rsplit("/", 1)[1], options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["pur"], claims["sub"], claims["cus"], claims["jti"]) == (
        "invoicing",
        "customer-portal",
        "invoice",
        invoice["id"],
        invoice["customer"]["id"],
        recorded.id,
    )
    assert (recorded.purpose, recorded.customer_id, recorded.uses, recorded.revoked_at) == (
        "invoice",
        invoice["customer"]["id"],
        0,
        None,
    )
    # Valid through the 60th day after the due date, the garage's day.
    last_day = date.fromisoformat(invoice["due_date"]) + timedelta(days=60)
    end = datetime.combine(
        last_day + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo("Europe/Amsterdam")
    )
    assert recorded.expires_at == end
    assert claims["exp"] == int(end.timestamp())


def test_each_send_and_each_reminder_carries_a_new_link(app, garage, invoice, portal, outbox_rows):
    first = portal.link(invoice["id"])
    assert (
        garage.client.post(f"{URL}/{invoice['id']}/send", json={}, headers=garage.accountant).status_code
        == 200
    )
    second = portal.link(invoice["id"])
    with app.app_context():
        settings = Settings.from_config(app.config)
        later = datetime.combine(
            date.fromisoformat(invoice["due_date"]) + timedelta(days=3), datetime.min.time(), tzinfo=UTC
        )
        assert reminders.send_payment_reminders(session=db.session(), settings=settings, now=later) == 1
        db.session.commit()
    [reminder] = [row for row in outbox_rows() if row.body["type"] == "payment_reminder"]
    third = reminder.body["data"]["pay_url"].rsplit("/", 1)[1]
    assert len({first, second, third}) == 3
    assert len(_links(app, invoice["id"])) == 3
    assert portal.get(third).status_code == 200


def test_a_failed_issue_leaves_no_link(app, garage, labour):
    """The link is written in the issuing transaction: no invoice, no link."""
    job = garage.job([labour(100, 5000, approved=False)])
    assert garage.create(job["id"]).status_code == 422
    assert _rows(app, "SELECT * FROM invoicing.portal_links") == []


# ---------------------------------------------------------------------------- reading


def test_the_portal_sees_the_linked_invoice_and_the_use_is_counted(app, portal, invoice, link):
    response = portal.get(link)
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert shown["number"] == invoice["number"]
    assert (shown["issue_date"], shown["due_date"]) == (invoice["issue_date"], invoice["due_date"])
    assert (shown["status"], shown["paid"], shown["balance_due"]) == ("sent", 0, invoice["totals"]["gross"])
    assert shown["totals"]["gross"] == invoice["totals"]["gross"]
    assert [line["description"] for line in shown["lines"]] == [
        line["description"] for line in invoice["lines"]
    ]
    assert shown["garage"] == {
        "name": "Garage De Vries",
        "phone": "030 123 4567",
        "email": "werkplaats@devries.example",
    }
    assert shown["language"] == invoice["customer"]["language"]
    assert shown["currency"] == "EUR"
    assert shown["vehicle"]["plate"] == "AB-123-C"
    assert "id" not in shown and "customer" not in shown  # nothing to take elsewhere
    [recorded] = _links(app, invoice["id"])
    assert recorded.uses == 1 and recorded.last_used_at is not None
    assert portal.pdf(link).status_code == 200
    assert _links(app, invoice["id"])[0].uses == 2


def test_the_portal_gets_the_pdf(portal, invoice, link):
    response = portal.pdf(link)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert invoice["number"] in response.headers["Content-Disposition"]


# ---------------------------------------------------------------------------- paying


def test_a_payment_is_recorded_once_and_the_invoice_shows_paid_at_once(app, garage, portal, invoice, link):
    gross = invoice["totals"]["gross"]
    response = portal.pay(link, amount=gross, key="mollie-tr_WDqYK6vllg")
    assert response.status_code == 201, response.get_json()
    paid = response.get_json()
    assert (
        paid["amount"],
        paid["currency"],
        paid["provider"],
        paid["provider_payment_id"],
        paid["method"],
    ) == (
        gross,
        "EUR",
        "mollie",
        "tr_WDqYK6vllg",
        "ideal",
    )
    assert paid["invoice"] == {"status": "paid", "paid": gross, "balance_due": 0, "refund_due": 0}
    contract = find_contract("invoicing")
    validate_response(contract, "POST", "/api/v1/portal/invoice/payments", 201, paid)
    again = portal.pay(link, amount=gross)
    validate_response(contract, "POST", "/api/v1/portal/invoice/payments", 200, again.get_json())
    shown = portal.get(link).get_json()
    validate_response(contract, "GET", "/api/v1/portal/invoice", 200, shown)
    assert (shown["status"], shown["paid"], shown["balance_due"]) == ("paid", gross, 0)
    # On the invoice as staff see it: a payment like a counter payment, method online.
    staff = garage.get(invoice["id"])
    assert staff["status"] == "paid"
    [payment] = staff["payments"]
    assert payment["id"] == paid["id"]
    assert (payment["method"], payment["kind"], payment["amount"], payment["reference"]) == (
        "online",
        "payment",
        gross,
        "tr_WDqYK6vllg",
    )
    assert (payment["provider"], payment["provider_payment_id"], payment["provider_method"]) == (
        "mollie",
        "tr_WDqYK6vllg",
        "ideal",
    )
    assert (payment["recorded_by"], payment["paid_at"]) == ("customer-portal", "2026-03-05T10:15:00+00:00")
    # In the cash-up of that day, under online.
    cash_up = garage.client.get("/api/v1/payments?from=2026-03-05", headers=garage.advisor).get_json()
    assert [item["id"] for item in cash_up["items"]] == [paid["id"]]
    online = next(total for total in cash_up["totals"] if total["method"] == "online")
    assert (online["count"], online["received"]) == (1, gross)
    # And on the PDF.
    assert garage.client.get(f"{URL}/{invoice['id']}/pdf", headers=garage.accountant).status_code == 200


def test_a_part_payment_leaves_the_rest_due(portal, invoice, link):
    response = portal.pay(link, amount=1000)
    assert response.status_code == 201
    assert response.get_json()["invoice"]["status"] == "partially_paid"
    shown = portal.get(link).get_json()
    assert (shown["paid"], shown["balance_due"]) == (1000, invoice["totals"]["gross"] - 1000)


def test_the_same_provider_payment_again_answers_the_first(app, portal, invoice, link):
    first = portal.pay(link, amount=1000)
    assert first.status_code == 201
    again = portal.pay(link, amount=1000)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    # Whatever the second report says, the first stands: one payment per provider id.
    other_body = portal.pay(link, amount=2000, method="creditcard")
    assert other_body.status_code == 200
    assert other_body.get_json()["amount"] == 1000
    assert len(_payments(app, invoice["id"])) == 1
    assert portal.get(link).get_json()["paid"] == 1000


def test_another_idempotency_key_still_answers_the_first(app, portal, invoice, link):
    first = portal.pay(link, key="mollie-tr_WDqYK6vllg")
    assert first.status_code == 201
    replayed = portal.pay(link, key="mollie-tr_WDqYK6vllg")
    assert replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    other_key = portal.pay(link, key="something-else")
    assert other_key.status_code == 200
    no_key = portal.pay(link)
    assert no_key.status_code == 200
    assert {r.get_json()["id"] for r in (first, replayed, other_key, no_key)} == {first.get_json()["id"]}
    assert len(_payments(app, invoice["id"])) == 1


@pytest.mark.parametrize("keys", [(None, None), ("mollie-tr_1", "mollie-tr_1"), ("key-a", "key-b")])
def test_two_reports_at_once_record_one_payment(app, portal, invoice, link, keys):
    results = run_concurrently(lambda key: portal.pay(link, key=key, amount=1000), keys)
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([200, 201], [201, 201]), [r.get_json() for r in results]
    if statuses == [201, 201]:  # the same key: the second is the first's replay
        assert keys[0] == keys[1]
    assert len({r.get_json()["id"] for r in results}) == 1
    assert len(_payments(app, invoice["id"])) == 1
    assert portal.get(link).get_json()["paid"] == 1000


def test_many_reports_at_once_record_one_payment(app, portal, invoice, link):
    results = run_concurrently(lambda n: portal.pay(link, key=f"k-{n % 3}", amount=700), range(6))
    assert all(r.status_code in (200, 201) for r in results), [r.get_json() for r in results]
    assert len({r.get_json()["id"] for r in results}) == 1
    assert len(_payments(app, invoice["id"])) == 1
    assert portal.get(link).get_json()["paid"] == 700


def test_a_provider_payment_of_another_invoice_is_a_conflict(app, garage, portal, invoice, link, labour):
    other = garage.invoice([labour(100, 5000)])
    other_link = portal.link(other["id"])
    assert portal.pay(link, provider_payment_id="tr_shared").status_code == 201
    refused = portal.pay(other_link, provider_payment_id="tr_shared")
    assert_problem(refused, 409)
    assert _payments(app, other["id"]) == []


def test_the_same_provider_payment_for_two_invoices_at_once_is_recorded_once(
    app, garage, portal, invoice, labour
):
    """The two reports lock different invoices: the unique constraint decides."""
    other = garage.invoice([labour(100, 5000)])
    links = [portal.link(invoice["id"]), portal.link(other["id"])]
    results = run_concurrently(lambda token: portal.pay(token, provider_payment_id="tr_race"), links)
    assert sorted(r.status_code for r in results) == [201, 409], [r.get_json() for r in results]
    assert len(_payments(app, invoice["id"])) + len(_payments(app, other["id"])) == 1


def test_a_payment_beyond_the_balance_is_money_received(portal, garage, invoice, link):
    """The provider took it: recorded, and the excess is a refund due, given back as
    any overpayment is (a refund by an accountant)."""
    gross = invoice["totals"]["gross"]
    assert portal.pay(link, amount=gross - 100, provider_payment_id="tr_1").status_code == 201
    response = portal.pay(link, amount=gross, provider_payment_id="tr_2")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["invoice"] == {
        "status": "paid",
        "paid": 2 * gross - 100,
        "balance_due": 0,
        "refund_due": gross - 100,
    }
    refund = garage.pay(invoice["id"], gross - 100, kind="refund", method="online")
    assert refund.status_code == 201, refund.get_json()
    shown = portal.get(link).get_json()
    assert (shown["status"], shown["paid"], shown["balance_due"], shown["refund_due"]) == (
        "paid",
        gross,
        0,
        0,
    )


def test_a_payment_on_a_credited_invoice_is_recorded_as_refund_due(portal, garage, invoice, link):
    assert garage.credit(invoice["id"]).status_code == 201
    response = portal.pay(link, amount=500)
    assert response.status_code == 201
    assert response.get_json()["invoice"] == {
        "status": "credited",
        "paid": 500,
        "balance_due": 0,
        "refund_due": 500,
    }


def test_the_counter_records_no_online_payment(app, garage, invoice):
    response = garage.pay(invoice["id"], 100, method="online")
    body = assert_problem(response, 422)
    assert "method" in body["errors"]
    assert _payments(app, invoice["id"]) == []


# ---------------------------------------------------------------------------- refusals
# Each refusal is tried on all three operations, on one invoice: nothing may change.

OPERATIONS = ("get", "pdf", "pay")


def _each_operation(portal, link: str | None, headers: dict[str, str] | None = None):
    for operation in OPERATIONS:
        yield operation, getattr(portal, operation)(link, headers=headers)


def _nothing_changed(app, invoice: dict[str, Any], link: str) -> None:
    """No payment, the invoice as issued, and the customer's link not used."""
    assert _payments(app, invoice["id"]) == []
    jti = jwt.decode(link, options={"verify_signature": False})["jti"]
    assert [row.uses for row in _links(app, invoice["id"]) if row.id == jti] == [0]
    [row] = _rows(app, "SELECT paid, status FROM invoicing.invoices WHERE id = :id", id=invoice["id"])
    assert (row.paid, row.status) == (0, "sent")


def test_no_token_is_401_and_a_staff_or_service_token_403_even_with_the_link(
    app, portal, auth_headers, invoice, link
):
    for operation, response in _each_operation(portal, link, headers={"Portal-Link": link}):
        assert response.status_code == 401, operation
        assert_problem(response, 401)
    for role in ("admin", "advisor", "accountant", "service", "technician"):
        for operation, response in _each_operation(portal, link, {**auth_headers(role), "Portal-Link": link}):
            assert response.status_code == 403, (role, operation)
            assert_problem(response, 403)
    _nothing_changed(app, invoice, link)


def test_the_portal_without_a_link_is_403(app, portal, invoice, link):
    for missing in (None, "  "):
        for operation, response in _each_operation(portal, missing):
            assert response.status_code == 403, operation
            assert_problem(response, 403, LINK_PROBLEM)
    _nothing_changed(app, invoice, link)


def _tampered(link: str) -> str:
    """The link with another invoice's id in it, under the original signature."""
    header, _payload, signature = link.split(".")
    claims = jwt.decode(link, options={"verify_signature": False})
    claims["sub"] = str(uuid.uuid4())
    forged_payload = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    return f"{header}.{forged_payload}.{signature}"


@pytest.mark.parametrize(
    "forge",
    ["tampered", "garbage", "other-purpose", "other-service", "unknown-jti", "other-customer", "no-invoice"],
)
def test_a_link_not_this_services_for_this_invoice_is_403(app, portal, invoice, link, forge):
    now = int(time.time())
    claims = jwt.decode(link, options={"verify_signature": False})
    day = timedelta(days=1)
    if forge == "tampered":
        token = _tampered(link)
    elif forge == "garbage":
        token = "not.a.token"
    elif forge == "other-purpose":  # a real link of this service, for an estimate
        token = _issue(
            app, purpose="estimate", resource_id=invoice["id"], customer_id=claims["cus"], valid_for=day
        )
    elif forge == "other-service":  # workshop-scheduling's link: its own key and issuer
        token = jwt.encode(
            {**claims, "iss": "workshop-scheduling", "exp": now + 3600},
            "workshop-scheduling-portal-link-key-0123456789",  # a made-up key  # pragma: allowlist secret
            algorithm="HS256",
        )
    elif forge == "unknown-jti":  # signed with the right key but never issued
        token = jwt.encode(
            {**claims, "jti": "never-issued"}, app.config["PORTAL_LINK_KEY"], algorithm="HS256"
        )
    elif forge == "other-customer":  # this invoice, but issued to someone else
        token = _issue(
            app, purpose="invoice", resource_id=invoice["id"], customer_id=str(uuid.uuid4()), valid_for=day
        )
    else:  # a link to an invoice that does not exist
        token = _issue(
            app, purpose="invoice", resource_id=str(uuid.uuid4()), customer_id=claims["cus"], valid_for=day
        )
    for operation, response in _each_operation(portal, token):
        assert response.status_code == 403, operation
        assert_problem(response, 403, LINK_PROBLEM)
    _nothing_changed(app, invoice, link)


def test_an_expired_link_is_410(app, portal, invoice, link):
    _expire(app, link, datetime.now(UTC) - PAYMENT_RECORD_GRACE - timedelta(seconds=1))
    for operation, response in _each_operation(portal, link):
        assert response.status_code == 410, operation
        assert_problem(response, 410, "link-expired")
    _nothing_changed(app, invoice, link)


def test_a_payment_made_through_a_link_is_recorded_a_while_after_it_expired(app, portal, invoice, link):
    # The customer paid by bank transfer through the provider while the link was valid; the
    # provider settled it after the link expired: the money is recorded, nothing else opens.
    _expire(app, link, datetime.now(UTC) - timedelta(days=1))
    assert portal.get(link).status_code == 410
    assert portal.pdf(link).status_code == 410
    recorded = portal.pay(link, amount=500, provider_payment_id="tr_lateSettled1")
    assert recorded.status_code == 201, recorded.get_json()
    assert [row.amount for row in _payments(app, invoice["id"])] == [500]


def test_a_link_past_its_signed_expiry_is_410(app, portal, invoice, link):
    claims = jwt.decode(link, options={"verify_signature": False})
    token = _issue(
        app,
        purpose="invoice",
        resource_id=invoice["id"],
        customer_id=claims["cus"],
        expires_at=datetime.now(UTC) - PAYMENT_RECORD_GRACE - timedelta(minutes=1),
    )
    for operation, response in _each_operation(portal, token):
        assert response.status_code == 410, operation
        assert_problem(response, 410, "link-expired")
    _nothing_changed(app, invoice, link)


def test_a_revoked_link_is_410(app, portal, invoice, link):
    with app.test_request_context():
        assert revoke_links(db.session(), purpose="invoice", resource_id=invoice["id"]) == 1
        db.session.commit()
    for operation, response in _each_operation(portal, link):
        assert response.status_code == 410, operation
        assert_problem(response, 410, "link-revoked")
    _nothing_changed(app, invoice, link)


BAD_BODIES = [
    {"amount": 0},
    {"amount": -5},
    {"amount": "1000"},
    {"amount": 10.5},
    {"amount": True},
    {"amount": 2_000_000_001},
    {"amount": None},
    {"provider": "stripe"},
    {"provider": None},
    {"provider_payment_id": ""},
    {"provider_payment_id": "tr_" + "x" * 100},
    {"provider_payment_id": "tr x; drop"},
    {"provider_payment_id": 42},
    {"paid_at": "yesterday"},
    {"paid_at": "2026-03-05T10:15:00"},
    {"paid_at": "9999-12-31T23:59:59-23:00"},
    {"method": ""},
    {"method": "   "},
    {"method": "x" * 33},
    {"method": ["ideal"]},
    {"invoice_id": str(uuid.uuid4())},
    {"customer_id": str(uuid.uuid4())},
]
FIELDS = ("amount", "provider", "provider_payment_id", "paid_at", "method")


def test_a_bad_body_is_422_and_records_nothing(app, portal, invoice, link):
    for change in BAD_BODIES:
        response = portal.pay(link, **change)
        assert response.status_code == 422, (change, response.get_json())
        assert_problem(response, 422)
    for missing in FIELDS:
        body = {
            "amount": 1000,
            "provider": "mollie",
            "provider_payment_id": "tr_1",
            "paid_at": "2026-03-05T10:15:00Z",
            "method": "ideal",
        }
        del body[missing]
        response = portal.client.post(f"{PORTAL}/payments", json=body, headers=portal.headers(link))
        assert response.status_code == 422, missing
        assert missing in response.get_json()["errors"]
    for data, content_type in (
        ("{broken", "application/json"),
        ("[]", "application/json"),
        ("amount=1", "application/x-www-form-urlencoded"),
    ):
        response = portal.client.post(
            f"{PORTAL}/payments", data=data, content_type=content_type, headers=portal.headers(link)
        )
        assert response.status_code in (400, 415, 422), (data, response.status_code)
        assert response.mimetype == "application/problem+json"
    _nothing_changed(app, invoice, link)


def test_no_id_is_taken_from_the_path(portal, link, invoice):
    assert portal.client.get(f"{PORTAL}/{invoice['id']}", headers=portal.headers(link)).status_code == 404
    assert portal.client.get(f"{URL}/{invoice['id']}", headers=portal.headers(link)).status_code == 403
