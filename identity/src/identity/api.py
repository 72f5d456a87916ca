"""The admin API (HTTP layer): staff accounts and the audit record. Parse, one service
call, serialise; only admins."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView

from identity.models import db
from identity.schemas import (
    AccountCreateSchema,
    AccountPageSchema,
    AccountQueryArgsSchema,
    AccountSchema,
    AccountUpdateSchema,
    AuditEventPageSchema,
    AuditEventQueryArgsSchema,
    PasswordSchema,
    SecondFactorSchema,
)
from identity.service import accounts, audit
from service_kit.auth import current_principal
from service_kit.blueprint import ServiceBlueprint
from service_kit.etag import etag_header, if_match_versions

ADMIN = ("admin",)

blp = ServiceBlueprint(
    "accounts", __name__, url_prefix="/api/v1/accounts", description="Staff accounts (admins only)"
)
audit_blp = ServiceBlueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit-events",
    description="Who signed in, failed, was locked, changed",
)


def _who() -> dict[str, Any]:
    return {"actor": current_principal().subject, "address": request.remote_addr}


@blp.route("")
class Accounts(MethodView):
    @blp.auth(*ADMIN)
    @blp.arguments(AccountQueryArgsSchema, location="query")
    @blp.response(200, AccountPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List accounts, oldest first"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return accounts.list_accounts(
            session=db.session(), filters=accounts.AccountFilters(**args), limit=limit, cursor=cursor
        )

    @blp.auth(*ADMIN)
    @blp.idempotent
    @blp.arguments(AccountCreateSchema)
    @blp.response(201, AccountSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a staff account"""
        account = accounts.create_account(
            session=db.session(), hasher=accounts.password_hasher(current_app.config), data=data, **_who()
        )
        return account, {
            "Location": url_for("accounts.Account", account_id=account.id),
            **etag_header(account.version),
        }


@blp.route("/<uuid:account_id>")
class Account(MethodView):
    @blp.auth(*ADMIN)
    @blp.response(200, AccountSchema)
    def get(self, account_id: uuid.UUID) -> Any:
        """Get an account, with its lock if it is locked"""
        account = accounts.get_account(session=db.session(), account_id=account_id)
        return account, etag_header(account.version)

    @blp.auth(*ADMIN)
    @blp.transactional
    @blp.if_match
    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema)
    def patch(self, changes: dict[str, Any], account_id: uuid.UUID) -> Any:
        """Change the name or the roles"""
        account = accounts.update_account(
            session=db.session(),
            account_id=account_id,
            changes=changes,
            expected_versions=if_match_versions(),
            **_who(),
        )
        return account, etag_header(account.version)


def _status_view(status: str) -> Any:
    def view(account_id: uuid.UUID) -> Any:
        account = accounts.set_status(
            session=db.session(),
            account_id=account_id,
            status=status,
            expected_versions=if_match_versions(),
            **_who(),
        )
        return account, etag_header(account.version)

    return view


@blp.route("/<uuid:account_id>/disable", methods=["POST"])
@blp.auth(*ADMIN)
@blp.transactional
@blp.if_match
@blp.response(200, AccountSchema)
def disable(account_id: uuid.UUID) -> Any:
    """Disable: sign-in is refused and the account's refresh tokens stop working at once"""
    return _status_view("disabled")(account_id)


@blp.route("/<uuid:account_id>/enable", methods=["POST"])
@blp.auth(*ADMIN)
@blp.transactional
@blp.if_match
@blp.response(200, AccountSchema)
def enable(account_id: uuid.UUID) -> Any:
    """Enable a disabled account"""
    return _status_view("active")(account_id)


@blp.route("/<uuid:account_id>/password", methods=["POST"])
@blp.auth(*ADMIN)
@blp.transactional
@blp.if_match
@blp.arguments(PasswordSchema)
@blp.response(200, AccountSchema)
def set_password(data: dict[str, Any], account_id: uuid.UUID) -> Any:
    """Set a new password (at least 12 characters); it ends the account's sessions and any lock"""
    account = accounts.set_password(
        session=db.session(),
        hasher=accounts.password_hasher(current_app.config),
        account_id=account_id,
        password=data["password"],
        expected_versions=if_match_versions(),
        **_who(),
    )
    return account, etag_header(account.version)


@blp.route("/<uuid:account_id>/unlock", methods=["POST"])
@blp.auth(*ADMIN)
@blp.transactional
@blp.if_match
@blp.response(200, AccountSchema)
def unlock(account_id: uuid.UUID) -> Any:
    """Lift a lock left by repeated failed sign-ins"""
    account = accounts.unlock(
        session=db.session(), account_id=account_id, expected_versions=if_match_versions(), **_who()
    )
    return account, etag_header(account.version)


@blp.route("/<uuid:account_id>/second-factor", methods=["POST"])
@blp.auth(*ADMIN)
@blp.transactional
@blp.if_match
@blp.response(200, SecondFactorSchema)
def enrol_second_factor(account_id: uuid.UUID) -> Any:
    """Enrol a new TOTP secret (replacing any before); the answer is the only time it is shown"""
    account, uri = accounts.enrol_second_factor(
        session=db.session(),
        account_id=account_id,
        issuer_name=current_app.config["TOTP_ISSUER_NAME"],
        expected_versions=if_match_versions(),
        **_who(),
    )
    return {"provisioning_uri": uri, "account": account}, {
        **etag_header(account.version),
        "Cache-Control": "no-store",
    }


@audit_blp.route("")
class AuditEvents(MethodView):
    @audit_blp.auth(*ADMIN)
    @audit_blp.arguments(AuditEventQueryArgsSchema, location="query")
    @audit_blp.response(200, AuditEventPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The audit record, newest first"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return audit.list_events(
            session=db.session(), filters=audit.AuditFilters(**args), limit=limit, cursor=cursor
        )
