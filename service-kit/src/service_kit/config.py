"""Configuration from environment variables only.

Every setting has a safe development default. With ``GARAGE_ENV=production`` the
settings that must not have a development value are required, and start-up fails
with one clear message naming all that are missing.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# The development default; kit_settings refuses it in production.
DEV_JWT_SECRET = "garage-development-secret-not-for-production"  # nosec B105  # pragma: allowlist secret
DEV_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/garage"


class ConfigError(RuntimeError):
    """A setting is missing, does not parse, or is unsafe in production."""


# Typed readers for one variable each. A number or a boolean set to "" counts as
# unset (the default); a list set to "" is the empty list, so a default can be
# switched off. A value that does not parse names its variable.

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def env_int(
    env: Mapping[str, str], name: str, default: int, *, low: int | None = None, high: int | None = None
) -> int:
    return _number(env, name, default, int, "a whole number", low, high)


def env_float(
    env: Mapping[str, str], name: str, default: float, *, low: float | None = None, high: float | None = None
) -> float:
    return _number(env, name, default, float, "a number", low, high)


def env_decimal(
    env: Mapping[str, str],
    name: str,
    default: Decimal | str,
    *,
    low: Decimal | int | None = None,
    high: Decimal | int | None = None,
) -> Decimal:
    return _number(env, name, Decimal(default), Decimal, "a decimal number", low, high)


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in _TRUE or raw in _FALSE:
        return raw in _TRUE
    raise ConfigError(f"{name} must be true or false, got {env[name]!r}")


def env_list(env: Mapping[str, str], name: str, default: Sequence[str] = ()) -> list[str]:
    """A comma-separated list, items stripped and blanks dropped."""
    raw = env.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def _number(
    env: Mapping[str, str],
    name: str,
    default: Any,
    cast: Any,
    kind: str,
    low: Any,
    high: Any,
) -> Any:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = cast(raw)
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            raise ValueError("not finite")  # NaN and the infinities parse, but are no setting
    except (ValueError, ArithmeticError) as exc:  # decimal.InvalidOperation is an ArithmeticError
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from exc
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{name} must be {_bounds(low, high)}, got {raw!r}")
    return value


def _bounds(low: Any, high: Any) -> str:
    if low is None:
        return f"at most {high}"
    return f"at least {low}" if high is None else f"between {low} and {high}"


def development_client_secret(dev_secret: str, client_id: str) -> str:
    """Development only: an OAuth client's secret derived from the shared development
    secret, so identity and the client (a service, the console) agree on it with nothing
    configured. Production sets every secret."""
    return hmac.new(dev_secret.encode(), f"client:{client_id}".encode(), hashlib.sha256).hexdigest()


def kit_settings(*, service: str, schema: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings service-kit reads, as Flask config keys."""
    env = os.environ if env is None else env
    production = env.get("GARAGE_ENV", "development") == "production"
    settings: dict[str, Any] = {
        "SERVICE_NAME": service,
        "DB_SCHEMA": schema,
        "GARAGE_ENV": env.get("GARAGE_ENV", "development"),
        "DATABASE_URL": env.get("DATABASE_URL") or ("" if production else DEV_DATABASE_URL),
        "DB_POOL_SIZE": env_int(env, "DB_POOL_SIZE", 5, low=1),
        "DB_MAX_OVERFLOW": env_int(env, "DB_MAX_OVERFLOW", 5, low=0),
        "DB_STATEMENT_TIMEOUT_MS": env_int(env, "DB_STATEMENT_TIMEOUT_MS", 10_000, low=0),
        # Bring your own provider (Keycloak, Entra ID, Google Workspace): its issuer; the
        # key set is found through its discovery document, roles at JWT_ROLES_CLAIM.
        "OIDC_ISSUER": env.get("OIDC_ISSUER", ""),
        "JWT_ROLES_CLAIM": env.get("JWT_ROLES_CLAIM", "roles"),
        "JWT_NAME_CLAIM": env.get("JWT_NAME_CLAIM", "name"),  # the person's display name
        "JWT_ISSUER": env.get("JWT_ISSUER") or env.get("OIDC_ISSUER") or "garage-dev",
        "JWT_AUDIENCE": env.get("JWT_AUDIENCE", "garage"),
        "JWT_JWKS_URL": env.get("JWT_JWKS_URL", ""),
        "JWT_PUBLIC_KEY": env.get("JWT_PUBLIC_KEY", ""),
        "JWT_SECRET": env.get("JWT_SECRET") or ("" if production else DEV_JWT_SECRET),
        "JWT_ALGORITHMS": env_list(env, "JWT_ALGORITHMS") or None,
        "JWT_LEEWAY_SECONDS": env_int(env, "JWT_LEEWAY_SECONDS", 30, low=0),
        "JWT_JWKS_REFRESH_COOLDOWN_SECONDS": env_int(env, "JWT_JWKS_REFRESH_COOLDOWN_SECONDS", 30, low=0),
        "CORS_ORIGINS": env_list(env, "CORS_ORIGINS", [] if production else ["*"]),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "IDEMPOTENCY_TTL_HOURS": env_int(env, "IDEMPOTENCY_TTL_HOURS", 48, low=1),
        "MAX_BODY_BYTES": env_int(env, "MAX_BODY_BYTES", 1024 * 1024, low=1),
        # Counted per client and per method class; Redis shares the counts across
        # workers and pods, memory is for development only.
        "RATE_LIMIT_STORAGE_URL": env.get("RATE_LIMIT_STORAGE_URL") or ("" if production else "memory://"),
        "RATE_LIMIT_READ": env.get("RATE_LIMIT_READ", "600 per minute"),
        "RATE_LIMIT_WRITE": env.get("RATE_LIMIT_WRITE", "120 per minute"),
        "RATE_LIMIT_SERVICE": env.get("RATE_LIMIT_SERVICE", "6000 per minute"),
        "RATE_LIMIT_ENABLED": env_bool(env, "RATE_LIMIT_ENABLED", True),
    }
    if production:
        missing = [name for name in ("DATABASE_URL", "RATE_LIMIT_STORAGE_URL") if not settings[name]]
        if not (
            settings["JWT_JWKS_URL"]
            or settings["OIDC_ISSUER"]
            or settings["JWT_PUBLIC_KEY"]
            or settings["JWT_SECRET"]
        ):
            missing.append("JWT_JWKS_URL (or OIDC_ISSUER, or JWT_PUBLIC_KEY)")
        if settings["JWT_SECRET"] == DEV_JWT_SECRET:
            raise ConfigError("JWT_SECRET is the development secret; set a real key in production")
        if missing:
            raise ConfigError("missing production settings: " + ", ".join(missing))
    return settings
