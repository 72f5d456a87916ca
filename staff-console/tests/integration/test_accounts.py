"""Checkout and the accounts pages through the console, against the real services: a
job driven through the APIs to completed, its invoice issued by invoicing when
maintenance's outbox asks for it (as in production), then paid, printed and credited
through the console's pages."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests
from console_harness import Api, Garage, booked_appointment, service_stopped

JOBS = "maintenance-job-management"


def completed_job(garage: Garage, name: str, *, drain: bool = True) -> dict[str, Any]:
    """The shortest real way to a job to check out: a customer with a vehicle booked
    (console_harness.booked_appointment), the job started, a labour line (1.50 h at 80.00)
    and a part line (2 x 12.50) added as booked work, completed; then the outboxes
    delivered, so maintenance asks invoicing for the invoice, as in production
    (145.00 net + 30.45 VAT = 175.45)."""
    admin = Api(garage, "admin")
    appointment = booked_appointment(garage, name)
    job = f"/api/v1/maintenance-jobs/{appointment['job_id']}"
    admin(JOBS, "POST", f"{job}/start", {"odometer_in": 64000})
    labour = {"kind": "labour", "description": "Service", "hours": "1.50", "hourly_rate": 8000}
    part = {
        "kind": "part",
        "description": "Oil filter",
        "quantity": "2",
        "unit_price": 1250,
        "part_number": "OF-1",
    }
    for line in (labour, part):
        admin(JOBS, "POST", f"{job}/lines", {**line, "covered_by_booking": True})
    admin(JOBS, "POST", f"{job}/complete", {})
    invoice = None
    if drain:
        garage.drain()
        invoice = admin("invoicing", "GET", "/api/v1/invoices", job_id=appointment["job_id"])["items"][0]
    return {
        "customer": appointment["customer"],
        "vehicle": appointment["vehicle"],
        "job_id": appointment["job_id"],
        "start": appointment["start"],
        "invoice": invoice,
    }


def form_of(page: requests.Response, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, idempotency key) of the form posting to ``action``."""
    match = re.search(
        r'<form method="post" action="([^"]*' + re.escape(action) + r')".*?</form>', page.text, re.S
    )
    assert match, f"no form posting to {action}"
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', match.group(0)))


def console(garage: Garage, path: str) -> str:
    return garage.console_url + path


@pytest.fixture
def invoiced(garage: Garage) -> dict[str, Any]:
    return completed_job(garage, f"Checkout {uuid.uuid4().hex[:6]}")


def pay_at_checkout(
    garage: Garage, browser: requests.Session, job: dict[str, Any], **fields: str
) -> requests.Response:
    page = browser.get(console(garage, f"/checkout/{job['job_id']}"), timeout=10)
    form = form_of(page, "/payments")
    return browser.post(
        console(garage, f"/accounts/invoices/{job['invoice']['id']}/payments"),
        data={**form, "amount": "175.45", "method": "card", **fields},
        timeout=10,
    )


def test_checkout_shows_the_invoice_totals_and_outstanding(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    page = advisor.get(console(garage, f"/checkout/{invoiced['job_id']}"), timeout=10)
    assert page.status_code == 200
    assert invoiced["invoice"]["number"] in page.text
    assert "Oil filter" in page.text and "1.50" in page.text
    assert "€145.00" in page.text  # net
    assert "€30.45" in page.text  # VAT at 21%
    assert re.search(r'id="outstanding">€175.45<', page.text)
    # The board links a completed job to its checkout.
    board = advisor.get(console(garage, "/board"), params={"day": invoiced["start"][:10]}, timeout=10)
    assert f'href="/checkout/{invoiced["job_id"]}"' in board.text
    # The amount to take is the outstanding one.
    assert re.search(r'name="amount" type="text" value="175.45"', page.text)


def test_a_payment_sent_twice_is_recorded_once(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    page = advisor.get(console(garage, f"/checkout/{invoiced['job_id']}"), timeout=10)
    fields = {**form_of(page, "/payments"), "amount": "175,45", "method": "cash", "checkout": "1"}
    first = advisor.post(
        console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}/payments"), data=fields, timeout=10
    )
    again = advisor.post(
        console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}/payments"), data=fields, timeout=10
    )
    assert first.status_code == again.status_code == 200
    assert first.url.endswith(f"/checkout/{invoiced['job_id']}")
    assert "Payment recorded." in first.text
    assert re.search(r'id="outstanding">€0.00<', again.text)
    payments = Api(garage, "accountant")(
        "invoicing", "GET", f"/api/v1/invoices/{invoiced['invoice']['id']}/payments"
    )
    assert [(p["amount"], p["method"]) for p in payments["items"]] == [(17545, "cash")]


def test_the_receipt_and_the_invoice_stream_as_pdf(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    page = pay_at_checkout(garage, advisor, invoiced, amount="50.00", checkout="1")
    receipt = re.search(r'href="(/accounts/invoices/[^"]+/receipt\.pdf)"', page.text)
    assert receipt, page.text[:2000]
    document = advisor.get(console(garage, receipt.group(1)), timeout=10)
    assert document.status_code == 200
    assert document.headers["Content-Type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")
    invoice = advisor.get(
        console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}/invoice.pdf"), timeout=10
    )
    assert invoice.headers["Content-Type"] == "application/pdf" and invoice.content.startswith(b"%PDF")
    # The browser never sees a token: the console fetched the documents.
    assert "Bearer" not in str(document.headers)
    assert re.search(r'id="outstanding">€125.45<', page.text)


def test_the_cash_up_lists_the_payment_under_its_method(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    pay_at_checkout(garage, advisor, invoiced, method="bank_transfer", reference="NL91 transfer")
    accountant = garage.signed_in("accountant")
    page = accountant.get(console(garage, "/accounts/cash-up"), timeout=10)
    assert page.status_code == 200
    row = re.search(
        r"<tr><td>[^<]*</td><td><a [^>]*>" + re.escape(invoiced["invoice"]["number"]) + r"</a></td>.*?</tr>",
        page.text,
        re.S,
    )
    assert row, page.text[-3000:]
    assert "bank transfer" in row.group(0) and "€175.45" in row.group(0) and "NL91 transfer" in row.group(0)
    by_method = re.search(
        r'<tr id="method-bank_transfer"><th scope="row">bank transfer</th>'
        r'<td class="number">(\d+)</td>\s*<td class="number">([^<]+)</td>',
        page.text,
    )
    assert by_method, page.text[-3000:]
    assert int(by_method.group(1)) >= 1 and by_method.group(2) != "€0.00"


def test_the_receivables_show_the_customer(garage: Garage, invoiced: dict[str, Any]) -> None:
    accountant = garage.signed_in("accountant")
    page = accountant.get(
        console(garage, "/accounts/receivables"),
        params={"customer_id": invoiced["customer"]["id"]},
        timeout=10,
    )
    assert page.status_code == 200
    row = re.search(
        r"<tr>\s*<th scope=\"row\"><a [^>]*>"
        + re.escape(invoiced["customer"]["name"])
        + r"</a></th>.*?</tr>",
        page.text,
        re.S,
    )
    assert row, page.text[-3000:]
    assert row.group(0).count("€175.45") == 2  # issued today (0-30 days) and outstanding
    everyone = accountant.get(console(garage, "/accounts/receivables"), timeout=10)
    assert invoiced["customer"]["name"] in everyone.text and "<tfoot>" in everyone.text


def test_a_partial_credit_note_by_lines_once(garage: Garage, invoiced: dict[str, Any]) -> None:
    accountant = garage.signed_in("accountant")
    invoice = invoiced["invoice"]
    labour = next(line for line in invoice["lines"] if line["kind"] == "labour")
    page = accountant.get(console(garage, f"/accounts/invoices/{invoice['id']}"), timeout=10)
    assert "Credit this invoice" in page.text
    form = accountant.get(console(garage, f"/accounts/invoices/{invoice['id']}/credit-notes/new"), timeout=10)
    fields = {
        **form_of(form, "/credit-notes/new"),
        "scope": "lines",
        f"line-{labour['id']}": "1",
        f"quantity-{labour['id']}": "0,50",
        "reason": "Half an hour too much billed",
    }
    done = accountant.post(form.url, data=fields, timeout=10)
    again = accountant.post(form.url, data=fields, timeout=10)
    assert done.url.endswith(f"/accounts/invoices/{invoice['id']}") and "Credit note CN-" in done.text
    assert again.url == done.url
    notes = Api(garage, "accountant")("invoicing", "GET", "/api/v1/credit-notes", invoice_id=invoice["id"])[
        "items"
    ]
    assert len(notes) == 1 and notes[0]["full"] is False
    assert [(line["invoice_line_id"], line["net"]) for line in notes[0]["lines"]] == [(labour["id"], -4000)]
    assert notes[0]["number"] in again.text
    listed = accountant.get(
        console(garage, "/accounts/credit-notes"), params={"invoice_id": invoice["id"]}, timeout=10
    )
    assert notes[0]["number"] in listed.text and "partial" in listed.text
    # 0.50 h x 80.00 = 40.00 net, 48.40 with VAT, off the outstanding.
    assert re.search(r'id="outstanding">€127.05<', again.text)


def test_a_credit_note_without_a_reason_shows_it_beside_the_field(
    garage: Garage, invoiced: dict[str, Any]
) -> None:
    accountant = garage.signed_in("accountant")
    form = accountant.get(
        console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}/credit-notes/new"), timeout=10
    )
    page = accountant.post(
        form.url, data={**form_of(form, "/credit-notes/new"), "scope": "full", "reason": ""}, timeout=10
    )
    assert page.status_code == 200
    assert 'id="f-reason-error"' in page.text
    part = next(line for line in invoiced["invoice"]["lines"] if line["kind"] == "part")
    wrong = accountant.post(
        form.url,
        data={
            **form_of(form, "/credit-notes/new"),
            "scope": "lines",
            f"line-{part['id']}": "1",
            f"quantity-{part['id']}": "a few",
            "reason": "Returned",
        },
        timeout=10,
    )
    assert f'id="quantity-{part["id"]}-error"' in wrong.text, wrong.text[-3000:]


def test_a_wrong_amount_is_shown_beside_its_field(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    typed = pay_at_checkout(garage, advisor, invoiced, amount="a lot", checkout="1")
    assert 'id="f-amount-error"' in typed.text and 'aria-invalid="true"' in typed.text
    refused = pay_at_checkout(
        garage, advisor, invoiced, amount="0", checkout="1"
    )  # invoicing's minimum is 1 cent
    assert 'id="f-amount-error"' in refused.text, refused.text[-3000:]


def test_the_invoices_filtered_by_status_and_customer(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    pay_at_checkout(garage, advisor, invoiced)
    accountant = garage.signed_in("accountant")
    number = invoiced["invoice"]["number"]
    paid = accountant.get(console(garage, "/accounts/invoices"), params={"status": "paid"}, timeout=10)
    assert paid.status_code == 200 and number in paid.text
    unpaid = accountant.get(console(garage, "/accounts/invoices"), params={"status": "sent"}, timeout=10)
    assert number not in unpaid.text
    by_name = accountant.get(
        console(garage, "/accounts/invoices"), params={"customer": invoiced["customer"]["name"]}, timeout=10
    )
    assert number in by_name.text
    assert f"The invoices of {invoiced['customer']['name']}." in by_name.text
    assert (
        accountant.get(
            console(garage, "/accounts/invoices"), params={"issued_from": "not a date"}, timeout=10
        ).status_code
        == 200
    )


def test_the_accounts_menu_is_the_accountants(garage: Garage) -> None:
    assert (
        'href="/accounts/invoices"'
        in garage.signed_in("accountant").get(console(garage, "/customers"), timeout=10).text
    )
    assert (
        'href="/accounts/invoices"'
        not in garage.signed_in("advisor").get(console(garage, "/customers"), timeout=10).text
    )


def test_a_job_without_an_invoice_yet_is_issued_from_checkout(garage: Garage) -> None:
    job = completed_job(garage, f"Waiting {uuid.uuid4().hex[:6]}", drain=False)
    advisor = garage.signed_in("advisor")
    waiting = advisor.get(console(garage, f"/checkout/{job['job_id']}"), timeout=10)
    assert "no invoice yet" in waiting.text and "Issue the invoice now" not in waiting.text
    admin = garage.signed_in("admin")
    page = admin.get(console(garage, f"/checkout/{job['job_id']}"), timeout=10)
    fields = form_of(page, "/invoice")
    issued = admin.post(console(garage, f"/checkout/{job['job_id']}/invoice"), data=fields, timeout=10)
    admin.post(console(garage, f"/checkout/{job['job_id']}/invoice"), data=fields, timeout=10)
    assert "Invoice issued." in issued.text and re.search(r'id="outstanding">€175.45<', issued.text)
    garage.drain()  # maintenance's own request now finds the invoice there
    invoices = Api(garage, "accountant")("invoicing", "GET", "/api/v1/invoices", job_id=job["job_id"])[
        "items"
    ]
    assert len(invoices) == 1


def test_invoicing_stopped_shows_its_message(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    with service_stopped(garage, "invoicing"):
        for path in (
            f"/checkout/{invoiced['job_id']}",
            "/accounts/cash-up",
            "/accounts/invoices",
            "/accounts/receivables",
        ):
            page = advisor.get(console(garage, path), timeout=10)
            assert page.status_code == 503, path
            assert "invoicing is not answering, try again" in page.text
            assert "Sign out" in page.text  # the console around it
        document = advisor.get(
            console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}/invoice.pdf"), timeout=10
        )
        assert document.status_code == 503 and "invoicing is not answering" in document.text
    assert advisor.get(console(garage, f"/checkout/{invoiced['job_id']}"), timeout=10).status_code == 200


def test_the_books_in_dutch(garage: Garage, invoiced: dict[str, Any]) -> None:
    accountant = garage.signed_in("accountant")
    page = accountant.get(console(garage, "/accounts/cash-up"), timeout=10)
    accountant.post(
        console(garage, "/language"),
        data={"csrf_token": form_of(page, "/language")["csrf_token"], "language": "nl"},
        timeout=10,
    )
    assert "Kasopmaak van" in accountant.get(console(garage, "/accounts/cash-up"), timeout=10).text
    invoice = accountant.get(
        console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}"), timeout=10
    ).text
    assert "Openstaand" in invoice and "Deze factuur crediteren" in invoice and "€\xa0175,45" in invoice


def test_a_full_credit_note_on_a_paid_invoice_then_the_refund(
    garage: Garage, invoiced: dict[str, Any]
) -> None:
    pay_at_checkout(garage, garage.signed_in("advisor"), invoiced, method="cash")
    accountant = garage.signed_in("accountant")
    invoice_id = invoiced["invoice"]["id"]
    form = accountant.get(console(garage, f"/accounts/invoices/{invoice_id}/credit-notes/new"), timeout=10)
    credited = accountant.post(
        form.url,
        data={**form_of(form, "/credit-notes/new"), "scope": "full", "reason": "Work redone under warranty"},
        timeout=10,
    )
    assert "Credit note CN-" in credited.text
    # Nothing owed now and 175.45 to give back: the accountant's refund form, prefilled.
    assert "Record a refund" in credited.text and "Credit this invoice" not in credited.text
    # An advisor at the counter sees the invoice, but no refund form (refunds are the books').
    advisor_view = garage.signed_in("advisor").get(
        console(garage, f"/accounts/invoices/{invoice_id}"), timeout=10
    )
    assert "To refund" in advisor_view.text and "Record a refund" not in advisor_view.text
    refund = form_of(credited, "/payments")
    assert refund["kind"] == "refund"
    assert re.search(r'name="amount" type="text" value="175.45"', credited.text)
    refunded = accountant.post(
        console(garage, f"/accounts/invoices/{invoice_id}/payments"),
        data={**refund, "amount": "175.45", "method": "cash"},
        timeout=10,
    )
    assert "Refund recorded." in refunded.text and "Nothing to pay." in refunded.text
    invoice = Api(garage, "accountant")("invoicing", "GET", f"/api/v1/invoices/{invoice_id}")
    assert invoice["status"] == "credited" and invoice["totals"]["refund_due"] == 0
    assert [p["kind"] for p in invoice["payments"]] == ["payment", "refund"]


def test_email_the_invoice_once_per_form(garage: Garage, invoiced: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    page = advisor.get(console(garage, f"/checkout/{invoiced['job_id']}"), timeout=10)
    fields = form_of(page, "/send")
    assert fields["channel"] == "email"
    path = console(garage, f"/accounts/invoices/{invoiced['invoice']['id']}/send")
    sent = advisor.post(path, data=fields, timeout=10)
    advisor.post(path, data=fields, timeout=10)
    assert sent.url.endswith(f"/checkout/{invoiced['job_id']}")
    assert f"The invoice is on its way to {invoiced['customer']['email']}." in sent.text
    invoice = Api(garage, "advisor")("invoicing", "GET", f"/api/v1/invoices/{invoiced['invoice']['id']}")
    assert invoice["send_count"] == invoiced["invoice"]["send_count"] + 1


def test_every_path_the_pages_call_is_in_a_contract() -> None:
    """The pages' client code against the committed contracts (the only agreement): each
    /api/v1 path written in pages/accounts.py is a path of invoicing's contract, or of the
    two others the pages read (a customer by name, a job without its invoice)."""
    import ast
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[3]
    known = {
        re.sub(r"\{[^}]+\}", "{}", path)
        for service in ("invoicing", "customer-management", "maintenance-job-management")
        for path in yaml.safe_load((root / "contracts" / f"{service}.yaml").read_text())["paths"]
    }
    tree = ast.parse((root / "staff-console" / "src" / "staff_console" / "pages" / "accounts.py").read_text())
    inside = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    written = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside:
            text = node.value
        else:
            continue
        if text.startswith("/api/v1/"):
            written.add(text)
    assert len(written) >= 10
    assert not written - known, f"in no contract: {sorted(written - known)}"
