"""identity: staff accounts, sign-in and the OpenID Connect provider."""

from identity.app import create_app

__all__ = ["create_app"]
