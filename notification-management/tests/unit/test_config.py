"""Settings from the environment: development defaults, production refusals."""

import pytest
from notification_management.config import attachment_bases, load_config

from service_kit.config import ConfigError

PRODUCTION = {
    "GARAGE_ENV": "production",
    "DATABASE_URL": "postgresql://n@db/garage",
    "RATE_LIMIT_STORAGE_URL": "redis://redis:6379/0",
    "SERVICE_TOKEN": "issued-by-the-platform",
    "JWT_JWKS_URL": "https://auth.example/jwks",
    "CUSTOMER_MANAGEMENT_URL": "http://customer-management:8001",
    "INVOICING_URL": "http://invoicing:8005",
    "SMTP_HOST": "smtp.example",
    "SMTP_SECURITY": "starttls",
    "MAIL_FROM": "Garage <service@garage.example>",
    "SMS_PROVIDER_URL": "https://sms.example/v1/messages",
    "SMS_PROVIDER_TOKEN": "secret",
}


def test_development_defaults_send_mail_to_a_local_catcher_and_sms_to_the_log():
    config = load_config(env={})
    assert (config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_SECURITY"]) == ("127.0.0.1", 1025, "none")
    assert config["SMS_PROVIDER"] == "logging"
    assert attachment_bases(config) == {"invoicing": "http://127.0.0.1:8005"}


def test_a_complete_production_configuration_loads():
    config = load_config(env=PRODUCTION)
    assert config["SMS_PROVIDER"] == "http"
    assert attachment_bases(config) == {"invoicing": "http://invoicing:8005"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SMTP_HOST": ""}, "SMTP_HOST"),
        ({"MAIL_FROM": ""}, "MAIL_FROM"),
        ({"SMS_PROVIDER": "logging"}, "development only"),
        ({"SMS_PROVIDER_TOKEN": ""}, "SMS_PROVIDER_TOKEN"),
        ({"SMS_PROVIDER_URL": ""}, "SMS_PROVIDER_URL"),
        ({"SMTP_SECURITY": "ssl3"}, "SMTP_SECURITY"),
        ({"SMTP_PORT": "twenty-five"}, "SMTP_PORT"),
        ({"INVOICING_URL": ""}, "INVOICING_URL"),
    ],
)
def test_production_refuses_a_missing_or_unsafe_setting(change, named):
    with pytest.raises(ConfigError, match=named):
        load_config(env={**PRODUCTION, **change})
