"""The admin API's shapes (marshmallow); the OpenAPI contract is generated from them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from identity.domain import AUDIT_KINDS, MAX_PASSWORD_LENGTH, STAFF_ROLES, STATUSES
from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import SINGLE_LINE, UtcDateTime

PASSWORD = [validate.Length(min=1, max=MAX_PASSWORD_LENGTH)]


class LockSchema(ma.Schema):
    locked_until = ma.fields.DateTime(required=True, metadata={"description": "sign-in refused until then"})


class AccountSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    second_factor = ma.fields.Boolean(required=True, metadata={"description": "a TOTP app is enrolled"})
    lock = ma.fields.Nested(
        LockSchema,
        required=True,
        allow_none=True,
        metadata={"description": "set while repeated failures keep the account locked"},
    )
    failed_attempts = ma.fields.Integer(
        required=True, metadata={"description": "failures since the last success"}
    )
    last_sign_in_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    version = ma.fields.Integer(required=True)


AccountPageSchema = page_schema(AccountSchema)


class AccountCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), SINGLE_LINE])
    email = ma.fields.String(required=True, validate=[validate.Length(min=3, max=254), SINGLE_LINE])
    roles = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(STAFF_ROLES)),
        required=True,
        validate=validate.Length(min=1, max=len(STAFF_ROLES)),
    )
    password = ma.fields.String(
        validate=PASSWORD,
        load_only=True,
        metadata={"description": "at least 12 characters; without it the account cannot sign in yet"},
    )


class AccountUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[validate.Length(min=1, max=200), SINGLE_LINE])
    roles = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(STAFF_ROLES)),
        validate=validate.Length(min=1, max=len(STAFF_ROLES)),
    )


class PasswordSchema(ma.Schema):
    password = ma.fields.String(required=True, validate=PASSWORD, load_only=True)


class SecondFactorSchema(ma.Schema):
    provisioning_uri = ma.fields.String(
        required=True, metadata={"description": "otpauth:// URI for the authenticator app; shown once"}
    )
    account = ma.fields.Nested(AccountSchema, required=True)


class AccountQueryArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(STAFF_ROLES))
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    email = ma.fields.String(validate=[validate.Length(max=254), SINGLE_LINE])


class AuditEventSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    at = ma.fields.DateTime(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(AUDIT_KINDS))
    actor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "who acted: an admin, a service, the person"}
    )
    account_id = ma.fields.UUID(required=True, allow_none=True)
    client_id = ma.fields.String(required=True, allow_none=True)
    address = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "the client's IP address"}
    )
    detail = ma.fields.Dict(required=True)


AuditEventPageSchema = page_schema(AuditEventSchema)


class AuditEventQueryArgsSchema(PageArgsSchema):
    kind = ma.fields.String(validate=validate.OneOf(AUDIT_KINDS))
    account_id = ma.fields.UUID()
    address = ma.fields.String(validate=[validate.Length(max=64), SINGLE_LINE])
    since = UtcDateTime()
