"""The query of an endpoint that answers a document: ``?lang=en|nl``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from service_kit.documents.formats import LANGUAGES


class DocumentArgsSchema(ma.Schema):
    lang = ma.fields.String(
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "the document's language; default: the garage's (GARAGE_LANGUAGE)"},
    )
