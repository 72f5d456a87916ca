"""Everything the dispatcher talks to, as real servers on loopback: customer-management
(``service_kit.fakes``: every answer checked against its committed contract), invoicing
serving a PDF, an SMS provider, and an SMTP sink."""

from __future__ import annotations

import base64
import copy
import json
import os
import threading
import uuid
from collections import deque
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service_kit.contract_testing import find_contract, validate_request
from service_kit.fakes import (
    Answer,
    LoopbackServer,
    Received,
    Receiver,
    ResourceServer,
    json_answer,
    problem,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CUSTOMER = {
    "kind": "person",
    "name": "Ann de Vries",
    "vat_number": None,
    "contact_person": None,
    "email": "ann@example.com",
    "phone": "+31612345678",
    "address": {"street": None, "postal_code": None, "city": None, "country": None},
    "preferred_channel": "email",
    "preferred_language": "en",
    "notes": None,
    "payment_terms_days": 0,
    "consents": {
        "email": {"service": True, "marketing": False},
        "sms": {"service": True, "marketing": False},
    },
    "marketing_consent": False,
    "status": "active",
    "created_at": "2026-01-02T03:04:05+00:00",
    "updated_at": "2026-01-02T03:04:05+00:00",
    "erased_at": None,
    "version": 1,
}


def customer_body(**changes: Any) -> dict[str, Any]:
    """A customer as customer-management answers it, with a new id."""
    return {**copy.deepcopy(CUSTOMER), "id": str(uuid.uuid4()), **changes}


class FakeCustomerManagement(ResourceServer):
    """GET /api/v1/customers/{customer_id}; GET /api/v1/customers?phone= (exact E.164,
    active ones, oldest first); POST /api/v1/customers/{customer_id}/consents (the
    request checked against the contract; the customer's consents change as
    customer-management's would). ``failing = 503`` while it is down."""

    def __init__(self) -> None:
        super().__init__(find_contract("customer-management"), "/api/v1/customers/{customer_id}")
        self.consents: list[dict[str, Any]] = []

    def add(self, **changes: Any) -> dict[str, Any]:
        return self.put(customer_body(**changes))

    def handle(self, request: Received) -> tuple[int, Any, str]:
        if request.method == "GET" and request.path == "/api/v1/customers":
            phone = request.query.get("phone")
            items = [c for c in self.resources.values() if c["phone"] == phone and c["status"] == "active"]
            return 200, {"items": items, "next_cursor": None}, "/api/v1/customers"
        if request.method == "POST" and request.path.endswith("/consents"):
            return self._consent(request)
        return super().handle(request)

    def _consent(self, request: Received) -> tuple[int, Any, str]:
        documented = "/api/v1/customers/{customer_id}/consents"
        validate_request(self.contract, "POST", documented, request.json)
        customer_id = request.path.split("/")[4]
        customer = self.resources.get(customer_id)
        if customer is None:
            return 404, problem(404, f"customer {customer_id} does not exist"), documented
        entry = request.json
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            earlier = next((c for c in self.consents if c["key"] == key), None)
            if earlier is not None:  # a replay: the first answer, nothing changes
                return 201, earlier["answer"], documented
            customer["consents"][entry["channel"]][entry["purpose"]] = entry["granted"]
            customer["marketing_consent"] = any(c["marketing"] for c in customer["consents"].values())
            answer = {
                "id": str(uuid.uuid4()),
                "customer_id": customer_id,
                **entry,
                "recorded_at": "2026-12-07T03:00:00+00:00",
                "recorded_by": "notification-management",
                "recorded_by_name": "notification-management",
            }
            self.consents.append({"key": key, "answer": answer, "headers": request.headers})
        return 201, answer, documented

    def reset(self) -> None:
        super().reset()
        self.consents.clear()


class FakeInvoicing(Receiver):
    """Serves invoice PDFs; the ``statuses`` queued fail first."""

    def __init__(self) -> None:
        super().__init__(default=200)

    def pdf_url(self, invoice_id: str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5f") -> str:
        return f"{self.url}/api/v1/invoices/{invoice_id}/pdf"

    def accept(self, request: Received, status: int) -> Answer:
        if (
            request.method == "GET"
            and request.path.startswith("/api/v1/invoices/")
            and request.path.endswith("/pdf")
        ):
            return status, {"Content-Type": "application/pdf"}, PDF
        return json_answer(404, problem(404, "no such invoice"))


class FakeSmsProvider(Receiver):
    """A generic SMS gateway: the ``statuses`` queued, then ``default`` (200: the
    message is taken, 202 with a message id). ``accepted`` are the messages it took."""

    def __init__(self) -> None:
        super().__init__(default=200)
        self.accepted: list[dict[str, Any]] = []

    @property
    def messages_url(self) -> str:
        return self.url + "/v1/messages"

    def accept(self, request: Received, status: int) -> Answer:
        with self.lock:
            self.accepted.append({**request.json, "headers": request.headers})
            return json_answer(202, {"id": f"sms-{len(self.accepted)}", "status": "queued"})

    def reset(self) -> None:
        super().reset()
        self.accepted.clear()


class MailSink:
    """aiosmtpd handler keeping every message it accepted; can refuse as scripted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse_recipients: set[str] = set()
        self.data_failures: deque[str] = deque()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.data_failures:
                return self.data_failures.popleft()
            self.envelopes.append(envelope)
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
            self.refuse_recipients.clear()
            self.data_failures.clear()


class FakePushService(LoopbackServer):
    """A Web Push service on loopback (RFC 8030): ``subscribe()`` makes a browser's
    subscription (a P-256 key pair and an auth secret, as a browser does). A push to
    ``/push/<token>`` is checked as a push service would (VAPID, RFC 8292: a JWT
    signed with the key it names, for this origin), and decrypted with the
    subscription's private key and secret (RFC 8291, aes128gcm, ``http_ece``): the
    decrypted JSON is kept in ``received``. ``answers[token]`` scripts a status."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.answers: dict[str, int] = {}
        super().__init__()

    def subscribe(self) -> dict[str, Any]:
        token = uuid.uuid4().hex
        private = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.keys[token] = (private, auth)
        public = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {
            "endpoint": f"{self.url}/push/{token}",
            "keys": {"p256dh": b64url(public), "auth": b64url(auth)},
        }

    def answer(self, request: Received) -> Answer:
        token = request.path.removeprefix("/push/")
        if request.method != "POST" or token not in self.keys:
            return 404, {}, b""
        problem_found = self._check(request)
        if problem_found:
            with self.lock:
                self.refused.append(problem_found)
            return 401 if "vapid" in problem_found else 400, {}, problem_found.encode()
        private, auth = self.keys[token]
        status = self.answers.get(token, 201)
        if status >= 300:
            return status, {}, b""
        plain = http_ece.decrypt(request.body, private_key=private, auth_secret=auth, version="aes128gcm")
        with self.lock:
            self.received.append({"token": token, "message": json.loads(plain), "headers": request.headers})
        return 201, {"Location": f"{self.url}/messages/{uuid.uuid4().hex}"}, b""

    def _check(self, request: Received) -> str | None:
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return "the body must be aes128gcm"
        if not request.headers.get("TTL", "").isdigit():
            return "TTL is required"
        scheme, _, params = request.headers.get("Authorization", "").partition(" ")
        values = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in values or "k" not in values:
            return "vapid: no VAPID authorization"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(values["k"]))
        try:
            claims = jwt.decode(values["t"], public, algorithms=["ES256"], audience=self.url)
        except jwt.PyJWTError as exc:
            return f"vapid: {exc}"
        if not str(claims.get("sub", "")).startswith("mailto:"):
            return "vapid: no contact in sub"
        return None

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.keys.clear()
            self.received.clear()
            self.refused.clear()
            self.answers.clear()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_private_key() -> str:
    """A VAPID key as `vapid --gen` gives it: the private scalar, 32 octets, base64url."""
    private = ec.generate_private_key(ec.SECP256R1())
    return b64url(private.private_numbers().private_value.to_bytes(32, "big"))
