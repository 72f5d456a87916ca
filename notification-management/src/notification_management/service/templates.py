"""Template use cases (list, read, put, preview). Each takes its dependencies as keyword
arguments, flushes but never commits (the HTTP layer makes one request one
transaction), and knows no HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notification_management import domain
from notification_management.models import NotificationTemplate
from service_kit.etag import ensure_version
from service_kit.pagination import Page, decode_cursor, keyset_page
from service_kit.problems import PreconditionFailed, Unprocessable


@dataclass(frozen=True)
class TemplateFilters:
    type: str | None = None
    language: str | None = None


def list_templates(*, session: Session, filters: TemplateFilters, limit: int, cursor: str | None) -> Page:
    stmt = select(NotificationTemplate)
    if filters.type:
        stmt = stmt.where(NotificationTemplate.type == filters.type)
    if filters.language:
        if not domain.is_language(filters.language):
            return Page(items=[], next_cursor=None)
        stmt = stmt.where(NotificationTemplate.language == filters.language)
    key_columns = [NotificationTemplate.type, NotificationTemplate.language]
    if cursor and any("\x00" in value for value in decode_cursor(cursor, key_columns)):
        raise Unprocessable.on_field("cursor", "not a cursor this list gave out")
    return keyset_page(
        session,
        stmt,
        key_columns=key_columns,
        limit=limit,
        cursor=cursor,
    )


def _known_type(type_: str) -> None:
    if type_ not in domain.TYPES:
        raise domain.UnknownType(type_)


def get_template(*, session: Session, type_: str, language: str) -> NotificationTemplate:
    _known_type(type_)
    # Only a language tag can name a template (PUT refuses anything else).
    template = session.get(NotificationTemplate, (type_, language)) if domain.is_language(language) else None
    if template is None:
        raise domain.TemplateNotFound(type_, language)
    return template


def put_template(
    *,
    session: Session,
    type_: str,
    language: str,
    texts: dict[str, str],
    expected_versions: set[int] | None,
    precondition: bool,
    updated_by: str,
) -> tuple[NotificationTemplate, bool]:
    """Replace a template's texts, or add the type in a new language; True when added.
    Texts that do not compile are refused, so a template in use always compiles."""
    _known_type(type_)
    domain.validate_language(language)
    fields = domain.TemplateTexts(**texts)
    domain.check_template(fields)
    template = session.scalar(
        select(NotificationTemplate)
        .where(NotificationTemplate.type == type_, NotificationTemplate.language == language)
        .with_for_update()
    )
    if template is None:
        if precondition:
            raise PreconditionFailed(
                f"there is no {type_} template in {language!r} to match If-Match against"
            )
        template = NotificationTemplate(type=type_, language=language, updated_by=updated_by, **texts)
        session.add(template)
        session.flush()
        return template, True
    ensure_version(template.version, expected_versions)
    if any(getattr(template, field) != value for field, value in texts.items()):
        for field, value in texts.items():
            setattr(template, field, value)
        template.updated_by = updated_by
    session.flush()
    return template, False


@dataclass(frozen=True)
class Preview:
    type: str
    language: str
    subject: str
    body: str
    sms_body: str
    data: dict[str, Any]


def preview_template(
    *,
    session: Session,
    type_: str,
    language: str,
    data: dict[str, Any] | None,
    draft: dict[str, str],
    garage_name: str,
    timezone: str,
) -> Preview:
    """Render the stored template (or a draft of any of its fields) with the type's
    sample data, overridden by ``data``."""
    _known_type(type_)
    stored = session.get(NotificationTemplate, (type_, language)) if domain.is_language(language) else None
    if stored is None and set(draft) != set(domain.TEMPLATE_FIELDS):
        raise domain.TemplateNotFound(
            type_,
            language,
            f"there is no {type_} template in {language!r}: "
            "send subject, body and sms_body to preview a draft",
        )
    texts = domain.TemplateTexts(
        **{field: draft.get(field) or getattr(stored, field) for field in domain.TEMPLATE_FIELDS}
    )
    domain.check_template(texts)
    sample = {**domain.SAMPLE_DATA[type_], **(data or {})}
    context = domain.template_context(
        sample, customer_name=domain.SAMPLE_CUSTOMER_NAME, garage_name=garage_name
    )
    rendered = domain.render(texts, context, language=language, timezone=timezone)
    return Preview(
        type=type_,
        language=language,
        subject=rendered.subject,
        body=rendered.body,
        sms_body=rendered.sms_body,
        data=sample,
    )
