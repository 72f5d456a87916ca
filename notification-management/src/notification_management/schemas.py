"""The API's shapes (marshmallow); the OpenAPI contract is generated from them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from notification_management import direct
from notification_management.domain import (
    DIRECT_TYPES,
    LANGUAGE,
    OUTCOMES,
    REQUEST_CHANNELS,
    REQUESTABLE_TYPES,
    SKIP_REASONS,
    STATUSES,
    TYPES,
)
from notification_management.replies import DIRECTIONS, MESSAGE_KINDS
from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import MULTI_LINE, SINGLE_LINE

CONTENT_TYPE = r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$"
LANGUAGE_DESCRIPTION = "a language tag such as nl or en-GB"


def storable(value: Any) -> None:
    """PostgreSQL stores no NUL character, and UTF-8 no unpaired surrogate: refuse
    them (422) wherever they hide in a JSON value, keys included (the kit checks the
    values of every request; ``data`` is free-form, so its keys are ours to check)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ma.ValidationError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ma.ValidationError("must be valid Unicode text") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable(item)
    elif isinstance(value, list):
        for item in value:
            storable(item)


class AttachmentSchema(ma.Schema):
    url = ma.fields.String(
        required=True,
        validate=[validate.Length(max=2000), validate.URL(schemes={"http", "https"}, require_tld=False)],
        metadata={"description": "where this service fetches it, e.g. an invoice's PDF on invoicing"},
    )
    filename = ma.fields.String(
        required=True, validate=[validate.Length(min=1, max=200), storable, SINGLE_LINE]
    )
    content_type = ma.fields.String(
        required=True,
        validate=[validate.Length(max=100), validate.Regexp(CONTENT_TYPE)],
        metadata={"description": "e.g. application/pdf"},
    )


class AddresseeSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=[validate.Length(max=254), SINGLE_LINE])
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=200), storable, SINGLE_LINE])
    language = ma.fields.String(
        required=True,
        validate=[validate.Length(max=10), validate.Regexp(LANGUAGE.pattern)],
        metadata={"description": LANGUAGE_DESCRIPTION},
    )


class NotificationCreateSchema(ma.Schema):
    customer_id = ma.fields.UUID(
        metadata={"description": "whom to tell; every type but " + ", ".join(DIRECT_TYPES) + " needs it"}
    )
    addressee = ma.fields.Nested(
        AddresseeSchema,
        metadata={
            "description": "someone who is not a customer (staff), told by email: only for "
            + ", ".join(DIRECT_TYPES)
            + " (a service message; no customer, no consent)"
        },
    )
    type = ma.fields.String(
        required=True,
        validate=validate.OneOf(REQUESTABLE_TYPES),
        metadata={"description": "not sms_reply: staff answer through /api/v1/conversations"},
    )
    data = ma.fields.Dict(
        keys=ma.fields.String(),
        required=True,
        validate=storable,
        metadata={"description": "values for the template; what each type uses is in the service's README"},
    )
    channel = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(REQUEST_CHANNELS),
        metadata={
            "description": "email, sms or push; absent or null: push where the customer subscribed "
            "(service messages), else their preferred channel. push falls back to the preferred "
            "channel when no subscription works"
        },
    )
    attachments = ma.fields.List(
        ma.fields.Nested(AttachmentSchema),
        validate=validate.Length(max=10),
        metadata={"description": "sent with an email; an SMS carries none"},
    )

    @ma.validates_schema(skip_on_field_errors=False)
    def one_recipient(self, data: dict[str, Any], **_: Any) -> None:
        errors = direct.check(data)
        if errors:
            raise ma.ValidationError(errors)


class AttemptSchema(ma.Schema):
    number = ma.fields.Integer(required=True)
    started_at = ma.fields.DateTime(required=True)
    finished_at = ma.fields.DateTime(required=True)
    channel = ma.fields.String(required=True, allow_none=True)
    outcome = ma.fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    error = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "why it did not go out"}
    )
    provider_reference = ma.fields.String(required=True, allow_none=True)


class NotificationSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "null for one sent to an addressee"}
    )
    type = ma.fields.String(required=True, validate=validate.OneOf(TYPES))
    data = ma.fields.Dict(
        keys=ma.fields.String(),
        required=True,
        attribute="shown_data",
        metadata={"description": "as sent; {} for a password_reset (its data is the link)"},
    )
    channel = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "the channel asked for, if any"}
    )
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)
    status = ma.fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "pending: not tried yet; failed: will be tried again at next_attempt_at; "
            "sent: the provider accepted it; dead: gave up (staff can retry); skipped: see skip_reason"
        },
    )
    skip_reason = ma.fields.String(
        required=True, allow_none=True, validate=validate.OneOf(tuple(SKIP_REASONS))
    )
    last_error = ma.fields.String(required=True, allow_none=True)
    attempt_count = ma.fields.Integer(required=True)
    next_attempt_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        attribute="due_at",
        metadata={"description": "while pending or failed"},
    )
    delivered_channel = ma.fields.String(required=True, allow_none=True)
    recipient = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "where it was sent, masked"}
    )
    language = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "of the template used"}
    )
    provider_reference = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    sent_at = ma.fields.DateTime(required=True, allow_none=True)
    version = ma.fields.Integer(required=True)
    attempts = ma.fields.List(
        ma.fields.Nested(AttemptSchema), required=True, metadata={"description": "every try, oldest first"}
    )


NotificationPageSchema = page_schema(NotificationSchema)


class NotificationQueryArgsSchema(PageArgsSchema):
    customer_id = ma.fields.UUID()
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    type = ma.fields.String(validate=validate.OneOf(TYPES))


class TemplateSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(TYPES))
    language = ma.fields.String(required=True, metadata={"description": LANGUAGE_DESCRIPTION})
    subject = ma.fields.String(required=True, metadata={"description": "Jinja2: the email's subject"})
    body = ma.fields.String(required=True, metadata={"description": "Jinja2: the email's text"})
    sms_body = ma.fields.String(required=True, metadata={"description": "Jinja2: the SMS text"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    updated_by = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)


TemplatePageSchema = page_schema(TemplateSchema)


class TemplateQueryArgsSchema(PageArgsSchema):
    type = ma.fields.String(validate=validate.OneOf(TYPES))
    language = ma.fields.String(validate=validate.Length(max=10))


class TemplateUpdateSchema(ma.Schema):
    subject = ma.fields.String(required=True, validate=[validate.Length(min=1, max=500), storable])
    body = ma.fields.String(required=True, validate=[validate.Length(min=1, max=20_000), storable])
    sms_body = ma.fields.String(required=True, validate=[validate.Length(min=1, max=2_000), storable])


class TemplatePreviewArgsSchema(ma.Schema):
    data = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "values to use over the type's sample data"},
    )
    subject = ma.fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "a draft instead of the stored one"},
    )
    body = ma.fields.String(validate=validate.Length(min=1, max=20_000))
    sms_body = ma.fields.String(validate=validate.Length(min=1, max=2_000))


class TemplatePreviewSchema(ma.Schema):
    type = ma.fields.String(required=True)
    language = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    sms_body = ma.fields.String(required=True)
    data = ma.fields.Dict(
        keys=ma.fields.String(), required=True, metadata={"description": "what was rendered"}
    )


# ------------------------------------------------------------------- conversations


class ConversationSchema(ma.Schema):
    customer_id = ma.fields.UUID(required=True)
    last_message_at = ma.fields.DateTime(required=True)
    last_direction = ma.fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    last_text = ma.fields.String(required=True, metadata={"description": "the start of the latest message"})
    message_count = ma.fields.Integer(required=True)
    awaiting_reply = ma.fields.Boolean(
        required=True, metadata={"description": "the customer wrote last (not a STOP, START or HELP)"}
    )


ConversationPageSchema = page_schema(ConversationSchema)


class ConversationQueryArgsSchema(PageArgsSchema):
    awaiting_reply = ma.fields.Boolean()


class ConversationMessageSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    direction = ma.fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf(MESSAGE_KINDS),
        metadata={
            "description": "inbound: message, or the keyword stop, start or help; outbound: "
            "auto_reply (our answer to a keyword) or reply (staff's)"
        },
    )
    text = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    author = ma.fields.String(required=True, allow_none=True, metadata={"description": "staff's reply: who"})
    notification_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "staff's reply: its notification"}
    )
    delivery_status = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "staff's reply: its notification's status"},
    )
    skip_reason = ma.fields.String(
        required=True, allow_none=True, validate=validate.OneOf(tuple(SKIP_REASONS))
    )


class ConversationDetailSchema(ConversationSchema):
    messages = ma.fields.List(
        ma.fields.Nested(ConversationMessageSchema),
        required=True,
        metadata={"description": "the latest `limit`, oldest first"},
    )
    earlier_messages = ma.fields.Boolean(required=True, metadata={"description": "there are older ones"})


class ConversationDetailArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "messages, 1 to 200"},
    )


class ConversationReplySchema(ma.Schema):
    text = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), storable, MULTI_LINE],
        metadata={"description": "sent by SMS as it is, after the garage's name"},
    )

    @ma.validates("text")
    def not_blank(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


# ------------------------------------------------------------------------- Web Push


class PushKeysSchema(ma.Schema):
    p256dh = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the subscription's P-256 public key, base64url (PushSubscription.getKey)"},
    )
    auth = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "its authentication secret, base64url"},
    )


class PushSubscriptionCreateSchema(ma.Schema):
    customer_id = ma.fields.UUID(required=True)
    endpoint = ma.fields.String(
        required=True,
        validate=[validate.Length(max=2000), validate.URL(schemes={"https", "http"}, require_tld=False)],
        metadata={"description": "the push service's URL for the device (PUSH_ENDPOINT_PATTERNS)"},
    )
    keys = ma.fields.Nested(PushKeysSchema, required=True)


class PushSubscriptionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True)
    push_service = ma.fields.String(
        required=True, metadata={"description": "the endpoint's origin (the rest is a secret)"}
    )
    created_at = ma.fields.DateTime(required=True)
    created_by = ma.fields.String(required=True)
    last_sent_at = ma.fields.DateTime(required=True, allow_none=True)


PushSubscriptionPageSchema = page_schema(PushSubscriptionSchema)


class PushSubscriptionQueryArgsSchema(PageArgsSchema):
    customer_id = ma.fields.UUID()
