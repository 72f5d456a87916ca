"""Bearer JWTs: verified for signature, expiry, issuer and audience; roles from the
``roles`` claim, the person's display name from the ``name`` claim. Keys come from a
JWKS URL in production or a configured key in development (an HS256 secret or an
RSA/EC public key)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app, g, request

from service_kit.problems import DependencyUnavailable, Forbidden, Unauthorized

# "portal" is the customer portal's service identity: it reaches only the operations a
# customer's link opens (service_kit.links), never the staff ones.
ROLES = ("admin", "advisor", "technician", "accountant", "service", "portal")
EXTENSION = "garage_auth"


SERVICE_KID_PREFIX = "service:"
SERVICE_TOKEN_TTL_SECONDS = 300
NAME_MAX_LENGTH = 200  # what the services' "..._by_name" columns hold


@dataclass(frozen=True)
class Actor:
    """Who did something, as a record keeps it: the token's subject (the account id,
    or a service's name) and the display name it carried at that moment, so renaming
    the person later does not rewrite what was recorded."""

    subject: str
    name: str

    def fields(self, prefix: str) -> dict[str, str]:
        """``Actor("a1", "Anna").fields("recorded_by")`` ->
        ``{"recorded_by": "a1", "recorded_by_name": "Anna"}``: a model's columns."""
        return {prefix: self.subject, f"{prefix}_name": self.name}


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    # The person's display name (the token's name claim); the subject when the token
    # names no one, and a service token's name is its service's name (its subject).
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.subject)

    @property
    def calling_service(self) -> str | None:
        """The service that called, for a service token (its subject), else None."""
        return self.subject if "service" in self.roles else None

    @property
    def actor(self) -> Actor:
        return Actor(self.subject, self.name)


@functools.lru_cache(maxsize=64)
def service_signing_key(secret: str, service: str) -> bytes:
    """Development: each service signs its tokens with a key of its own, derived from
    the shared development secret, so a token names the service that made it."""
    return hmac.new(secret.encode(), f"{SERVICE_KID_PREFIX}{service}".encode(), hashlib.sha256).digest()


class TokenVerifier:
    """Verifies bearer tokens. A token verified once is remembered until it expires
    (a bounded cache, by the token itself), so a client sending the same token on every
    request pays for the signature check once; a remembered token is still refused at
    once when it expires or when the JWKS no longer lists the key that signed it."""

    CACHE_SIZE = 4096

    def __init__(self, config: dict[str, Any]) -> None:
        self.issuer = config["JWT_ISSUER"]
        self.audience = config["JWT_AUDIENCE"]
        self.leeway = config["JWT_LEEWAY_SECONDS"]
        self._cooldown = config.get("JWT_JWKS_REFRESH_COOLDOWN_SECONDS", 30)
        self._roles_claim = config.get("JWT_ROLES_CLAIM") or "roles"
        self._name_claim = config.get("JWT_NAME_CLAIM") or "name"
        # Bring your own provider: with OIDC_ISSUER the key set's address comes from the
        # provider's discovery document, read when the first token arrives (a provider
        # down at start-up does not stop the service from starting).
        self._discover_from = "" if config["JWT_JWKS_URL"] else config.get("OIDC_ISSUER", "")
        self._jwks = self._key_set_client(config["JWT_JWKS_URL"]) if config["JWT_JWKS_URL"] else None
        uses_key_set = bool(config["JWT_JWKS_URL"] or self._discover_from)
        if config["JWT_PUBLIC_KEY"]:
            # Parsed once: a PEM handed to jwt.decode would be parsed on every request.
            self._key: Any = _prepared_public_key(config["JWT_PUBLIC_KEY"])
            self.algorithms = config["JWT_ALGORITHMS"] or ["RS256", "ES256"]
        else:
            self._key = config["JWT_SECRET"]
            self.algorithms = config["JWT_ALGORITHMS"] or (["RS256", "ES256"] if uses_key_set else ["HS256"])
        self._verified: OrderedDict[str, tuple[Principal, float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _key_set_client(self, url: str) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(
            url,
            # The key set is cached (`lifespan`), not each key on its own: a key
            # looked up by kid in the current set is refused once rotated out of it.
            cache_keys=False,
            lifespan=300,
            timeout=5,
            # An unknown kid refetches the JWKS at most this often, so made-up kids
            # cannot hammer the identity provider.
            cooldown_duration=self._cooldown,
        )

    def _key_set(self) -> jwt.PyJWKClient | None:
        if self._jwks is None and self._discover_from:
            self._jwks = self._key_set_client(discover_jwks_uri(self._discover_from))
        return self._jwks

    def _signing_key(self, token: str, kid: str) -> Any:
        key_set = self._key_set()
        if key_set is not None:
            # An unknown kid makes PyJWKClient fetch the JWKS again: a rotated-in key
            # is accepted as soon as the identity provider publishes it.
            return key_set.get_signing_key_from_jwt(token).key
        if kid.startswith(SERVICE_KID_PREFIX) and isinstance(self._key, str) and "HS256" in self.algorithms:
            return service_signing_key(self._key, kid.removeprefix(SERVICE_KID_PREFIX))
        return self._key

    def _still_good(self, expires: float, kid: str) -> bool:
        if time.time() > expires + self.leeway:
            return False
        key_set = self._key_set()
        if key_set is None:
            return True
        # The cached key set (fetched again every `lifespan`): a key rotated out of it
        # refuses its tokens from then on, remembered or not.
        try:
            return any(key.key_id == kid for key in key_set.get_jwk_set().keys)
        except jwt.PyJWKClientError:
            return False

    def verify(self, token: str) -> Principal:
        with self._lock:
            remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires, kid = remembered
            if self._still_good(expires, kid):
                return principal
            with self._lock:
                self._verified.pop(token, None)
        principal, expires, kid = self._verify_signature(token)
        with self._lock:
            self._verified[token] = (principal, expires, kid)
            if len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify_signature(self, token: str) -> tuple[Principal, float, str]:
        try:
            kid = str(jwt.get_unverified_header(token).get("kid", ""))
            claims = jwt.decode(
                token,
                self._signing_key(token, kid),
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired", headers=_challenge("invalid_token")) from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(_why_refused(exc), headers=_challenge("invalid_token")) from exc
        if kid.startswith(SERVICE_KID_PREFIX) and claims["sub"] != kid.removeprefix(SERVICE_KID_PREFIX):
            raise Unauthorized("a service token must name the service whose key signed it")
        roles = _claim_at(claims, self._roles_claim)
        if isinstance(roles, str):
            roles = roles.split()
        if not isinstance(roles, list):
            roles = []
        subject = str(claims["sub"])
        granted = frozenset(r for r in roles if isinstance(r, str))
        # Worked out once per token (the verified token is remembered with it).
        name = subject if "service" in granted else display_name(_claim_at(claims, self._name_claim))
        principal = Principal(subject=subject, roles=granted, name=name)
        return principal, float(claims["exp"]), kid


def _storable(c: str) -> str:
    return " " if unicodedata.category(c) in ("Cc", "Cs") else c


def display_name(value: Any) -> str:
    """A name claim as a record can keep it: text, on one line, without the control
    characters PostgreSQL cannot store, at most NAME_MAX_LENGTH characters; "" when
    there is none (the subject stands in)."""
    if not isinstance(value, str):
        return ""
    printable = value if value.isprintable() else "".join(_storable(c) for c in value)
    return " ".join(printable.split())[:NAME_MAX_LENGTH].strip()


def _claim_at(claims: dict[str, Any], path: str) -> Any:
    """A claim by its dotted path: ``roles``, or Keycloak's ``realm_access.roles``."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def discover_jwks_uri(issuer: str) -> str:
    """The key set's address from an OpenID provider's discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DependencyUnavailable("identity provider", f"cannot read {url}") from exc
    if document.get("issuer") != issuer or not document.get("jwks_uri"):
        raise DependencyUnavailable("identity provider", f"{url} names another issuer or no jwks_uri")
    return str(document["jwks_uri"])


def _prepared_public_key(pem: str) -> Any:
    try:
        return serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return pem  # not a PEM PyJWT or cryptography can read: PyJWT says why on use


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="garage"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


def init_auth(app: Flask) -> None:
    app.extensions[EXTENSION] = TokenVerifier(app.config)


def _why_refused(exc: Exception) -> str:
    """What a client can act on, never the decoder's own words (padding, segments, keys)."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no {exc.claim} claim"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "the token is meant for another audience"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the token was issued by another issuer"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature does not verify"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "the token is signed with an algorithm this service does not accept"
    if isinstance(exc, jwt.DecodeError | ValueError):
        return "the token is not a well-formed signed JWT"
    return "the token is not valid"


def current_principal() -> Principal:
    return g.principal


def current_actor() -> Actor:
    """Who is calling, as the "..._by" fields record it: subject and display name."""
    return current_principal().actor


def request_principal(token: str) -> Principal:
    """Verify a token once per request (the rate limiter and the role check share it)."""
    context = g._get_current_object()  # once, not through the proxy each time
    cached = getattr(context, "_verified_token", None)
    if cached is not None and cached[0] == token:
        return cached[1]
    principal = current_app.extensions[EXTENSION].verify(token)
    context._verified_token = (token, principal)
    return principal


def authenticate() -> Principal:
    header = request.environ.get("HTTP_AUTHORIZATION", "")  # request.headers["Authorization"]
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required", headers=_challenge())
    principal = request_principal(token.strip())
    g.principal = principal
    return principal


def requires_roles(*allowed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view run only for a valid token holding one of ``allowed``."""
    unknown = set(allowed) - set(ROLES)
    if unknown or not allowed:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {ROLES}")

    permitted = frozenset(allowed)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if not principal.roles & permitted:
                raise Forbidden(f"this needs one of the roles: {', '.join(allowed)}")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def mint_token(
    config: dict[str, Any],
    *,
    roles: Iterable[str],
    subject: str = "dev-user",
    name: str | None = None,
    ttl_seconds: int = 3600,
    private_key: Any = None,
    algorithm: str = "HS256",
    extra_claims: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """Sign a token with the configured development key (or a given private key);
    ``name`` is the person's display name (the ``name`` claim), none when not given."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + ttl_seconds,
        "roles": sorted(set(roles)),
        **({"name": name} if name else {}),
        **(extra_claims or {}),
    }
    key = private_key if private_key is not None else config["JWT_SECRET"]
    if not key:
        raise RuntimeError("no signing key: set JWT_SECRET (development only)")
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def mint_service_token(config: dict[str, Any], *, ttl_seconds: int = SERVICE_TOKEN_TTL_SECONDS) -> str:
    """Development: a short-lived token naming this service, signed with its own key."""
    service = config["SERVICE_NAME"]
    if not config.get("JWT_SECRET"):
        raise RuntimeError("no development key: set JWT_SECRET, or SERVICE_TOKEN_URL for client credentials")
    return mint_token(
        config,
        roles=["service"],
        subject=service,
        ttl_seconds=ttl_seconds,
        private_key=service_signing_key(config["JWT_SECRET"], service),
        headers={"kid": f"{SERVICE_KID_PREFIX}{service}"},
    )
