"""Web Push (issue 19): a notification to the browsers and phones a customer
subscribed, through ``pywebpush`` (payload encrypted as RFC 8291 says, aes128gcm,
to the subscription's keys; the push service told who we are with VAPID, RFC 8292).

A push service answers 201 when it took the message; 404 or 410 when the subscription
is gone (the customer unsubscribed, or the browser dropped it): we remove it; 429,
5xx or no answer may pass: tried again later; any other answer makes this
subscription unusable for this message (kept: it may be our fault).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

GONE = frozenset({404, 410})
MAY_PASS = frozenset({408, 425, 429})


class PushGone(Exception):
    """The push service no longer knows the subscription (404, 410)."""


class PushFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def check_subscription(
    endpoint: str, p256dh: str, auth: str, *, patterns: Iterable[str]
) -> dict[str, list[str]]:
    """What is wrong with a subscription (empty when nothing): an endpoint of a push
    service we are configured to push to (we POST to it: no address of our own
    network), a P-256 public key (65 octets, uncompressed) and a 16-octet secret."""
    errors: dict[str, list[str]] = {}
    if not any(fnmatch.fnmatchcase(endpoint, pattern) for pattern in patterns):
        errors["endpoint"] = ["must be the endpoint of a known push service (PUSH_ENDPOINT_PATTERNS)"]
    try:
        key = b64url_decode(p256dh)
        if len(key) != 65 or key[0] != 4:
            raise ValueError
    except (ValueError, binascii.Error):
        errors["keys.p256dh"] = ["must be a P-256 public key, uncompressed, base64url"]
    try:
        if len(b64url_decode(auth)) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        errors["keys.auth"] = ["must be 16 octets, base64url"]
    return errors


def payload(
    *, title: str, body: str, url: str | None, tag: str, data: Mapping[str, Any] | None = None
) -> bytes:
    """What the portal's service worker shows: JSON with title, body, the page to open
    (the message's link, if any) and a tag (one notification replaces its earlier try)."""
    message: dict[str, Any] = {"title": title, "body": body, "tag": tag}
    if url:
        message["url"] = url
    if data:
        message.update(data)
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


@dataclass
class WebPushSender:
    vapid: Vapid
    subject: str  # mailto: or https: contact for the push service (VAPID "sub")
    ttl: int = 86400
    timeout: float = 10.0
    session: requests.Session | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebPushSender | None:
        key = config["PUSH_VAPID_PRIVATE_KEY"]
        if not key:
            return None
        return cls(
            vapid=Vapid.from_string(private_key=key),
            subject=config["PUSH_VAPID_SUBJECT"],
            ttl=config["PUSH_TTL_SECONDS"],
            timeout=config["PUSH_TIMEOUT_SECONDS"],
            session=requests.Session(),
        )

    @property
    def public_key(self) -> str:
        """The application server key the portal subscribes with (base64url)."""
        raw = self.vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def send(self, *, endpoint: str, p256dh: str, auth: str, data: bytes) -> str:
        """Push ``data`` to one subscription; the push service's message location (or
        the status) once it took it."""
        try:
            response = webpush(
                {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=data,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                content_encoding="aes128gcm",
                timeout=self.timeout,
                ttl=self.ttl,
                requests_session=self.session,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                raise PushGone(f"the push service answered {status}: the subscription is gone") from exc
            permanent = status is not None and status < 500 and status not in MAY_PASS
            raise PushFailed(f"the push service answered {status}", permanent=permanent) from exc
        except requests.RequestException as exc:
            failure = f"the push service did not answer: {type(exc).__name__}"
            raise PushFailed(failure, permanent=False) from exc
        if not isinstance(response, requests.Response):  # pywebpush's curl mode: never asked for
            return "pushed"
        return response.headers.get("Location") or str(response.status_code)
