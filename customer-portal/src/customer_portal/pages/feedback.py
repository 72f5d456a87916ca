"""``/feedback/<token>``: how was the visit? A rating of 1 to 5 (radio buttons: no
script needed) and a comment, once per visit; then a thank-you."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from customer_portal import services
from customer_portal.pages.common import back_to, read, text

blp = Blueprint("feedback", __name__)
SERVICE = "maintenance-job-management"
PATH = "/api/v1/portal/visit"
COMMENT_MAX = 2000
RATINGS = ("1", "2", "3", "4", "5")


@blp.get("/feedback/<token>")
def show(token: str) -> str:
    visit = read(SERVICE, PATH, token)
    return render_template("feedback/show.html", token=token, visit=visit, errors={}, rating=None, comment="")


@blp.post("/feedback/<token>")
def give(token: str) -> Response | tuple[str, int]:
    rating = request.form.get("rating")
    comment = text(request.form.get("comment"), COMMENT_MAX)
    errors: dict[str, str] = {}
    if rating not in RATINGS:
        errors["rating"] = _("Choose from 1 to 5 stars.")
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("At most 2000 characters.")
    if not errors:
        try:
            services.call(
                SERVICE,
                "POST",
                PATH + "/feedback",
                token,
                json={"rating": int(rating or 0), "comment": comment or None},
            )
        except services.ServiceRefused as exc:
            if exc.status == 409:
                return back_to("feedback.show", token)
            if exc.status != 422:
                raise
            errors = exc.field_errors or {"rating": exc.detail}
        else:
            return back_to("feedback.show", token)
    visit = read(SERVICE, PATH, token)
    page = render_template(
        "feedback/show.html", token=token, visit=visit, errors=errors, rating=rating, comment=comment
    )
    return page, 422
