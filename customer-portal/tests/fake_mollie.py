"""A loopback fake of Mollie's payments API (v2), answering as Mollie documents it, for
the portal's tests: the real ``mollie-api-python`` client talks to it over HTTP.

- ``POST /v2/payments`` (JSON: ``amount {currency, value}``, ``description``,
  ``redirectUrl``, ``webhookUrl``, ``metadata``; ``Idempotency-Key`` replays the first
  answer) -> 201, the payment with ``_links.checkout``; ``GET /v2/payments/{id}`` -> the
  payment, or Mollie's 404. Errors are Mollie's JSON (``status``, ``title``,
  ``detail``, ``field``, ``_links.documentation``); a wrong key is a 401.
- ``GET /checkout/{id}``: the checkout page (pay with iDEAL or a card, or cancel);
  ``POST /checkout/{id}`` settles the payment, calls its webhook as Mollie does (POST,
  form-encoded ``id``) and sends the browser to its ``redirectUrl``.
- What the client sends is checked as it arrives (the key, JSON, the user agent, the
  fields): anything Mollie would not take is answered as Mollie would and kept in
  ``violations``, for the fixture to assert there were none.

Tests drive it with ``settle(id, status)`` (what a customer or a bank did),
``call_webhook(id)``, ``failing`` (Mollie is down) and ``webhook_on_checkout``.
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import requests

from service_kit.fakes import Answer, LoopbackServer, Received

DOCS = "https://docs.mollie.com/overview/handling-errors"
HAL = "application/hal+json"
AMOUNT_VALUE = re.compile(r"^\d{1,10}(\.\d{2})?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
STATUS_TIMES = {"paid": "paidAt", "canceled": "canceledAt", "expired": "expiredAt", "failed": "failedAt"}
METHODS = ("ideal", "creditcard", "bancontact", "paypal")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _error(status: int, title: str, detail: str, field: str | None = None) -> Answer:
    body: dict[str, Any] = {
        "status": status,
        "title": title,
        "detail": detail,
        "_links": {"documentation": {"href": DOCS, "type": "text/html"}},
    }
    if field:
        body["field"] = field
    return status, {"Content-Type": HAL}, json.dumps(body).encode()


def _json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": HAL}, json.dumps(body).encode()


class FakeMollie(LoopbackServer):
    def __init__(self, api_key: str = "test_portalfakekey0000000000000000") -> None:
        self.api_key = api_key
        self.payments: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[str, Answer]] = {}  # key -> (request body, first answer)
        self.violations: list[str] = []
        self.webhook_calls: list[tuple[str, int | str]] = []
        self.failing: int | None = None
        self.webhook_on_checkout = True
        super().__init__()

    # ------------------------------------------------------------------ test controls

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.payments.clear()
            self.idempotent.clear()
            self.violations.clear()
            self.webhook_calls.clear()
        self.failing = None
        self.webhook_on_checkout = True

    def payment(self, payment_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.payments[payment_id])

    def only_payment(self) -> dict[str, Any]:
        with self.lock:
            assert len(self.payments) == 1, list(self.payments)
            return copy.deepcopy(next(iter(self.payments.values())))

    def settle(self, payment_id: str, status: str = "paid", *, method: str = "ideal") -> dict[str, Any]:
        """The customer paid (or cancelled, or the bank failed it, or it expired)."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment["status"] not in ("open", "pending"):
                raise AssertionError(f"{payment_id} is already {payment['status']}")
            payment["status"] = status
            payment["isCancelable"] = False
            payment["_links"].pop("checkout", None)
            payment.pop("expiresAt", None)
            payment[STATUS_TIMES.get(status, "updatedAt")] = _now()
            if status in ("paid", "failed", "pending"):
                payment["method"] = method
            if status == "paid":
                currency = payment["amount"]["currency"]
                payment["amountRefunded"] = {"value": "0.00", "currency": currency}
                payment["amountRemaining"] = dict(payment["amount"])
                payment["settlementAmount"] = dict(payment["amount"])
                payment["details"] = (
                    {
                        "consumerName": "T. TEST",
                        "consumerAccount": "NL91ABNA0417164300",
                        "consumerBic": "ABNANL2A",
                    }
                    if method == "ideal"
                    else {"cardHolder": "T. TEST", "cardNumber": "6787", "cardLabel": "Mastercard"}
                )
            return copy.deepcopy(payment)

    def call_webhook(self, payment_id: str) -> int | str:
        """Mollie calling the payment's webhook: POST, form-encoded ``id``. The status
        it got, or the error when nothing answered."""
        with self.lock:
            url = self.payments[payment_id].get("webhookUrl") if payment_id in self.payments else None
        if not url:
            raise AssertionError(f"{payment_id} has no webhook")
        return self.post_webhook(url, payment_id)

    def post_webhook(self, url: str, payment_id: str) -> int | str:
        outcome: int | str
        try:
            response = requests.post(
                url,
                data={"id": payment_id},
                headers={"User-Agent": "Mollie.nl HTTP client/1.0", "Accept": "*/*"},
                timeout=10,
            )
            outcome = response.status_code
        except requests.RequestException as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        with self.lock:
            self.webhook_calls.append((payment_id, outcome))
        return outcome

    # ------------------------------------------------------------------------- the API

    def answer(self, request: Received) -> Answer:
        if request.path.startswith("/checkout/"):
            return self._checkout(request)
        if self.failing:
            return _error(self.failing, "Service Unavailable", "failing, as the test asked")
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Unauthorized Request", "Missing authentication, or failed to authenticate")
        if not request.headers.get("User-Agent", "").startswith("Mollie/"):
            self._violation(
                f"{request.method} {request.path}: not Mollie's client ({request.headers.get('User-Agent')})"
            )
        if request.method == "POST" and request.path == "/v2/payments":
            return self._create(request)
        match = re.fullmatch(r"/v2/payments/([^/]+)", request.path)
        if request.method == "GET" and match:
            with self.lock:
                payment = copy.deepcopy(self.payments.get(match.group(1)))
            if payment is None:
                return _error(404, "Not Found", f"No payment exists with token {match.group(1)}.")
            return _json(200, payment)
        return _error(404, "Not Found", f"The resource {request.path} does not exist.")

    def _violation(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    def _create(self, request: Received) -> Answer:
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            self._violation(f"POST /v2/payments with Content-Type {request.headers.get('Content-Type')}")
            return _error(415, "Unsupported Media Type", "Send JSON")
        try:
            body = json.loads(request.body)
        except ValueError:
            self._violation("POST /v2/payments with a body that is not JSON")
            return _error(400, "Bad Request", "The request body is not valid JSON")
        key = request.headers.get("Idempotency-Key", "")
        if key:
            with self.lock:
                seen = self.idempotent.get(key)
            if seen is not None:
                if seen[0] != request.body.decode():
                    return _error(
                        422, "Unprocessable Entity", "The idempotency key was used for another request"
                    )
                status, headers, payload = seen[1]
                return status, {**headers, "Idempotent-Replayed": "true"}, payload
        malformed = self._malformed(body)
        if malformed:
            # Not what Mollie's API takes at all: the portal's request is wrong.
            self._violation(f"POST /v2/payments: {malformed[1]} ({malformed[0]})")
            return _error(422, "Unprocessable Entity", malformed[1], malformed[0])
        if float(body["amount"]["value"]) < 0.01:
            return _error(422, "Unprocessable Entity", "The amount is lower than the minimum", "amount.value")
        payment_id = "tr_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
        now = datetime.now(UTC).replace(microsecond=0)
        payment = {
            "resource": "payment",
            "id": payment_id,
            "mode": "live" if self.api_key.startswith("live_") else "test",
            "createdAt": now.isoformat(),
            "amount": {"value": body["amount"]["value"], "currency": body["amount"]["currency"]},
            "description": body["description"][:255],
            "method": None,
            "metadata": body.get("metadata"),
            "status": "open",
            "isCancelable": False,
            "expiresAt": (now + timedelta(minutes=15)).isoformat(),
            "details": None,
            "profileId": "pfl_FakeGarage1",
            "sequenceType": "oneoff",
            "redirectUrl": body["redirectUrl"],
            "webhookUrl": body.get("webhookUrl"),
            "_links": {
                "self": {"href": f"{self.url}/v2/payments/{payment_id}", "type": HAL},
                "checkout": {"href": f"{self.url}/checkout/{payment_id}", "type": "text/html"},
                "dashboard": {"href": f"{self.url}/dashboard/payments/{payment_id}", "type": "text/html"},
                "documentation": {
                    "href": "https://docs.mollie.com/reference/v2/payments-api/create-payment",
                    "type": "text/html",
                },
            },
        }
        answer = _json(201, payment)
        with self.lock:
            self.payments[payment_id] = payment
            if key:
                self.idempotent[key] = (request.body.decode(), answer)
        return answer

    @staticmethod
    def _malformed(body: Any) -> tuple[str, str] | None:
        """(field, reason) when the request is not one Mollie's API takes."""
        if not isinstance(body, dict):
            return "body", "The request body must be an object"
        amount = body.get("amount")
        if not isinstance(amount, dict) or not CURRENCY.match(str(amount.get("currency", ""))):
            return "amount.currency", "The amount currency is invalid"
        value = amount.get("value")
        if not isinstance(value, str) or not AMOUNT_VALUE.match(value):
            return "amount.value", "The amount value must be a string with the currency's decimals"
        if not isinstance(body.get("description"), str) or not body["description"].strip():
            return "description", "The description is invalid"
        for name in ("redirectUrl", "webhookUrl"):
            url = body.get(name)
            if name == "redirectUrl" and not url:
                return name, "The redirect URL is required"
            if url is not None and not (isinstance(url, str) and re.match(r"^https?://[^\s]+$", url)):
                return name, f"The {name} is invalid"
        metadata = body.get("metadata")
        if metadata is not None and len(json.dumps(metadata)) > 1024:
            return "metadata", "The metadata is too large (at most 1024 bytes)"
        unknown = set(body) - {
            "amount",
            "description",
            "redirectUrl",
            "cancelUrl",
            "webhookUrl",
            "metadata",
            "locale",
            "method",
        }
        if unknown:
            return sorted(unknown)[0], f"Unknown field {sorted(unknown)[0]}"
        return None

    # -------------------------------------------------------------------- the checkout

    def _checkout(self, request: Received) -> Answer:
        payment_id = request.path.removeprefix("/checkout/")
        with self.lock:
            payment = copy.deepcopy(self.payments.get(payment_id))
        if payment is None:
            return (
                404,
                {"Content-Type": "text/html"},
                b"<!doctype html><title>Not found</title><p>No such payment.",
            )
        if request.method == "POST":
            form = dict(parse_qsl(request.body.decode()))
            if payment["status"] == "open":
                outcome = form.get("outcome", "paid")
                method = form.get("method", "ideal")
                if outcome not in ("paid", "canceled", "failed") or method not in METHODS:
                    return (
                        400,
                        {"Content-Type": "text/html"},
                        b"<!doctype html><title>Bad</title><p>Bad choice.",
                    )
                self.settle(payment_id, outcome, method=method)
                if self.webhook_on_checkout and payment.get("webhookUrl"):
                    self.call_webhook(payment_id)
            return 303, {"Location": payment["redirectUrl"]}, b""
        amount = html.escape(f"{payment['amount']['currency']} {payment['amount']['value']}")
        if payment["status"] != "open":
            body = f"<p>This payment is {html.escape(payment['status'])}.</p>"
        else:
            body = (
                f'<form method="post"><input type="hidden" name="method" value="ideal">'
                f'<button type="submit">Pay {amount} with iDEAL</button></form>'
                f'<form method="post"><input type="hidden" name="method" value="creditcard">'
                f'<button type="submit">Pay {amount} by card</button></form>'
                f'<form method="post"><input type="hidden" name="outcome" value="canceled">'
                f'<button type="submit">Cancel</button></form>'
            )
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Mollie checkout (fake)</title></head><body><main><h1>Fake Mollie checkout</h1>"
            f"<p>{html.escape(payment['description'])}</p>{body}</main></body></html>"
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
