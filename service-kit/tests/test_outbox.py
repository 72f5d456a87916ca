"""Outbox rules with no I/O: which answers are delivered, retried or dead, and the
sender's view of headers."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from service_kit.outbox import (
    DEAD,
    DELIVERED,
    RETRY,
    HttpSender,
    OutboxMessage,
    UnknownTarget,
    classify,
    outbox_settings,
    target_setting,
)
from service_kit.outbox.relay import _retry_after


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_delivered(status):
    assert classify(status) == DELIVERED


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409, 425, 429])
def test_no_answer_yet_is_retried(status):
    assert classify(status) == RETRY


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 405, 410, 412, 413, 415, 422])
def test_an_answer_that_would_not_change_is_dead(status):
    assert classify(status) == DEAD


def test_retry_after_in_seconds_or_as_a_date():
    assert _retry_after("30") == 30.0
    assert _retry_after(None) is None
    assert _retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < _retry_after(later) <= 120


def test_target_names_become_url_settings():
    assert target_setting("invoicing") == "INVOICING_URL"
    assert target_setting("notification-management") == "NOTIFICATION_MANAGEMENT_URL"


def test_settings_have_defaults_and_reject_nonsense():
    settings = outbox_settings({})
    assert settings["OUTBOX_MAX_ATTEMPTS"] == 20
    assert settings["OUTBOX_BACKOFF_MAX_SECONDS"] == 3600.0
    assert outbox_settings({"OUTBOX_MAX_ATTEMPTS": "3"})["OUTBOX_MAX_ATTEMPTS"] == 3
    with pytest.raises(Exception, match="OUTBOX_MAX_ATTEMPTS"):
        outbox_settings({"OUTBOX_MAX_ATTEMPTS": "many"})


def test_a_target_without_a_url_cannot_be_sent():
    sender = HttpSender.from_config({"INVOICING_URL": "http://127.0.0.1:9"})
    assert sender.client_for("invoicing") is sender.client_for("invoicing")
    message = OutboxMessage(
        id=None,
        target="notification-management",
        method="POST",
        path="/x",
        body={},
        idempotency_key="k",
        attempts=0,
    )
    with pytest.raises(UnknownTarget, match="NOTIFICATION_MANAGEMENT_URL"):
        sender(message)
