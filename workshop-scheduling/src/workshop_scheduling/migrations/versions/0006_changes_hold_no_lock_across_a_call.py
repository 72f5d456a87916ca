"""rescheduling, cancelling and no-show hold no lock across the job call: a reschedule
holds its new time with a reservation of its own (``move_of``) beside the appointment,
and a job check says which change is pending (``intent``, ``reason``)

Revision ID: 0006
Revises: 0005

A row and the reservation of its own move never exclude each other (``coalesce(move_of,
id) WITH <>``): an appointment moved by half an hour holds both times, in the same bay,
for the vehicle and the technician, while maintenance-job-management is asked.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# One statement for the constraints: they are never missing. Written out whole (no SQL
# built from strings).
UPGRADE = """
ALTER TABLE scheduling.appointments
    ADD COLUMN move_of uuid
        CONSTRAINT fk_appointments_move_of_appointments REFERENCES scheduling.appointments (id)
        ON DELETE CASCADE,
    ADD CONSTRAINT ck_appointments_move_reserved CHECK (move_of IS NULL OR status = 'reserved'),
    DROP CONSTRAINT ex_appointments_bay_overlap,
    ADD CONSTRAINT ex_appointments_bay_overlap EXCLUDE USING gist
        (bay_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&, (coalesce(move_of, id)) WITH <>)
        WHERE (status IN ('reserved', 'booked', 'checked_in')),
    DROP CONSTRAINT ex_appointments_vehicle_overlap,
    ADD CONSTRAINT ex_appointments_vehicle_overlap EXCLUDE USING gist
        (vehicle_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&, (coalesce(move_of, id)) WITH <>)
        WHERE (status IN ('reserved', 'booked', 'checked_in')),
    DROP CONSTRAINT ex_appointments_technician_overlap,
    ADD CONSTRAINT ex_appointments_technician_overlap EXCLUDE USING gist
        (technician_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&, (coalesce(move_of, id)) WITH <>)
        WHERE (status IN ('reserved', 'booked', 'checked_in'));
CREATE INDEX ix_appointments_move_of ON scheduling.appointments (move_of) WHERE move_of IS NOT NULL;
ALTER TABLE scheduling.job_checks
    ADD COLUMN intent varchar(16),
    ADD COLUMN reason varchar(500),
    ADD CONSTRAINT ck_job_checks_intent CHECK (intent IN ('reschedule', 'cancel', 'no_show'))
"""

# Reservations of moves still held are reschedules that never answered: their job checks
# send the appointment's times again.
DOWNGRADE = """
DELETE FROM scheduling.appointments WHERE move_of IS NOT NULL;
ALTER TABLE scheduling.job_checks
    DROP CONSTRAINT ck_job_checks_intent,
    DROP COLUMN reason,
    DROP COLUMN intent;
DROP INDEX scheduling.ix_appointments_move_of;
ALTER TABLE scheduling.appointments
    DROP CONSTRAINT ex_appointments_bay_overlap,
    ADD CONSTRAINT ex_appointments_bay_overlap EXCLUDE USING gist
        (bay_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)
        WHERE (status IN ('reserved', 'booked', 'checked_in')),
    DROP CONSTRAINT ex_appointments_vehicle_overlap,
    ADD CONSTRAINT ex_appointments_vehicle_overlap EXCLUDE USING gist
        (vehicle_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)
        WHERE (status IN ('reserved', 'booked', 'checked_in')),
    DROP CONSTRAINT ex_appointments_technician_overlap,
    ADD CONSTRAINT ex_appointments_technician_overlap EXCLUDE USING gist
        (technician_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)
        WHERE (status IN ('reserved', 'booked', 'checked_in'));
ALTER TABLE scheduling.appointments DROP COLUMN move_of
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
