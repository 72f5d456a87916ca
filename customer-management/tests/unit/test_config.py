"""customer-management's own settings, read from the environment."""

import pytest
from customer_management.config import load_config

from service_kit.config import ConfigError


def test_business_payment_terms_default_to_30_days_and_are_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("BUSINESS_PAYMENT_TERMS_DAYS", raising=False)
    assert load_config()["BUSINESS_PAYMENT_TERMS_DAYS"] == 30
    monkeypatch.setenv("BUSINESS_PAYMENT_TERMS_DAYS", "45")
    assert load_config()["BUSINESS_PAYMENT_TERMS_DAYS"] == 45


@pytest.mark.parametrize("raw", ["-1", "366", "a month"])
def test_business_payment_terms_outside_a_year_stop_the_start(monkeypatch, raw):
    monkeypatch.setenv("BUSINESS_PAYMENT_TERMS_DAYS", raw)
    with pytest.raises(ConfigError, match="BUSINESS_PAYMENT_TERMS_DAYS"):
        load_config()
