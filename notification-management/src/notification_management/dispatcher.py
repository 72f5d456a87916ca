"""The dispatcher: delivers accepted notifications, one claimed row at a time.

A claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` on one due row (``pending``, or
``failed`` and past its ``next_attempt_at``), and the row lock is held while that
notification is delivered and its outcome recorded, in one transaction. So any
number of dispatchers can run side by side: a row being delivered is invisible to
the others, and a row delivered is no longer due. If a dispatcher dies mid-delivery
its transaction rolls back and the row is due again (nothing accepted is lost); the
provider was given the notification id as an idempotency reference, so a message it
had already accepted can be recognised as the same one.

Each try: look the customer up *now* (contact data, channel, language, consent),
skip with a reason when they may or cannot be told, pick the template for their
language (falling back to the default language), render it sandboxed, fetch
attachments, and hand the message to SMTP or the SMS provider. ``sent`` is recorded
only after the provider accepted. A failure that might pass (a dependency down, a
provider's 5xx) is retried with exponential backoff and jitter until the policy
gives up (``dead``); one that cannot pass (no template, a template that does not
render with this data, an unknown customer, a recipient refused) is ``dead`` at
once. Dead and skipped notifications stay visible and staff can send them again.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from notification_management import direct, domain, push
from notification_management.clients.attachments import (
    AttachmentRefused,
    AttachmentSources,
    AttachmentUnavailable,
)
from notification_management.clients.customer_management import CustomerContact, CustomerManagement
from notification_management.config import attachment_bases
from notification_management.models import (
    Notification,
    NotificationAttempt,
    NotificationTemplate,
    PushSubscription,
)
from notification_management.push import WebPushSender
from notification_management.senders import (
    DeliveryFailed,
    EmailSender,
    SmsProvider,
    SmtpSettings,
    make_sms_provider,
)
from service_kit.clock import utcnow
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient, ServiceToken
from service_kit.outbox import OutboxRelay
from service_kit.retry import RetryPolicy

log = logging.getLogger("notification_management.dispatcher")

DELIVERIES = Counter(
    "notification_deliveries_total",
    "Notification delivery attempts, by channel and outcome (sent, failed, dead, skipped)",
    ["channel", "outcome"],
)

# The request id of the request that asked for the notification being delivered:
# passed on to customer-management, the attachment source and the SMS provider.
_delivering: ContextVar[str | None] = ContextVar("notification_request_id", default=None)


class _TryLater(Exception):
    """This try failed; another one may succeed."""


class _GiveUp(Exception):
    """No later try can succeed as things stand: dead now."""


class _Hold(Exception):
    """Not now (quiet hours): due again at ``until``, no try counted."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"held until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class _Result:
    outcome: str
    channel: str | None = None
    recipient: str | None = None
    language: str | None = None
    reference: str | None = None
    skip_reason: str | None = None
    error: str | None = None


@dataclass
class DispatchStats:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    held: int = 0

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.dead + self.skipped + self.held

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class Dispatcher:
    engine: Engine
    customers: CustomerManagement
    attachments: AttachmentSources
    email: EmailSender
    sms: SmsProvider
    policy: RetryPolicy
    push: WebPushSender | None = None
    default_language: str = "en"
    garage_name: str = "The Garage"
    timezone: str = "Europe/Amsterdam"
    # Before each pass: texts received while customer-management was down are matched,
    # and the consent changes STOP and START ask for are relayed (the outbox), so the
    # next message is planned with them. None: not this dispatcher's job.
    chores: Callable[[], None] | None = None
    consent_rules: domain.ConsentRules = field(default_factory=domain.ConsentRules)
    quiet_hours: domain.QuietHours = field(default_factory=domain.QuietHours)
    clock: Callable[[], datetime] = utcnow
    rng: Callable[[], float] = random.random

    @classmethod
    def for_app(cls, app: Flask, **overrides: Any) -> Dispatcher:
        """The dispatcher of this service, built from its configuration."""
        config = app.config
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine
        bases = attachment_bases(config)
        parts: dict[str, Any] = {
            "engine": engine,
            "customers": CustomerManagement(_client(config, "customer-management")),
            "attachments": AttachmentSources(
                {base: _client(config, source) for source, base in bases.items()},
                max_bytes=config["ATTACHMENT_MAX_BYTES"],
            ),
            "email": EmailSender(SmtpSettings.from_config(config)),
            "sms": make_sms_provider(config, request_id=_delivering.get),
            "push": WebPushSender.from_config(config),
            "policy": RetryPolicy(
                max_attempts=config["DISPATCH_MAX_ATTEMPTS"],
                base_seconds=config["DISPATCH_BACKOFF_BASE_SECONDS"],
                max_seconds=config["DISPATCH_BACKOFF_MAX_SECONDS"],
            ),
            "default_language": config["DEFAULT_LANGUAGE"],
            "garage_name": config["GARAGE_NAME"],
            "timezone": config["GARAGE_TIMEZONE"],
            "chores": _chores(app),
            "consent_rules": domain.ConsentRules(
                feedback_requests_are_service=config["FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES"],
                follow_ups_are_service=config["FOLLOW_UPS_ARE_SERVICE_MESSAGES"],
            ),
            "quiet_hours": domain.QuietHours.parse(
                config["QUIET_HOURS_START"], config["QUIET_HOURS_END"], config["GARAGE_TIMEZONE"]
            ),
        }
        parts.update(overrides)
        return cls(**parts)

    # ------------------------------------------------------------------------ the loop

    def dispatch_one(self, due_by: datetime) -> str | None:
        """Claim one notification due by ``due_by`` and try it; the outcome, or None
        when nothing is due (or every due one is being delivered by another dispatcher)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            notification = session.scalars(
                select(Notification)
                .where(Notification.status.in_(domain.DUE_STATUSES), Notification.next_attempt_at <= due_by)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if notification is None:
                return None
            token = _delivering.set(notification.request_id)
            try:
                channel, outcome = self._attempt(session, notification, due_by=due_by)
            finally:
                _delivering.reset(token)
        DELIVERIES.labels(channel or "none", outcome).inc()
        return outcome

    def run_once(self, *, limit: int | None = None, now: datetime | None = None) -> DispatchStats:
        """Try every notification due now (at most ``limit``) once. A failed one is due
        again only later, so a pass always ends."""
        if self.chores is not None:
            self.chores()
        stats = DispatchStats()
        due_by = now or self.clock()
        while limit is None or stats.processed < limit:
            outcome = self.dispatch_one(due_by)
            if outcome is None:
                break
            stats.count(outcome)
        return stats

    def run_forever(self, stop: threading.Event, *, poll_seconds: float = 1.0, batch: int = 100) -> None:
        """Deliver until ``stop`` is set; wait ``poll_seconds`` when nothing is due.
        A database outage is waited out, not fatal."""
        log.info("dispatcher started")
        while not stop.is_set():
            try:
                stats = self.run_once(limit=batch)
            except DBAPIError:
                log.warning("dispatcher: database unavailable, waiting", exc_info=True)
                stop.wait(max(poll_seconds, 5.0))
                continue
            if stats.processed:
                log.info(
                    "dispatched: %d sent, %d to retry, %d dead, %d skipped",
                    stats.sent,
                    stats.failed,
                    stats.dead,
                    stats.skipped,
                )
            if stats.processed < batch:
                stop.wait(poll_seconds)
        log.info("dispatcher stopped")

    # --------------------------------------------------------------------- one attempt

    def _attempt(
        self, session: Session, notification: Notification, *, due_by: datetime
    ) -> tuple[str | None, str]:
        """Try once and record it; the channel and the outcome as recorded."""
        started = self.clock()
        try:
            # The pass's moment when that is later than the clock (as for backoff), so a
            # held notification is never due again within the same pass.
            result = self._deliver(session, notification, now=max(started, due_by))
        except _Hold as exc:
            # Quiet hours: not a try. Due again when they end; consent and everything
            # else are checked anew then.
            notification.next_attempt_at = exc.until
            session.flush()
            log.info("notification %s: %s (quiet hours)", notification.id, exc)
            return notification.channel, "held"
        except _GiveUp as exc:
            result = _Result(domain.DEAD, error=str(exc))
        except _TryLater as exc:
            result = _Result(domain.FAILED, error=str(exc))
        except DBAPIError:
            raise
        except Exception as exc:  # a bug must not spin on one row: back off like any failure
            log.exception("delivering notification %s failed unexpectedly", notification.id)
            result = _Result(domain.FAILED, error=f"{type(exc).__name__}: {exc}")
        outcome = self._record(session, notification, result, started=started, due_by=due_by)
        return result.channel, outcome

    def _plan(
        self, notification: Notification
    ) -> tuple[domain.Deliver | domain.Skip, str, CustomerContact | None]:
        """How to reach whom the notification is for by email or SMS, the name it
        greets, and the customer (None for an addressee)."""
        if notification.addressee is not None:  # not a customer (direct.py)
            to, name = direct.plan(notification.addressee, default_language=self.default_language)
            return to, name, None
        if notification.customer_id is None:  # the CHECK one_recipient makes this impossible
            raise _GiveUp("the notification names neither a customer nor an addressee")
        try:
            customer = self.customers.get_contact(notification.customer_id)
        except DependencyFailed as exc:
            raise _TryLater(exc.detail or str(exc)) from exc
        if customer is None:
            raise _GiveUp(f"customer {notification.customer_id} does not exist in customer-management")
        plan = domain.plan_delivery(
            # Push asked for: the preferred channel is the fallback when no subscription works.
            requested_channel=None if notification.channel == domain.PUSH else notification.channel,
            customer=customer,
            default_language=self.default_language,
            purpose=self.consent_rules.purpose(notification.type),
        )
        return plan, domain.greeted_name(customer), customer

    def _deliver(self, session: Session, notification: Notification, *, now: datetime) -> _Result:
        plan, name, customer = self._plan(notification)
        sender = self.push
        if sender is not None and customer is not None and self._may_push(notification, customer):
            pushed = self._push(session, sender, notification, customer, name, now=now)
            if pushed is not None:
                return pushed
        if isinstance(plan, domain.Skip):
            return _Result(
                domain.SKIPPED, channel=notification.channel, skip_reason=plan.reason, error=plan.detail
            )
        if domain.is_held(purpose=self.consent_rules.purpose(notification.type), channel=plan.channel):
            until = self.quiet_hours.held_until(now)
            if until is not None:
                raise _Hold(until)
        language, message = self._render(session, notification, plan.languages, name)
        recipient = domain.mask_address(plan.channel, plan.address)
        reference = str(notification.id)
        try:
            if plan.channel == "email":
                attachments = [self._fetch(spec) for spec in notification.attachments or []]
                provider_reference = self.email.send(
                    to=plan.address,
                    subject=message.subject,
                    body=message.body,
                    attachments=attachments,
                    reference=reference,
                )
            else:
                provider_reference = self.sms.send(
                    to=plan.address, text=message.sms_body, reference=reference
                )
        except DeliveryFailed as exc:
            raise (_GiveUp if exc.permanent else _TryLater)(f"{plan.channel} to {recipient}: {exc}") from exc
        return _Result(
            domain.SENT,
            channel=plan.channel,
            recipient=recipient,
            language=language,
            reference=provider_reference,
        )

    def _may_push(self, notification: Notification, customer: CustomerContact) -> bool:
        """Push is for service messages to a customer who subscribed a device, when no
        other channel was asked for; never to one erased or who wants no contact."""
        return (
            self.push is not None
            and notification.channel in (None, domain.PUSH)
            and customer.status != "erased"
            and customer.preferred_channel != "none"
            and self.consent_rules.purpose(notification.type) == domain.SERVICE
        )

    def _push(
        self,
        session: Session,
        sender: WebPushSender,
        notification: Notification,
        customer: CustomerContact,
        name: str,
        *,
        now: datetime,
    ) -> _Result | None:
        """Push to every device the customer subscribed; sent when one took it. None
        when no subscription works (none, or all gone): email or SMS then, as the
        customer's preferences allow. A push service that may recover: try later."""
        subscriptions = session.scalars(
            select(PushSubscription)
            .where(PushSubscription.customer_id == customer.id)
            .order_by(PushSubscription.id)
        ).all()
        if not subscriptions:
            return None
        languages = domain.language_candidates(customer.preferred_language, default=self.default_language)
        language, message = self._render(session, notification, languages, name)
        data = push.payload(
            title=message.subject,
            body=message.sms_body,
            url=notification.data.get("link_url") or notification.data.get("pay_url"),
            tag=str(notification.id),
        )
        references: list[str] = []
        passing: list[str] = []
        for subscription in subscriptions:
            try:
                references.append(
                    sender.send(
                        endpoint=subscription.endpoint,
                        p256dh=subscription.p256dh,
                        auth=subscription.auth,
                        data=data,
                    )
                )
                subscription.last_sent_at = now
            except push.PushGone:
                log.info("push subscription %s is gone: removed", subscription.id)
                session.delete(subscription)
            except push.PushFailed as exc:
                where = subscription.push_service
                if exc.permanent:
                    log.warning("push to %s refused for notification %s: %s", where, notification.id, exc)
                else:
                    passing.append(f"{where}: {exc}")
        session.flush()
        if references:
            count = len(references)
            return _Result(
                domain.SENT,
                channel=domain.PUSH,
                recipient=f"{count} device{'s' if count > 1 else ''}",
                language=language,
                reference=references[0][:255],
            )
        if passing:
            raise _TryLater("push: " + "; ".join(passing))
        return None

    def _render(
        self, session: Session, notification: Notification, languages: tuple[str, ...], customer_name: str
    ) -> tuple[str, domain.RenderedMessage]:
        rows = session.scalars(
            select(NotificationTemplate).where(
                NotificationTemplate.type == notification.type,
                NotificationTemplate.language.in_(languages),
            )
        )
        templates = {row.language: domain.TemplateTexts(row.subject, row.body, row.sms_body) for row in rows}
        picked = domain.pick_template(templates, languages)
        if picked is None:
            raise _GiveUp(f"no {notification.type} template in {' or '.join(languages)}")
        language, texts = picked
        context = domain.template_context(
            notification.data, customer_name=customer_name, garage_name=self.garage_name
        )
        try:
            return language, domain.render(texts, context, language=language, timezone=self.timezone)
        except domain.TemplateRenderFailed as exc:
            raise _GiveUp(
                f"the {notification.type} template ({language}) does not render: {exc.detail}"
            ) from exc

    def _fetch(self, spec: Mapping[str, Any]) -> Any:
        try:
            return self.attachments.fetch(spec)
        except AttachmentUnavailable as exc:
            raise _TryLater(str(exc)) from exc
        except AttachmentRefused as exc:
            raise _GiveUp(str(exc)) from exc

    def _record(
        self,
        session: Session,
        notification: Notification,
        result: _Result,
        *,
        started: datetime,
        due_by: datetime,
    ) -> str:
        now = self.clock()
        outcome = result.outcome
        notification.attempt_count += 1
        if outcome in (domain.FAILED, domain.DEAD):
            notification.failures += 1
        if outcome == domain.FAILED:
            # Counted from the pass's moment when that is later than the clock, so that a
            # failed notification is never due again within the same pass.
            outcome, next_attempt_at = domain.after_failure(
                failures=notification.failures, policy=self.policy, now=max(now, due_by), rng=self.rng
            )
            if next_attempt_at is not None:
                notification.next_attempt_at = next_attempt_at
        error = domain.clip_error(result.error) if result.error else None
        session.add(
            NotificationAttempt(
                notification_id=notification.id,
                number=notification.attempt_count,
                started_at=started,
                finished_at=now,
                channel=result.channel,
                outcome=outcome,
                error=error,
                provider_reference=result.reference,
            )
        )
        notification.status = outcome
        notification.last_error = error if outcome in (domain.FAILED, domain.DEAD) else None
        notification.skip_reason = result.skip_reason
        if outcome == domain.SENT:
            notification.sent_at = now
            notification.delivered_channel = result.channel
            notification.recipient = result.recipient
            notification.language = result.language
            notification.provider_reference = result.reference
        if outcome == domain.DEAD:
            log.warning(
                "notification %s is dead after %d attempts: %s",
                notification.id,
                notification.attempt_count,
                error,
            )
        elif outcome == domain.FAILED:
            log.info(
                "notification %s: retry at %s (%s)", notification.id, notification.next_attempt_at, error
            )
        session.flush()
        return outcome


def _chores(app: Flask) -> Callable[[], None]:
    """Match pending replies, then relay the outbox: in the app's context, as the
    outbox's enqueueing and relay read the app's database."""
    from notification_management.models import db
    from notification_management.service.conversations import match_pending

    customers = CustomerManagement(_client(app.config, "customer-management"))
    with app.app_context():
        relay = OutboxRelay.for_app(app)

    def chores() -> None:
        with app.app_context():
            try:
                match_pending(session=db.session(), customers=customers)
                db.session.commit()
                relay.run_once(limit=100)
            except DBAPIError:
                raise
            except Exception:  # a chore must not stop the delivery of notifications
                log.exception("matching replies or relaying the outbox failed")
            finally:
                db.session.remove()

    return chores


def _client(config: Mapping[str, Any], name: str) -> ServiceClient:
    return ServiceClient(
        name,
        ClientSettings.from_config(config, name),
        token=ServiceToken(config),
        request_id=_delivering.get,
        user_agent=f"garage-{config['SERVICE_NAME']}",
    )
