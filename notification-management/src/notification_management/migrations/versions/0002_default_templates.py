"""default templates for every type, in English and Dutch

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:05:00.000000

A data migration: the texts are written out here, not imported from the package,
so that this revision inserts the same rows whatever the code says later. Rendering
collapses runs of blank lines into one, so optional lines need no whitespace care.
Staff edit them afterwards through the templates API; downgrading removes only rows nobody
has edited (version 1).
"""
from datetime import datetime, timezone
from textwrap import dedent

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SCHEMA = "notifications"

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
SMS_PLATE = "{% if plate is defined %} {{ plate }}{% endif %}"
EN_FOR_PLATE = "{% if plate is defined %} for {{ plate }}{% endif %}"
NL_FOR_PLATE = "{% if plate is defined %} voor {{ plate }}{% endif %}"


def text(body: str) -> str:
    return dedent(body).lstrip("\n")


TEMPLATES = {
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

            Can you not make it? Please let us know as soon as possible.
            """) + EN_CLOSING,
        "{{ garage.name }}: your appointment" + EN_FOR_PLATE + " is confirmed for {{ start | datetime }}.",
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

            Kunt u niet komen? Laat het ons dan zo snel mogelijk weten.
            """) + NL_CLOSING,
        "{{ garage.name }}: uw afspraak" + NL_FOR_PLATE + " is bevestigd voor {{ start | datetime }}.",
    ),
    # ---------------------------------------------------------- appointment_rescheduled
    ("appointment_rescheduled", "en"): (
        "Your appointment has moved to {{ start | date }}",
        text("""
            Dear {{ customer.name }},

            Your appointment has been moved{% if previous_start is defined %} from {{ previous_start | datetime }}{% endif %} to {{ start | datetime }}{% if end is defined %} until {{ end | time }}{% endif %}.

            """) + EN_VEHICLE + "\n" + text("""
            Does the new time not suit you? Please let us know.
            """) + EN_CLOSING,
        "{{ garage.name }}: your appointment" + EN_FOR_PLATE + " has moved to {{ start | datetime }}.",
    ),
    ("appointment_rescheduled", "nl"): (
        "Uw afspraak is verplaatst naar {{ start | date }}",
        text("""
            Beste {{ customer.name }},

            Uw afspraak is verplaatst{% if previous_start is defined %} van {{ previous_start | datetime }}{% endif %} naar {{ start | datetime }}{% if end is defined %} tot {{ end | time }}{% endif %}.

            """) + NL_VEHICLE + "\n" + text("""
            Komt het nieuwe tijdstip u niet uit? Laat het ons dan weten.
            """) + NL_CLOSING,
        "{{ garage.name }}: uw afspraak" + NL_FOR_PLATE + " is verplaatst naar {{ start | datetime }}.",
    ),
    # ------------------------------------------------------------ appointment_cancelled
    ("appointment_cancelled", "en"): (
        "Your appointment on {{ start | date }} has been cancelled",
        text("""
            Dear {{ customer.name }},

            Your appointment on {{ start | datetime }} has been cancelled{% if reason is defined and reason %}: {{ reason }}{% endif %}.

            """) + EN_VEHICLE + "\n" + text("""
            Please contact us to make a new appointment.
            """) + EN_CLOSING,
        "{{ garage.name }}: your appointment on {{ start | datetime }} has been cancelled. "
        "Please contact us to make a new one.",
    ),
    ("appointment_cancelled", "nl"): (
        "Uw afspraak op {{ start | date }} is geannuleerd",
        text("""
            Beste {{ customer.name }},

            Uw afspraak op {{ start | datetime }} is geannuleerd{% if reason is defined and reason %}: {{ reason }}{% endif %}.

            """) + NL_VEHICLE + "\n" + text("""
            Neem contact met ons op om een nieuwe afspraak te maken.
            """) + NL_CLOSING,
        "{{ garage.name }}: uw afspraak op {{ start | datetime }} is geannuleerd. "
        "Neem contact met ons op voor een nieuwe afspraak.",
    ),
    # ------------------------------------------------------------- appointment_reminder
    ("appointment_reminder", "en"): (
        "Reminder: your appointment on {{ start | date }}",
        text("""
            Dear {{ customer.name }},

            A reminder of your appointment on {{ start | datetime }}.

            """) + EN_VEHICLE + "\n" + text("""
            Can you not make it? Please let us know as soon as possible.
            """) + EN_CLOSING,
        "{{ garage.name }}: a reminder of your appointment" + EN_FOR_PLATE + " on {{ start | datetime }}.",
    ),
    ("appointment_reminder", "nl"): (
        "Herinnering: uw afspraak op {{ start | date }}",
        text("""
            Beste {{ customer.name }},

            Een herinnering aan uw afspraak op {{ start | datetime }}.

            """) + NL_VEHICLE + "\n" + text("""
            Kunt u niet komen? Laat het ons dan zo snel mogelijk weten.
            """) + NL_CLOSING,
        "{{ garage.name }}: herinnering aan uw afspraak" + NL_FOR_PLATE + " op {{ start | datetime }}.",
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

            Please let us know whether we may go ahead.
            """) + EN_CLOSING,
        "{{ garage.name }}: an estimate of {{ total_gross | money(currency) }} for extra work on your "
        "vehicle is waiting for your approval. Please contact us.",
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

            Laat u ons weten of wij de werkzaamheden mogen uitvoeren?
            """) + NL_CLOSING,
        "{{ garage.name }}: er ligt een offerte van {{ total_gross | money(currency) }} voor extra "
        "werkzaamheden aan uw voertuig klaar. Neem contact met ons op.",
    ),
    # ---------------------------------------------------------------------- job_on_hold
    ("job_on_hold", "en"): (
        "Work on your vehicle is on hold",
        text("""
            Dear {{ customer.name }},

            We have paused the work on your vehicle: {{ reason }}.
            {% if awaiting_approval | default(false) %}
            We need your approval before we can go on; we have sent you an estimate.
            {% else %}
            We will go on as soon as we can and keep you informed.
            {% endif %}
            """) + EN_CLOSING,
        "{{ garage.name }}: work on your vehicle is on hold: {{ reason }}."
        "{% if awaiting_approval | default(false) %} We need your approval to go on.{% endif %}",
    ),
    ("job_on_hold", "nl"): (
        "De werkzaamheden aan uw voertuig staan stil",
        text("""
            Beste {{ customer.name }},

            We hebben de werkzaamheden aan uw voertuig onderbroken: {{ reason }}.
            {% if awaiting_approval | default(false) %}
            We hebben uw akkoord nodig voordat we verder kunnen; we hebben u een offerte gestuurd.
            {% else %}
            We gaan zo snel mogelijk verder en houden u op de hoogte.
            {% endif %}
            """) + NL_CLOSING,
        "{{ garage.name }}: de werkzaamheden aan uw voertuig staan stil: {{ reason }}."
        "{% if awaiting_approval | default(false) %} We hebben uw akkoord nodig.{% endif %}",
    ),
    # -------------------------------------------------------------------- vehicle_ready
    ("vehicle_ready", "en"): (
        "Your vehicle is ready",
        text("""
            Dear {{ customer.name }},

            Good news: the work on your vehicle{% if plate is defined %} ({{ plate }}){% endif %} is done{% if description is defined and description %}: {{ description }}{% endif %}.

            You can pick it up during our opening hours.
            """) + EN_CLOSING,
        "{{ garage.name }}: your vehicle" + SMS_PLATE + " is ready to be picked up.",
    ),
    ("vehicle_ready", "nl"): (
        "Uw voertuig is klaar",
        text("""
            Beste {{ customer.name }},

            Goed nieuws: de werkzaamheden aan uw voertuig{% if plate is defined %} ({{ plate }}){% endif %} zijn klaar{% if description is defined and description %}: {{ description }}{% endif %}.

            U kunt het tijdens onze openingstijden ophalen.
            """) + NL_CLOSING,
        "{{ garage.name }}: uw voertuig" + SMS_PLATE + " is klaar en kan worden opgehaald.",
    ),
    # ------------------------------------------------------------------- invoice_issued
    ("invoice_issued", "en"): (
        "Invoice {{ number }} from {{ garage.name }}",
        text("""
            Dear {{ customer.name }},

            Please find attached invoice {{ number }} for {{ total_gross | money(currency) }}{% if due_date is defined %}, due on {{ due_date | date }}{% endif %}.

            Thank you for your visit.
            """) + EN_CLOSING,
        "{{ garage.name }}: invoice {{ number }} for {{ total_gross | money(currency) }} has been issued"
        "{% if due_date is defined %}, due on {{ due_date | date }}{% endif %}.",
    ),
    ("invoice_issued", "nl"): (
        "Factuur {{ number }} van {{ garage.name }}",
        text("""
            Beste {{ customer.name }},

            In de bijlage vindt u factuur {{ number }} van {{ total_gross | money(currency) }}{% if due_date is defined %}, te betalen vóór {{ due_date | date }}{% endif %}.

            Bedankt voor uw bezoek.
            """) + NL_CLOSING,
        "{{ garage.name }}: factuur {{ number }} van {{ total_gross | money(currency) }} is verstuurd"
        "{% if due_date is defined %}, te betalen vóór {{ due_date | date }}{% endif %}.",
    ),
    # ----------------------------------------------------------------- payment_reminder
    ("payment_reminder", "en"): (
        "Payment reminder: invoice {{ number }}",
        text("""
            Dear {{ customer.name }},

            According to our records {{ outstanding | money(currency) }} of invoice {{ number }} is still unpaid{% if due_date is defined %}; it was due on {{ due_date | date }}{% endif %}.

            Please pay the amount as soon as possible. If you have already paid, please ignore this message.
            """) + EN_CLOSING,
        "{{ garage.name }}: {{ outstanding | money(currency) }} of invoice {{ number }} is still unpaid. "
        "Please pay as soon as possible.",
    ),
    ("payment_reminder", "nl"): (
        "Betalingsherinnering: factuur {{ number }}",
        text("""
            Beste {{ customer.name }},

            Volgens onze administratie staat van factuur {{ number }} nog {{ outstanding | money(currency) }} open{% if due_date is defined %}; de vervaldatum was {{ due_date | date }}{% endif %}.

            Wilt u het bedrag zo snel mogelijk betalen? Heeft u al betaald, dan kunt u dit bericht negeren.
            """) + NL_CLOSING,
        "{{ garage.name }}: van factuur {{ number }} staat nog {{ outstanding | money(currency) }} open. "
        "Wilt u zo snel mogelijk betalen?",
    ),
}

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


def upgrade() -> None:
    now = datetime.now(timezone.utc)
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
                "updated_by": "migration 0002",
                "version": 1,
            }
            for (type_, language), (subject, body, sms_body) in TEMPLATES.items()
        ],
    )


def downgrade() -> None:
    op.execute(
        templates.delete().where(
            templates.c.updated_by == "migration 0002",
            templates.c.version == 1,
        )
    )
