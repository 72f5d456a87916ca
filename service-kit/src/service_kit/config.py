"""Configuration from environment variables only.

Every setting has a safe development default. With ``GARAGE_ENV=production`` the
settings that must not have a development value are required, and start-up fails
with one clear message naming all that are missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

# The development default; kit_settings refuses it in production.
DEV_JWT_SECRET = "garage-development-secret-not-for-production"  # nosec B105  # pragma: allowlist secret
DEV_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/garage"


class ConfigError(RuntimeError):
    """A production setting is missing or unsafe."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _list(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def kit_settings(*, service: str, schema: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings service-kit reads, as Flask config keys."""
    env = os.environ if env is None else env
    production = env.get("GARAGE_ENV", "development") == "production"
    settings: dict[str, Any] = {
        "SERVICE_NAME": service,
        "DB_SCHEMA": schema,
        "GARAGE_ENV": env.get("GARAGE_ENV", "development"),
        "DATABASE_URL": env.get("DATABASE_URL") or ("" if production else DEV_DATABASE_URL),
        "DB_POOL_SIZE": _int(env, "DB_POOL_SIZE", 5),
        "DB_MAX_OVERFLOW": _int(env, "DB_MAX_OVERFLOW", 5),
        "DB_STATEMENT_TIMEOUT_MS": _int(env, "DB_STATEMENT_TIMEOUT_MS", 10_000),
        "JWT_ISSUER": env.get("JWT_ISSUER", "garage-dev"),
        "JWT_AUDIENCE": env.get("JWT_AUDIENCE", "garage"),
        "JWT_JWKS_URL": env.get("JWT_JWKS_URL", ""),
        "JWT_PUBLIC_KEY": env.get("JWT_PUBLIC_KEY", ""),
        "JWT_SECRET": env.get("JWT_SECRET") or ("" if production else DEV_JWT_SECRET),
        "JWT_ALGORITHMS": _list(env.get("JWT_ALGORITHMS")) or None,
        "JWT_LEEWAY_SECONDS": _int(env, "JWT_LEEWAY_SECONDS", 30),
        "JWT_JWKS_REFRESH_COOLDOWN_SECONDS": _int(env, "JWT_JWKS_REFRESH_COOLDOWN_SECONDS", 30),
        "CORS_ORIGINS": _list(env.get("CORS_ORIGINS", "" if production else "*")),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "IDEMPOTENCY_TTL_HOURS": _int(env, "IDEMPOTENCY_TTL_HOURS", 48),
        "MAX_BODY_BYTES": _int(env, "MAX_BODY_BYTES", 1024 * 1024),
        # Counted per client and per method class; Redis shares the counts across
        # workers and pods, memory is for development only.
        "RATE_LIMIT_STORAGE_URL": env.get("RATE_LIMIT_STORAGE_URL") or ("" if production else "memory://"),
        "RATE_LIMIT_READ": env.get("RATE_LIMIT_READ", "600 per minute"),
        "RATE_LIMIT_WRITE": env.get("RATE_LIMIT_WRITE", "120 per minute"),
        "RATE_LIMIT_SERVICE": env.get("RATE_LIMIT_SERVICE", "6000 per minute"),
        "RATE_LIMIT_ENABLED": env.get("RATE_LIMIT_ENABLED", "true").lower() != "false",
    }
    if production:
        missing = [name for name in ("DATABASE_URL", "RATE_LIMIT_STORAGE_URL") if not settings[name]]
        if not (settings["JWT_JWKS_URL"] or settings["JWT_PUBLIC_KEY"] or settings["JWT_SECRET"]):
            missing.append("JWT_JWKS_URL (or JWT_PUBLIC_KEY)")
        if settings["JWT_SECRET"] == DEV_JWT_SECRET:
            raise ConfigError("JWT_SECRET is the development secret; set a real key in production")
        if missing:
            raise ConfigError("missing production settings: " + ", ".join(missing))
    return settings
