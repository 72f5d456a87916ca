"""HTTP layer: parse, one service call, serialise. Rules live in service/domain;
delivery lives in the dispatcher."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from flask.views import MethodView

from notification_management import twilio
from notification_management.clients import customer_management
from notification_management.config import attachment_bases
from notification_management.models import db
from notification_management.schemas import (
    ConversationDetailArgsSchema,
    ConversationDetailSchema,
    ConversationMessageSchema,
    ConversationPageSchema,
    ConversationQueryArgsSchema,
    ConversationReplySchema,
    NotificationCreateSchema,
    NotificationPageSchema,
    NotificationQueryArgsSchema,
    NotificationSchema,
    PushSubscriptionCreateSchema,
    PushSubscriptionPageSchema,
    PushSubscriptionQueryArgsSchema,
    PushSubscriptionSchema,
    TemplatePageSchema,
    TemplatePreviewArgsSchema,
    TemplatePreviewSchema,
    TemplateQueryArgsSchema,
    TemplateSchema,
    TemplateUpdateSchema,
)
from notification_management.service import conversations, notifications, push_subscriptions, templates
from service_kit.auth import current_principal
from service_kit.blueprint import ServiceBlueprint
from service_kit.etag import etag_header, if_match_versions
from service_kit.observability import current_request_id
from service_kit.problems import BadRequest, Forbidden, NotFound, UnsupportedMediaType
from service_kit.security import provider_webhook

# Accountants follow whether invoices and payment reminders went out; services may
# check on what they asked for. Technicians do not deal with customer messages.
READERS = ("admin", "advisor", "accountant", "service")
STAFF = ("admin", "advisor")
REQUESTERS = ("service", "admin")

blp = ServiceBlueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Messages to customers by email or SMS, and how their delivery went",
)
templates_blp = ServiceBlueprint(
    "notification_templates",
    __name__,
    url_prefix="/api/v1/notification-templates",
    description="The texts of each notification type, per language (Jinja2)",
)


@blp.route("")
class Notifications(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List notifications, newest first, with their attempts; e.g. one customer's history"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return notifications.list_notifications(
            session=db.session(),
            filters=notifications.NotificationFilters(**args),
            limit=limit,
            cursor=cursor,
        )

    @blp.auth(*REQUESTERS)
    @blp.idempotent
    @blp.arguments(NotificationCreateSchema)
    @blp.response(202, NotificationSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Ask for a customer to be told something; stored now, delivered by the dispatcher"""
        notification = notifications.accept_notification(
            session=db.session(),
            data=data,
            idempotency_key=request.headers.get("Idempotency-Key"),
            request_id=current_request_id(),
            requested_by=current_principal().subject,
            attachment_bases=attachment_bases(current_app.config).values(),
        )
        return notification, {
            "Location": url_for("notifications.Notification", notification_id=notification.id),
            **etag_header(notification.version),
        }


@blp.route("/<uuid:notification_id>")
class Notification(MethodView):
    @blp.auth(*READERS)
    @blp.response(200, NotificationSchema)
    def get(self, notification_id: uuid.UUID) -> Any:
        """Get a notification with every delivery attempt"""
        notification = notifications.get_notification(session=db.session(), notification_id=notification_id)
        return notification, etag_header(notification.version)


@blp.route("/<uuid:notification_id>/retry")
class NotificationRetry(MethodView):
    @blp.auth(*STAFF)
    @blp.transactional
    @blp.response(202, NotificationSchema)
    def post(self, notification_id: uuid.UUID) -> Any:
        """Send a dead or skipped notification again (409 for any other status)"""
        notification = notifications.retry_notification(session=db.session(), notification_id=notification_id)
        return notification, etag_header(notification.version)


@templates_blp.route("")
class Templates(MethodView):
    @templates_blp.auth(*STAFF)
    @templates_blp.arguments(TemplateQueryArgsSchema, location="query")
    @templates_blp.response(200, TemplatePageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List templates by type and language"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return templates.list_templates(
            session=db.session(), filters=templates.TemplateFilters(**args), limit=limit, cursor=cursor
        )


@templates_blp.route("/<notification_type>/<language>")
class Template(MethodView):
    @templates_blp.auth(*STAFF)
    @templates_blp.response(200, TemplateSchema)
    def get(self, notification_type: str, language: str) -> Any:
        """Get the template of a type in a language"""
        template = templates.get_template(session=db.session(), type_=notification_type, language=language)
        return template, etag_header(template.version)

    @templates_blp.auth(*STAFF)
    @templates_blp.transactional
    @templates_blp.if_match
    @templates_blp.arguments(TemplateUpdateSchema)
    @templates_blp.response(200, TemplateSchema)
    @templates_blp.alt_response(201, schema=TemplateSchema, description="the type now has this language")
    def put(self, texts: dict[str, str], notification_type: str, language: str) -> Any:
        """Replace a template's texts (they must compile), or add a language"""
        template, created = templates.put_template(
            session=db.session(),
            type_=notification_type,
            language=language,
            texts=texts,
            expected_versions=if_match_versions(),
            precondition="If-Match" in request.headers,
            updated_by=current_principal().subject,
        )
        headers = etag_header(template.version)
        if created:
            headers["Location"] = url_for(
                "notification_templates.Template", notification_type=notification_type, language=language
            )
            return template, 201, headers
        return template, headers


@templates_blp.route("/<notification_type>/<language>/preview")
class TemplatePreview(MethodView):
    @templates_blp.auth(*STAFF)
    @templates_blp.arguments(TemplatePreviewArgsSchema)
    @templates_blp.response(200, TemplatePreviewSchema)
    @templates_blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="it does not render")
    def post(self, args: dict[str, Any], notification_type: str, language: str) -> Any:
        """Render a template (or a draft of it) with the type's sample data"""
        data = args.pop("data", None)
        return templates.preview_template(
            session=db.session(),
            type_=notification_type,
            language=language,
            data=data,
            draft=args,
            garage_name=current_app.config["GARAGE_NAME"],
            timezone=current_app.config["GARAGE_TIMEZONE"],
        )


# -------------------------------------------------------------- conversations (issue 19)

conversations_blp = ServiceBlueprint(
    "conversations",
    __name__,
    url_prefix="/api/v1/conversations",
    description="Text messages customers sent the garage, and staff's answers (two-way SMS)",
)


@conversations_blp.route("")
class Conversations(MethodView):
    @conversations_blp.auth(*STAFF)
    @conversations_blp.arguments(ConversationQueryArgsSchema, location="query")
    @conversations_blp.response(200, ConversationPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List conversations, the latest first; `awaiting_reply=true`: those to answer"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return conversations.list_conversations(
            session=db.session(),
            filters=conversations.ConversationFilters(**args),
            limit=limit,
            cursor=cursor,
        )


@conversations_blp.route("/<uuid:customer_id>")
class Conversation(MethodView):
    @conversations_blp.auth(*STAFF)
    @conversations_blp.arguments(ConversationDetailArgsSchema, location="query")
    @conversations_blp.response(200, ConversationDetailSchema)
    def get(self, args: dict[str, Any], customer_id: uuid.UUID) -> Any:
        """A customer's conversation with its latest messages, oldest first"""
        return conversations.get_conversation(
            session=db.session(), customer_id=customer_id, limit=args["limit"]
        )


@conversations_blp.route("/<uuid:customer_id>/messages")
class ConversationMessages(MethodView):
    @conversations_blp.auth(*STAFF)
    @conversations_blp.idempotent
    @conversations_blp.arguments(ConversationReplySchema)
    @conversations_blp.response(202, ConversationMessageSchema)
    def post(self, data: dict[str, Any], customer_id: uuid.UUID) -> Any:
        """Answer a customer who texted: sent by SMS as a notification (`sms_reply`)"""
        return conversations.answer(
            session=db.session(),
            customer_id=customer_id,
            text=data["text"],
            author=current_principal().subject,
            idempotency_key=request.headers.get("Idempotency-Key"),
            request_id=current_request_id(),
        )


# ------------------------------------------------------------ the SMS provider's webhook

# Not under /api: the provider calls it, with its signature instead of a token, and a
# form instead of JSON (docs/notifications.md).
webhooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@webhooks.post("/twilio/sms")
@provider_webhook
def twilio_sms() -> Response:
    """An SMS a customer sent to the garage's Twilio number."""
    config = current_app.config
    auth_token = config["TWILIO_AUTH_TOKEN"]
    if not auth_token:
        raise NotFound("inbound SMS is not configured (TWILIO_AUTH_TOKEN)")
    if request.mimetype != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Twilio posts application/x-www-form-urlencoded")
    url = config["SMS_INBOUND_URL"] or request.base_url
    if request.query_string:
        url += "?" + request.query_string.decode("utf-8", "replace")
    params = list(request.form.items(multi=True))
    if not twilio.is_signed(auth_token, url, params, request.headers.get(twilio.SIGNATURE_HEADER)):
        raise Forbidden("the request does not carry Twilio's signature for this URL")
    try:
        sms = twilio.parse(request.form)
    except twilio.NotAnInboundSms as exc:
        raise BadRequest(str(exc)) from exc
    session = db.session()
    received = conversations.receive_sms(
        session=session,
        provider="twilio",
        sms=sms,
        customers=customer_management.for_app(current_app),
        garage_name=config["GARAGE_NAME"],
        default_language=config["DEFAULT_LANGUAGE"],
    )
    session.commit()
    return Response(twilio.twiml(None if received.replay else received.answer), mimetype="text/xml")


# ------------------------------------------------------------------ Web Push (issue 19)

push_blp = ServiceBlueprint(
    "push_subscriptions",
    __name__,
    url_prefix="/api/v1/notifications/push-subscriptions",
    description="The customers' browsers and phones subscribed to Web Push",
)


@push_blp.route("")
class PushSubscriptions(MethodView):
    @push_blp.auth("admin", "advisor", "service")
    @push_blp.arguments(PushSubscriptionQueryArgsSchema, location="query")
    @push_blp.response(200, PushSubscriptionPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List push subscriptions, e.g. one customer's"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return push_subscriptions.list_subscriptions(
            session=db.session(), customer_id=args.get("customer_id"), limit=limit, cursor=cursor
        )

    @push_blp.auth("service")
    @push_blp.transactional
    @push_blp.arguments(PushSubscriptionCreateSchema)
    @push_blp.response(201, PushSubscriptionSchema)
    @push_blp.alt_response(200, schema=PushSubscriptionSchema, description="the endpoint was known: renewed")
    def post(self, data: dict[str, Any]) -> Any:
        """Store a customer's push subscription (a service that has verified the customer)"""
        subscription, created = push_subscriptions.subscribe(
            session=db.session(),
            customer_id=data["customer_id"],
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            created_by=current_principal().subject,
            patterns=current_app.config["PUSH_ENDPOINT_PATTERNS"],
        )
        return subscription, 201 if created else 200


@push_blp.route("/<uuid:subscription_id>")
class PushSubscription(MethodView):
    @push_blp.auth("admin", "advisor", "service")
    @push_blp.transactional
    @push_blp.response(204)
    def delete(self, subscription_id: uuid.UUID) -> Any:
        """Remove a push subscription"""
        push_subscriptions.unsubscribe(session=db.session(), subscription_id=subscription_id)
        return None
