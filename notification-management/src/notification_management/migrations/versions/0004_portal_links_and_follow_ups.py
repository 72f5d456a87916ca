"""the customer portal's links in the messages; feedback, booking invitations and follow-ups

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:00:00.000000

Issue 18 and 19. New types, with their templates in English and Dutch:
feedback_request, booking_invitation, service_due, inspection_due, declined_work.
The default templates of estimate_ready, the appointment messages, invoice_issued
and payment_reminder show the portal's link when the data has one (link_url, or
pay_url for the invoice page); without it they read as before. Only defaults nobody
has edited (still as migration 0002 wrote them) are replaced: a template staff
changed keeps their text (they can add the link through the API).

The texts are written out here, as in 0002 and 0003, so that this revision writes the
same rows whatever the code says later.
"""
import importlib.util
from datetime import datetime, timezone
from pathlib import Path
from textwrap import dedent

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SCHEMA = "notifications"

BEFORE = (
    "appointment_confirmed", "appointment_rescheduled", "appointment_cancelled", "appointment_reminder",
    "estimate_ready", "job_on_hold", "vehicle_ready", "invoice_issued", "payment_reminder",
    "password_reset",
)
NEW = ("feedback_request", "booking_invitation", "service_due", "inspection_due", "declined_work")
AFTER = (*BEFORE, *NEW)


def text(body: str) -> str:
    return dedent(body).lstrip("\n")


def given(name: str) -> str:
    """A Jinja test: the caller sent the value and it is not empty (nor null)."""
    return f"{name} is defined and {name}"


EN_CLOSING = "\nKind regards,\n{{ garage.name }}\n"
NL_CLOSING = "\nMet vriendelijke groet,\n{{ garage.name }}\n"
EN_VEHICLE = (
    "{% if vehicle is defined or plate is defined %}\n"
    "Vehicle: {% if vehicle is defined %}{{ vehicle }}{% if plate is defined %} ({{ plate }}){% endif %}"
    "{% else %}{{ plate }}{% endif +%}\n"
    "{% endif %}\n"
)
NL_VEHICLE = (
    "{% if vehicle is defined or plate is defined %}\n"
    "Voertuig: {% if vehicle is defined %}{{ vehicle }}{% if plate is defined %} ({{ plate }}){% endif %}"
    "{% else %}{{ plate }}{% endif +%}\n"
    "{% endif %}\n"
)
EN_FOR_PLATE = "{% if plate is defined %} for {{ plate }}{% endif %}"
NL_FOR_PLATE = "{% if plate is defined %} voor {{ plate }}{% endif %}"

# "your Volkswagen Golf (AB-123-C)", "your vehicle AB-123-C", "your vehicle": from
# make, model and plate, whichever were sent.
EN_CAR = (
    "{% if " + given("make") + " %}{{ make }}{% if " + given("model") + " %} {{ model }}{% endif %}"
    "{% if " + given("plate") + " %} ({{ plate }}){% endif %}"
    "{% elif " + given("plate") + " %}vehicle {{ plate }}{% else %}vehicle{% endif %}"
)
NL_CAR = (
    "{% if " + given("make") + " %}{{ make }}{% if " + given("model") + " %} {{ model }}{% endif %}"
    "{% if " + given("plate") + " %} ({{ plate }}){% endif %}"
    "{% elif " + given("plate") + " %}voertuig {{ plate }}{% else %}voertuig{% endif %}"
)
# In an SMS only the plate: it is short and it is what people know their car by.
EN_SMS_CAR = "vehicle{% if " + given("plate") + " %} {{ plate }}{% endif %}"
NL_SMS_CAR = "voertuig{% if " + given("plate") + " %} {{ plate }}{% endif %}"

# Follow-ups are marketing unless the garage counts them as service messages: they
# say how to stop them.
EN_STOP_EMAIL = "\nWould you rather not receive these reminders? Let us know and we will stop them.\n"
NL_STOP_EMAIL = "\nOntvangt u deze herinneringen liever niet? Laat het ons weten, dan stoppen we ermee.\n"
EN_STOP_SMS = " Reply STOP to opt out."
NL_STOP_SMS = " Afmelden: antwoord STOP."

EN_BOOK = text("""
    {% if """ + given("link_url") + """ %}
    Book a visit online, at a time that suits you: {{ link_url }}
    {% else %}
    Please contact us to make an appointment.
    {% endif %}
    """)
NL_BOOK = text("""
    {% if """ + given("link_url") + """ %}
    Maak online een afspraak, op een moment dat u schikt: {{ link_url }}
    {% else %}
    Neem contact met ons op om een afspraak te maken.
    {% endif %}
    """)
EN_SMS_BOOK = "{% if " + given("link_url") + " %} Book online: {{ link_url }}{% else %} Call us to book.{% endif %}"
NL_SMS_BOOK = (
    "{% if " + given("link_url") + " %} Online afspraak maken: {{ link_url }}"
    "{% else %} Bel ons voor een afspraak.{% endif %}"
)

# The appointment messages: confirm, move or cancel from the portal.
EN_MANAGE = text("""
    {% if """ + given("link_url") + """ %}
    Confirm, move or cancel your appointment online: {{ link_url }}
    {% else %}
    Can you not make it? Please let us know as soon as possible.
    {% endif %}
    """)
NL_MANAGE = text("""
    {% if """ + given("link_url") + """ %}
    Uw afspraak online bevestigen, verplaatsen of annuleren: {{ link_url }}
    {% else %}
    Kunt u niet komen? Laat het ons dan zo snel mogelijk weten.
    {% endif %}
    """)
EN_SMS_MANAGE = "{% if " + given("link_url") + " %} Confirm, move or cancel: {{ link_url }}{% endif %}"
NL_SMS_MANAGE = "{% if " + given("link_url") + " %} Bevestigen, verplaatsen of annuleren: {{ link_url }}{% endif %}"
EN_SMS_PAY = "{% if " + given("pay_url") + " %} Pay online: {{ pay_url }}{% endif %}"
NL_SMS_PAY = "{% if " + given("pay_url") + " %} Online betalen: {{ pay_url }}{% endif %}"

# The defaults 0002 wrote, again, each showing the link when the data has it.
WITH_LINKS = {
    # ------------------------------------------------------------ appointment_confirmed
    ("appointment_confirmed", "en"): (
        "Your appointment at {{ garage.name }} on {{ start | date }}",
        text("""
            Dear {{ customer.name }},

            Your appointment is confirmed for {{ start | datetime }}{% if end is defined %} until {{ end | time }}{% endif %}.

            """) + EN_VEHICLE + text("""
            {% if work is defined and work %}
            Work: {{ work }}
            {% endif %}

            """) + EN_MANAGE + EN_CLOSING,
        "{{ garage.name }}: your appointment" + EN_FOR_PLATE + " is confirmed for {{ start | datetime }}."
        + EN_SMS_MANAGE,
    ),
    ("appointment_confirmed", "nl"): (
        "Uw afspraak bij {{ garage.name }} op {{ start | date }}",
        text("""
            Beste {{ customer.name }},

            Uw afspraak is bevestigd voor {{ start | datetime }}{% if end is defined %} tot {{ end | time }}{% endif %}.

            """) + NL_VEHICLE + text("""
            {% if work is defined and work %}
            Werkzaamheden: {{ work }}
            {% endif %}

            """) + NL_MANAGE + NL_CLOSING,
        "{{ garage.name }}: uw afspraak" + NL_FOR_PLATE + " is bevestigd voor {{ start | datetime }}."
        + NL_SMS_MANAGE,
    ),
    # ---------------------------------------------------------- appointment_rescheduled
    ("appointment_rescheduled", "en"): (
        "Your appointment has moved to {{ start | date }}",
        text("""
            Dear {{ customer.name }},

            Your appointment has been moved{% if previous_start is defined %} from {{ previous_start | datetime }}{% endif %} to {{ start | datetime }}{% if end is defined %} until {{ end | time }}{% endif %}.

            """) + EN_VEHICLE + "\n" + text("""
            {% if """ + given("link_url") + """ %}
            Does the new time not suit you? Confirm, move or cancel your appointment online: {{ link_url }}
            {% else %}
            Does the new time not suit you? Please let us know.
            {% endif %}
            """) + EN_CLOSING,
        "{{ garage.name }}: your appointment" + EN_FOR_PLATE + " has moved to {{ start | datetime }}."
        + EN_SMS_MANAGE,
    ),
    ("appointment_rescheduled", "nl"): (
        "Uw afspraak is verplaatst naar {{ start | date }}",
        text("""
            Beste {{ customer.name }},

            Uw afspraak is verplaatst{% if previous_start is defined %} van {{ previous_start | datetime }}{% endif %} naar {{ start | datetime }}{% if end is defined %} tot {{ end | time }}{% endif %}.

            """) + NL_VEHICLE + "\n" + text("""
            {% if """ + given("link_url") + """ %}
            Komt het nieuwe tijdstip u niet uit? Bevestig, verplaats of annuleer uw afspraak online: {{ link_url }}
            {% else %}
            Komt het nieuwe tijdstip u niet uit? Laat het ons dan weten.
            {% endif %}
            """) + NL_CLOSING,
        "{{ garage.name }}: uw afspraak" + NL_FOR_PLATE + " is verplaatst naar {{ start | datetime }}."
        + NL_SMS_MANAGE,
    ),
    # ------------------------------------------------------------- appointment_reminder
    ("appointment_reminder", "en"): (
        "Reminder: your appointment on {{ start | date }}",
        text("""
            Dear {{ customer.name }},

            A reminder of your appointment on {{ start | datetime }}.

            """) + EN_VEHICLE + "\n" + EN_MANAGE + EN_CLOSING,
        "{{ garage.name }}: a reminder of your appointment" + EN_FOR_PLATE + " on {{ start | datetime }}."
        + EN_SMS_MANAGE,
    ),
    ("appointment_reminder", "nl"): (
        "Herinnering: uw afspraak op {{ start | date }}",
        text("""
            Beste {{ customer.name }},

            Een herinnering aan uw afspraak op {{ start | datetime }}.

            """) + NL_VEHICLE + "\n" + NL_MANAGE + NL_CLOSING,
        "{{ garage.name }}: herinnering aan uw afspraak" + NL_FOR_PLATE + " op {{ start | datetime }}."
        + NL_SMS_MANAGE,
    ),
    # ------------------------------------------------------------------- estimate_ready
    ("estimate_ready", "en"): (
        "An estimate for your vehicle is waiting for your approval",
        text("""
            Dear {{ customer.name }},

            We have an estimate for additional work on your vehicle.
            {% if message is defined and message %}

            {{ message }}
            {% endif %}

            {% for line in lines | default([]) %}
            - {{ line.description }}: {{ line.gross | money(currency) }}
            {% endfor %}
            Total, VAT included: {{ total_gross | money(currency) }}

            {% if """ + given("link_url") + """ %}
            Approve or decline each line online: {{ link_url }}
            {% else %}
            Please let us know whether we may go ahead.
            {% endif %}
            """) + EN_CLOSING,
        "{{ garage.name }}: an estimate of {{ total_gross | money(currency) }} for extra work on your "
        "vehicle is waiting for your approval."
        "{% if " + given("link_url") + " %} Approve or decline online: {{ link_url }}"
        "{% else %} Please contact us.{% endif %}",
    ),
    ("estimate_ready", "nl"): (
        "Er ligt een offerte voor uw voertuig klaar",
        text("""
            Beste {{ customer.name }},

            Er ligt een offerte klaar voor extra werkzaamheden aan uw voertuig.
            {% if message is defined and message %}

            {{ message }}
            {% endif %}

            {% for line in lines | default([]) %}
            - {{ line.description }}: {{ line.gross | money(currency) }}
            {% endfor %}
            Totaal, inclusief btw: {{ total_gross | money(currency) }}

            {% if """ + given("link_url") + """ %}
            Keur elke regel online goed of af: {{ link_url }}
            {% else %}
            Laat u ons weten of wij de werkzaamheden mogen uitvoeren?
            {% endif %}
            """) + NL_CLOSING,
        "{{ garage.name }}: er ligt een offerte van {{ total_gross | money(currency) }} voor extra "
        "werkzaamheden aan uw voertuig klaar."
        "{% if " + given("link_url") + " %} Online goedkeuren of afwijzen: {{ link_url }}"
        "{% else %} Neem contact met ons op.{% endif %}",
    ),
    # ------------------------------------------------------------------- invoice_issued
    ("invoice_issued", "en"): (
        "Invoice {{ number }} from {{ garage.name }}",
        text("""
            Dear {{ customer.name }},

            Please find attached invoice {{ number }} for {{ total_gross | money(currency) }}{% if due_date is defined %}, due on {{ due_date | date }}{% endif %}.
            {% if """ + given("pay_url") + """ %}

            Pay online: {{ pay_url }}
            {% endif %}

            Thank you for your visit.
            """) + EN_CLOSING,
        "{{ garage.name }}: invoice {{ number }} for {{ total_gross | money(currency) }} has been issued"
        "{% if due_date is defined %}, due on {{ due_date | date }}{% endif %}." + EN_SMS_PAY,
    ),
    ("invoice_issued", "nl"): (
        "Factuur {{ number }} van {{ garage.name }}",
        text("""
            Beste {{ customer.name }},

            In de bijlage vindt u factuur {{ number }} van {{ total_gross | money(currency) }}{% if due_date is defined %}, te betalen vóór {{ due_date | date }}{% endif %}.
            {% if """ + given("pay_url") + """ %}

            Online betalen: {{ pay_url }}
            {% endif %}

            Bedankt voor uw bezoek.
            """) + NL_CLOSING,
        "{{ garage.name }}: factuur {{ number }} van {{ total_gross | money(currency) }} is verstuurd"
        "{% if due_date is defined %}, te betalen vóór {{ due_date | date }}{% endif %}." + NL_SMS_PAY,
    ),
    # ----------------------------------------------------------------- payment_reminder
    ("payment_reminder", "en"): (
        "Payment reminder: invoice {{ number }}",
        text("""
            Dear {{ customer.name }},

            According to our records {{ outstanding | money(currency) }} of invoice {{ number }} is still unpaid{% if due_date is defined %}; it was due on {{ due_date | date }}{% endif %}.

            {% if """ + given("pay_url") + """ %}
            Please pay the amount as soon as possible; you can pay online: {{ pay_url }}
            If you have already paid, please ignore this message.
            {% else %}
            Please pay the amount as soon as possible. If you have already paid, please ignore this message.
            {% endif %}
            """) + EN_CLOSING,
        "{{ garage.name }}: {{ outstanding | money(currency) }} of invoice {{ number }} is still unpaid. "
        "{% if " + given("pay_url") + " %}Pay online: {{ pay_url }}{% else %}Please pay as soon as possible.{% endif %}",
    ),
    ("payment_reminder", "nl"): (
        "Betalingsherinnering: factuur {{ number }}",
        text("""
            Beste {{ customer.name }},

            Volgens onze administratie staat van factuur {{ number }} nog {{ outstanding | money(currency) }} open{% if due_date is defined %}; de vervaldatum was {{ due_date | date }}{% endif %}.

            {% if """ + given("pay_url") + """ %}
            Wilt u het bedrag zo snel mogelijk betalen? Dat kan online: {{ pay_url }}
            Heeft u al betaald, dan kunt u dit bericht negeren.
            {% else %}
            Wilt u het bedrag zo snel mogelijk betalen? Heeft u al betaald, dan kunt u dit bericht negeren.
            {% endif %}
            """) + NL_CLOSING,
        "{{ garage.name }}: van factuur {{ number }} staat nog {{ outstanding | money(currency) }} open. "
        "{% if " + given("pay_url") + " %}Online betalen: {{ pay_url }}{% else %}Wilt u zo snel mogelijk betalen?{% endif %}",
    ),
}

NEW_TEMPLATES = {
    # ----------------------------------------------------------------- feedback_request
    ("feedback_request", "en"): (
        "How was your visit to {{ garage.name }}?",
        text("""
            Dear {{ customer.name }},

            Thank you for your visit{% if """ + given("visit_date") + """ %} on {{ visit_date | date }}{% endif %} with your """ + EN_CAR + """.

            How did we do? Give us a rating from 1 to 5 and, if you like, a comment. It takes a minute:

            {{ link_url }}

            Your answer goes to the workshop team and helps us do better.
            """) + EN_CLOSING,
        "{{ garage.name }}: thank you for bringing your " + EN_SMS_CAR
        + ". How did we do? Rate us from 1 to 5: {{ link_url }}",
    ),
    ("feedback_request", "nl"): (
        "Hoe was uw bezoek aan {{ garage.name }}?",
        text("""
            Beste {{ customer.name }},

            Bedankt voor uw bezoek{% if """ + given("visit_date") + """ %} op {{ visit_date | date }}{% endif %} met uw """ + NL_CAR + """.

            Hoe hebben we het gedaan? Geef ons een cijfer van 1 tot 5 en, als u wilt, een opmerking. Het kost een minuut:

            {{ link_url }}

            Uw antwoord gaat naar het werkplaatsteam en helpt ons beter te worden.
            """) + NL_CLOSING,
        "{{ garage.name }}: bedankt dat u uw " + NL_SMS_CAR
        + " bij ons bracht. Hoe hebben we het gedaan? Geef een cijfer van 1 tot 5: {{ link_url }}",
    ),
    # --------------------------------------------------------------- booking_invitation
    ("booking_invitation", "en"): (
        "Book a visit for your " + EN_CAR,
        text("""
            Dear {{ customer.name }},

            {% if """ + given("message") + """ %}
            {{ message }}

            {% endif %}
            You can book a visit for your """ + EN_CAR + """ online, at a time that suits you, from the times we have free:

            {{ link_url }}
            """) + EN_STOP_EMAIL + EN_CLOSING,
        "{{ garage.name }}: book a visit for your " + EN_SMS_CAR + " online: {{ link_url }}" + EN_STOP_SMS,
    ),
    ("booking_invitation", "nl"): (
        "Maak een afspraak voor uw " + NL_CAR,
        text("""
            Beste {{ customer.name }},

            {% if """ + given("message") + """ %}
            {{ message }}

            {% endif %}
            U kunt online een afspraak maken voor uw """ + NL_CAR + """, op een moment dat u schikt, uit de tijden die wij vrij hebben:

            {{ link_url }}
            """) + NL_STOP_EMAIL + NL_CLOSING,
        "{{ garage.name }}: maak online een afspraak voor uw " + NL_SMS_CAR + ": {{ link_url }}" + NL_STOP_SMS,
    ),
    # ---------------------------------------------------------------------- service_due
    ("service_due", "en"): (
        "Your " + EN_CAR + " is due for a service",
        text("""
            Dear {{ customer.name }},

            According to our records your """ + EN_CAR + """ is due for its next service{% if """ + given("due_date") + """ %} by {{ due_date | date }}{% endif %}{% if """ + given("due_km") + """ %}{% if """ + given("due_date") + """ %} or{% endif %} at {{ due_km | number }} km{% endif %}{% if """ + given("due_date") + " and " + given("due_km") + """ %}, whichever comes first{% endif %}.

            Regular servicing keeps your vehicle safe and reliable, and keeps its warranty valid.

            """) + EN_BOOK + EN_STOP_EMAIL + EN_CLOSING,
        "{{ garage.name }}: your " + EN_SMS_CAR + " is due for a service"
        "{% if " + given("due_date") + " %} by {{ due_date | date }}{% elif " + given("due_km") + " %} at {{ due_km | number }} km{% endif %}."
        + EN_SMS_BOOK + EN_STOP_SMS,
    ),
    ("service_due", "nl"): (
        "Uw " + NL_CAR + " is toe aan een onderhoudsbeurt",
        text("""
            Beste {{ customer.name }},

            Volgens onze gegevens is uw """ + NL_CAR + """ toe aan de volgende onderhoudsbeurt{% if """ + given("due_date") + """ %} vóór {{ due_date | date }}{% endif %}{% if """ + given("due_km") + """ %}{% if """ + given("due_date") + """ %} of{% endif %} bij {{ due_km | number }} km{% endif %}{% if """ + given("due_date") + " and " + given("due_km") + """ %}, wat het eerst komt{% endif %}.

            Regelmatig onderhoud houdt uw voertuig veilig en betrouwbaar, en de garantie geldig.

            """) + NL_BOOK + NL_STOP_EMAIL + NL_CLOSING,
        "{{ garage.name }}: uw " + NL_SMS_CAR + " is toe aan onderhoud"
        "{% if " + given("due_date") + " %} vóór {{ due_date | date }}{% elif " + given("due_km") + " %} bij {{ due_km | number }} km{% endif %}."
        + NL_SMS_BOOK + NL_STOP_SMS,
    ),
    # ------------------------------------------------------------------- inspection_due
    ("inspection_due", "en"): (
        "The periodic inspection (APK) of your " + EN_CAR + " is due",
        text("""
            Dear {{ customer.name }},

            The periodic inspection (APK) of your """ + EN_CAR + """ is due by {{ due_date | date }}. Without a valid inspection you may not drive it on public roads.

            We can inspect it for you, and fix what it needs while it is with us.

            """) + EN_BOOK + EN_STOP_EMAIL + EN_CLOSING,
        "{{ garage.name }}: the APK of your " + EN_SMS_CAR + " is due by {{ due_date | date }}."
        + EN_SMS_BOOK + EN_STOP_SMS,
    ),
    ("inspection_due", "nl"): (
        "De APK van uw " + NL_CAR + " verloopt",
        text("""
            Beste {{ customer.name }},

            De APK van uw """ + NL_CAR + """ verloopt op {{ due_date | date }}. Zonder geldige APK mag u er niet mee de weg op.

            Wij kunnen de keuring voor u doen, en meteen herstellen wat nodig is.

            """) + NL_BOOK + NL_STOP_EMAIL + NL_CLOSING,
        "{{ garage.name }}: de APK van uw " + NL_SMS_CAR + " verloopt op {{ due_date | date }}."
        + NL_SMS_BOOK + NL_STOP_SMS,
    ),
    # -------------------------------------------------------------------- declined_work
    ("declined_work", "en"): (
        "The work we recommended for your " + EN_CAR,
        text("""
            Dear {{ customer.name }},

            On your last visit{% if """ + given("visit_date") + """ %} on {{ visit_date | date }}{% endif %} we recommended work on your """ + EN_CAR + """ that has not been done yet:

            {% for line in lines | default([]) %}
            - {{ line.description }}{% if line.gross is defined and line.gross is not none and currency is defined %}: {{ line.gross | money(currency) }}{% endif +%}
            {% endfor %}

            We would be glad to do it for you.

            """) + EN_BOOK + EN_STOP_EMAIL + EN_CLOSING,
        "{{ garage.name }}: the work we recommended for your " + EN_SMS_CAR + " on your last visit has not been done yet."
        + EN_SMS_BOOK + EN_STOP_SMS,
    ),
    ("declined_work", "nl"): (
        "De werkzaamheden die wij adviseerden voor uw " + NL_CAR,
        text("""
            Beste {{ customer.name }},

            Bij uw laatste bezoek{% if """ + given("visit_date") + """ %} op {{ visit_date | date }}{% endif %} hebben wij werkzaamheden aan uw """ + NL_CAR + """ geadviseerd die nog niet zijn uitgevoerd:

            {% for line in lines | default([]) %}
            - {{ line.description }}{% if line.gross is defined and line.gross is not none and currency is defined %}: {{ line.gross | money(currency) }}{% endif +%}
            {% endfor %}

            Wij doen ze graag voor u.

            """) + NL_BOOK + NL_STOP_EMAIL + NL_CLOSING,
        "{{ garage.name }}: de geadviseerde werkzaamheden aan uw " + NL_SMS_CAR
        + " zijn nog niet uitgevoerd." + NL_SMS_BOOK + NL_STOP_SMS,
    ),
}

# Every template this revision writes: what the code's defaults now are.
TEMPLATES = {**WITH_LINKS, **NEW_TEMPLATES}

templates = sa.table(
    "notification_templates",
    sa.column("type", sa.String),
    sa.column("language", sa.String),
    sa.column("subject", sa.Text),
    sa.column("body", sa.Text),
    sa.column("sms_body", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("updated_by", sa.String),
    sa.column("version", sa.Integer),
    schema=SCHEMA,
)
notifications = sa.table("notifications", sa.column("id"), sa.column("type", sa.String), schema=SCHEMA)
attempts = sa.table("notification_attempts", sa.column("notification_id"), schema=SCHEMA)


def _types(table: str, types: tuple[str, ...]) -> None:
    name = op.f("ck_" + table + "_type")
    op.drop_constraint(name, table, schema=SCHEMA, type_="check")
    op.create_check_constraint(name, table, "type IN (" + ", ".join("'" + t + "'" for t in types) + ")", schema=SCHEMA)


def upgrade() -> None:
    _types("notifications", AFTER)
    _types("notification_templates", AFTER)
    now = datetime.now(timezone.utc)
    for (type_, language), (subject, body, sms_body) in WITH_LINKS.items():
        # Only a default nobody edited: staff's own text stays theirs.
        op.execute(
            templates.update()
            .where(
                templates.c.type == type_,
                templates.c.language == language,
                templates.c.updated_by == "migration 0002",
                templates.c.version == 1,
            )
            .values(
                subject=subject,
                body=body,
                sms_body=sms_body,
                updated_at=now,
                updated_by="migration 0004",
                version=2,
            )
        )
    op.bulk_insert(
        templates,
        [
            {
                "type": type_,
                "language": language,
                "subject": subject,
                "body": body,
                "sms_body": sms_body,
                "created_at": now,
                "updated_at": now,
                "updated_by": "migration 0004",
                "version": 1,
            }
            for (type_, language), (subject, body, sms_body) in NEW_TEMPLATES.items()
        ],
    )


def downgrade() -> None:
    op.execute(templates.delete().where(templates.c.type.in_(NEW)))
    op.execute(
        attempts.delete().where(
            attempts.c.notification_id.in_(sa.select(notifications.c.id).where(notifications.c.type.in_(NEW)))
        )
    )
    op.execute(notifications.delete().where(notifications.c.type.in_(NEW)))
    _types("notification_templates", BEFORE)
    _types("notifications", BEFORE)
    # The 0002 texts again where this revision's are unedited.
    path = Path(__file__).with_name("0002_default_templates.py")
    spec = importlib.util.spec_from_file_location("notifications_migration_0002", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"migration 0002's texts cannot be loaded from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = module.TEMPLATES
    for (type_, language), (subject, body, sms_body) in before.items():
        if (type_, language) not in WITH_LINKS:
            continue
        op.execute(
            templates.update()
            .where(
                templates.c.type == type_,
                templates.c.language == language,
                templates.c.updated_by == "migration 0004",
                templates.c.version == 2,
            )
            .values(subject=subject, body=body, sms_body=sms_body, updated_by="migration 0002", version=1)
        )
