"""Issue 19 without I/O: which texts are keywords and what they change, reading
Twilio's form, and checking a Web Push subscription before we store it."""

import base64
import json

import pytest
from notification_management import push, replies, twilio


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", "stop"),
        (" stop ", "stop"),
        ("Stop.", "stop"),
        ("STOPP", "stop"),
        ("uit", "stop"),
        ("Uit!", "stop"),
        ("unsubscribe", "stop"),
        ("STOPALL", "stop"),
        ("Cancel", "stop"),
        ("END", "stop"),
        ("quit", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("help", "help"),
        ("INFO", "help"),
    ],
)
def test_keywords(text, kind):
    assert replies.keyword(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Stop calling me at work",
        "please stop",
        "can you cancel my appointment?",
        "",
        "  ",
        "STOP STOP",
    ],
)
def test_a_sentence_is_a_message_not_a_keyword(text):
    assert replies.keyword(text) is None


def test_what_each_keyword_changes():
    assert [(c.purpose, c.granted) for c in replies.consent_changes("stop")] == [
        ("service", False),
        ("marketing", False),
    ]
    assert [(c.purpose, c.granted) for c in replies.consent_changes("start")] == [("service", True)]
    assert replies.consent_changes("help") == replies.consent_changes(None) == ()


def test_answers_in_the_customers_language_else_english():
    assert replies.answer("stop", language="nl-BE", garage_name="G").startswith("G: u ontvangt geen")
    assert replies.answer("start", language="de", garage_name="G").startswith("G: you will receive")
    for language in ("en", "nl"):
        for kind in replies.KEYWORD_KINDS:
            assert len(replies.answer(kind, language=language, garage_name="Garage Jansen")) <= 160


def test_parse_reads_twilios_form_and_keeps_only_storable_text():
    sid = "SM" + "a" * 32
    sms = twilio.parse({"MessageSid": sid, "From": "+31612345678", "Body": "Hi\x00 there" + "x" * 2000})
    assert (sms.message_sid, sms.sender) == (sid, "+31612345678")
    assert "\x00" not in sms.text and len(sms.text) == twilio.MAX_BODY
    assert twilio.parse({"SmsSid": sid, "From": "+31612345678"}).text == ""  # older field name, no body


@pytest.mark.parametrize(
    "fields",
    [
        {"From": "+31612345678", "Body": "hi"},
        {"MessageSid": "SM123", "From": "+31612345678"},
        {"MessageSid": "SM" + "a" * 32, "From": "0612345678"},
        {"MessageSid": "SM" + "a" * 32},
    ],
)
def test_parse_refuses_what_is_not_an_incoming_message(fields):
    with pytest.raises(twilio.NotAnInboundSms):
        twilio.parse(fields)


def test_twiml_escapes_the_answer():
    assert twilio.twiml("a < b & c") == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &lt; b &amp; c</Message></Response>'
    )


# -- Web Push -----------------------------------------------------------------------

P256DH = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).decode().rstrip("=")
AUTH = base64.urlsafe_b64encode(b"\x02" * 16).decode().rstrip("=")
PATTERNS = ("https://fcm.googleapis.com/*", "https://*.push.apple.com/*")


def test_a_subscription_to_a_known_push_service_with_good_keys_passes():
    assert (
        push.check_subscription("https://fcm.googleapis.com/fcm/send/abc", P256DH, AUTH, patterns=PATTERNS)
        == {}
    )
    assert push.check_subscription("https://web.push.apple.com/QGx", P256DH, AUTH, patterns=PATTERNS) == {}


@pytest.mark.parametrize(
    ("endpoint", "p256dh", "auth", "wrong"),
    [
        ("https://fcm.googleapis.com.evil.example/x", P256DH, AUTH, {"endpoint"}),
        ("http://fcm.googleapis.com/x", P256DH, AUTH, {"endpoint"}),
        ("https://fcm.googleapis.com/x", AUTH, AUTH, {"keys.p256dh"}),
        ("https://fcm.googleapis.com/x", P256DH, P256DH, {"keys.auth"}),
        ("https://fcm.googleapis.com/x", "%%%", "!!", {"keys.p256dh", "keys.auth"}),
    ],
)
def test_a_subscription_elsewhere_or_with_bad_keys_is_named(endpoint, p256dh, auth, wrong):
    assert set(push.check_subscription(endpoint, p256dh, auth, patterns=PATTERNS)) == wrong


def test_the_payload_is_what_the_service_worker_shows():
    assert json.loads(push.payload(title="T", body="B é", url=None, tag="n1")) == {
        "title": "T",
        "body": "B é",
        "tag": "n1",
    }
    assert json.loads(push.payload(title="T", body="B", url="https://p/x", tag="n1"))["url"] == "https://p/x"
