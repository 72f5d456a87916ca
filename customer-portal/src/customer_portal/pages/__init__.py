"""The portal's pages, one module per kind of link (docs/customer-portal.md)."""

from __future__ import annotations

from flask import Blueprint

from customer_portal.pages import appointment, booking, common, estimate, feedback, invoice, push

PAGES: list[Blueprint] = [estimate.blp, appointment.blp, booking.blp, invoice.blp, feedback.blp, push.blp]
# What several pages' templates use.
estimate.blp.add_app_template_global(common.vehicle_text, "vehicle_text")
estimate.blp.add_app_template_global(common.work_text, "work_text")
