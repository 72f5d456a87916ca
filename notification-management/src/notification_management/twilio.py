"""Twilio's inbound-SMS webhook, as Twilio documents it ("Webhooks security",
"Messaging webhooks"): an ``application/x-www-form-urlencoded`` POST with
``MessageSid``, ``From``, ``To``, ``Body`` (and more), signed in the
``X-Twilio-Signature`` header: Base64(HMAC-SHA1(auth token, URL + every POST
parameter sorted by name, each name followed by its value)). The URL is the one
configured at Twilio, query string included; Twilio's own validators also accept it
with and without the scheme's default port, as we do. Answers are TwiML: a
``<Message>`` in the answer is sent back to the sender as an SMS.

Written here rather than taken from the ``twilio`` package (a large REST client) for
these few lines; the tests hold it to Twilio's published example vector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

SIGNATURE_HEADER = "X-Twilio-Signature"
# SM... for an SMS, MM... for an MMS: two letters and 32 hexadecimal digits.
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_BODY = 1600  # Twilio's limit for one message's text


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature Twilio computes for a POST of ``params`` to ``url``."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL as given, without and with the scheme's default port."""
    parts = urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is not None:
        hostport = parts.netloc.rsplit(":", 1)[0]
        return [url, urlunsplit(parts._replace(netloc=hostport))] if parts.port == default_port else [url]
    if default_port is None or not host:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default_port}"))]


def is_signed(auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str | None) -> bool:
    """Did Twilio, holding ``auth_token``, send this? Compared in constant time."""
    if not auth_token or not given:
        return False
    items = list(params)
    return any(
        hmac.compare_digest(signature(auth_token, candidate, items).encode(), given.strip().encode())
        for candidate in _url_variants(url)
    )


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str  # E.164
    text: str


class NotAnInboundSms(ValueError):
    """A signed request that is not an incoming message we can read."""


def parse(form: Mapping[str, str]) -> InboundSms:
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = (form.get("From") or "").strip()
    if not MESSAGE_SID.fullmatch(sid):
        raise NotAnInboundSms("MessageSid must be Twilio's message id (SM or MM and 32 hex digits)")
    if not E164.fullmatch(sender):
        raise NotAnInboundSms("From must be a phone number in E.164 (+31612345678)")
    text = form.get("Body") or ""
    # PostgreSQL stores no NUL; an unpaired surrogate is no text: neither is kept.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:MAX_BODY]
    return InboundSms(message_sid=sid, sender=sender, text=text)


def twiml(message: str | None) -> str:
    """The answer to Twilio: a reply SMS to the sender, or nothing."""
    if message is None:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    text = html.escape(message, quote=False)  # &, < and > as XML's own entities: element text
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{text}</Message></Response>'
