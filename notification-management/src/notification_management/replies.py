"""Replies to our text messages, in plain Python: which keywords stop or restart them,
what we answer, and what consent changes follow (docs/notifications.md).

A reply that is only a keyword (any case, surrounding spaces and a full stop or
exclamation mark ignored) is a command, as carriers and Twilio treat them:

- STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (Twilio's standard opt-out words) and
  the Dutch STOPP and UIT: the customer withdraws consent for text messages, for
  service and marketing alike;
- START, UNSTOP: the customer wants service messages by text again (marketing
  consent is not given back by a keyword: it is asked for at the counter or online);
- HELP, INFO: what these messages are and how to stop them.

Twilio's YES is no opt-in here: "yes" is what people answer a question from the
garage with. Anything else is a message for the staff (the conversation).
"""

from __future__ import annotations

from dataclasses import dataclass

STOP, START, HELP = "stop", "start", "help"
KEYWORD_KINDS = (STOP, START, HELP)
INBOUND, OUTBOUND = "inbound", "outbound"
DIRECTIONS = (INBOUND, OUTBOUND)
# inbound: "message" or a keyword; outbound: "auto_reply" (to a keyword) or "reply" (staff)
MESSAGE, AUTO_REPLY, REPLY = "message", "auto_reply", "reply"
MESSAGE_KINDS = (MESSAGE, *KEYWORD_KINDS, AUTO_REPLY, REPLY)
PENDING, MATCHED, UNKNOWN = "pending", "matched", "unknown"
INBOUND_STATUSES = (PENDING, MATCHED, UNKNOWN)
KEYWORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPP", "UIT"), STOP),
    **dict.fromkeys(("START", "UNSTOP"), START),
    **dict.fromkeys(("HELP", "INFO"), HELP),
}

ANSWERS = {
    "en": {
        STOP: "{garage}: you will receive no more text messages from us. Reply START to receive them again.",
        START: "{garage}: you will receive text messages about your vehicle again. Reply STOP to stop them.",
        HELP: "{garage}: text messages about your vehicle and your visits. "
        "Reply STOP to stop them, START to receive them again.",
    },
    "nl": {
        STOP: "{garage}: u ontvangt geen sms-berichten meer van ons. Antwoord START om ze weer te ontvangen.",
        START: "{garage}: u ontvangt weer sms-berichten over uw voertuig. Antwoord STOP om ze te stoppen.",
        HELP: "{garage}: sms-berichten over uw voertuig en uw bezoeken. "
        "Antwoord STOP om ze te stoppen, START om ze weer te ontvangen.",
    },
}


def keyword(text: str) -> str | None:
    """``stop``, ``start`` or ``help`` when the text is one of their words; else None."""
    word = text.strip().rstrip(".!").strip().upper()
    return KEYWORDS.get(word)


def answer(kind: str, *, language: str, garage_name: str) -> str:
    words = ANSWERS.get(language.split("-")[0].lower(), ANSWERS["en"])
    return words[kind].format(garage=garage_name)


@dataclass(frozen=True)
class ConsentChange:
    purpose: str
    granted: bool


def consent_changes(kind: str | None) -> tuple[ConsentChange, ...]:
    """What a keyword changes in the customer's SMS consent."""
    if kind == STOP:
        return (ConsentChange("service", False), ConsentChange("marketing", False))
    if kind == START:
        return (ConsentChange("service", True),)
    return ()
