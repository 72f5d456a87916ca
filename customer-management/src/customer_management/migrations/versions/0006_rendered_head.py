"""a customer is rendered, up to its times, when it is written: the reads render the rest

Revision ID: 0006
Revises: 0005

A name search answers 51 customers rendered as the API shows them (``rendering``): at a
million customers that rendering was most of the search's time in PostgreSQL, about
10 us a customer of a 1 ms statement. ``rendered_head`` holds the members up to the
times (id ... status), written by a trigger on every insert and update, whoever writes;
a read renders only the times (in its session's time zone) and the version.

The trigger's expression is ``rendering.head_members_of_new_row()`` as it was at this
revision; a change to what the API shows needs a migration that replaces the function
and renders every customer again (test_rendering checks the two are the same).

Adding the column renders every customer once: on 1,000,000 customers the update
rewrites the table and its indexes (writes wait meanwhile).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RENDER_HEAD = """
CREATE FUNCTION customers.render_customer_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rendered_head := (((((((((((((('"id":' || coalesce('"' || CAST(NEW.id AS TEXT) || '"', 'null'))
        || (',"kind":' || coalesce(to_json(NEW.kind), 'null')))
        || (',"name":' || coalesce(to_json(NEW.name), 'null')))
        || (',"vat_number":' || coalesce(to_json(NEW.vat_number), 'null')))
        || (',"contact_person":' || coalesce(to_json(NEW.contact_person), 'null')))
        || (',"email":' || coalesce(to_json(NEW.email), 'null')))
        || (',"phone":' || coalesce(to_json(NEW.phone), 'null')))
        || (',"address":' || ((((('{' || ('"street":' || coalesce(to_json(NEW.street), 'null')))
        || (',"postal_code":' || coalesce(to_json(NEW.postal_code), 'null')))
        || (',"city":' || coalesce(to_json(NEW.city), 'null')))
        || (',"country":' || coalesce(to_json(NEW.country), 'null'))) || '}')))
        || (',"preferred_channel":' || coalesce(to_json(NEW.preferred_channel), 'null')))
        || (',"preferred_language":' || coalesce(to_json(NEW.preferred_language), 'null')))
        || (',"notes":' || coalesce(to_json(NEW.notes), 'null')))
        || (',"payment_terms_days":' || coalesce(CAST(NEW.payment_terms_days AS TEXT), 'null')))
        || (',"consents":' || CASE WHEN (coalesce(jsonb_typeof(NEW.consents), 'null') = 'null') THEN 'null' ELSE ('{' || substr(CASE WHEN (NEW.consents ? 'email') THEN ',"email":' || CASE WHEN (coalesce(jsonb_typeof(NEW.consents -> 'email'), 'null') = 'null') THEN 'null' ELSE ('{' || substr(CASE WHEN ((NEW.consents -> 'email') ? 'service') THEN ',"service":' || coalesce(CAST((NEW.consents -> 'email') -> 'service' AS TEXT), 'null') ELSE '' END || CASE WHEN ((NEW.consents -> 'email') ? 'marketing') THEN ',"marketing":' || coalesce(CAST((NEW.consents -> 'email') -> 'marketing' AS TEXT), 'null') ELSE '' END, 2)) || '}' END ELSE '' END || CASE WHEN (NEW.consents ? 'sms') THEN ',"sms":' || CASE WHEN (coalesce(jsonb_typeof(NEW.consents -> 'sms'), 'null') = 'null') THEN 'null' ELSE ('{' || substr(CASE WHEN ((NEW.consents -> 'sms') ? 'service') THEN ',"service":' || coalesce(CAST((NEW.consents -> 'sms') -> 'service' AS TEXT), 'null') ELSE '' END || CASE WHEN ((NEW.consents -> 'sms') ? 'marketing') THEN ',"marketing":' || coalesce(CAST((NEW.consents -> 'sms') -> 'marketing' AS TEXT), 'null') ELSE '' END, 2)) || '}' END ELSE '' END, 2)) || '}' END))
        || (',"marketing_consent":' || coalesce(to_json(jsonb_path_exists(NEW.consents, '$.*.marketing ? (@ == true)'::jsonpath)), 'null')))
        || (',"status":' || coalesce(to_json(NEW.status), 'null'));
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE customers.customers ADD COLUMN rendered_head text")
    op.execute(RENDER_HEAD)
    op.execute(
        "CREATE TRIGGER render_head BEFORE INSERT OR UPDATE ON customers.customers "
        "FOR EACH ROW EXECUTE FUNCTION customers.render_customer_head()"
    )
    op.execute("UPDATE customers.customers SET rendered_head = ''")  # the trigger renders it
    op.execute("ALTER TABLE customers.customers ALTER COLUMN rendered_head SET NOT NULL")


def downgrade() -> None:
    op.execute("DROP TRIGGER render_head ON customers.customers")
    op.execute("DROP FUNCTION customers.render_customer_head()")
    op.execute("ALTER TABLE customers.customers DROP COLUMN rendered_head")
