"""a booking's reservation: status 'reserved', which holds its bay, vehicle and technician
before vehicle-management has told who owns the vehicle

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# One statement: the constraints are never missing, and a booking waits for the lock
# for the moment the new GiST indexes take to build.
UPGRADE = """
ALTER TABLE scheduling.appointments
    ALTER COLUMN customer_id DROP NOT NULL,
    ALTER COLUMN vehicle_plate DROP NOT NULL,
    ALTER COLUMN vehicle_make DROP NOT NULL,
    ALTER COLUMN vehicle_model DROP NOT NULL,
    ADD CONSTRAINT ck_appointments_vehicle_known CHECK (status = 'reserved' OR (customer_id IS NOT NULL
        AND vehicle_plate IS NOT NULL AND vehicle_make IS NOT NULL AND vehicle_model IS NOT NULL)),
    DROP CONSTRAINT ck_appointments_status,
    ADD CONSTRAINT ck_appointments_status
        CHECK (status IN ('reserved', 'booked', 'checked_in', 'cancelled', 'no_show', 'completed')),
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
        WHERE (status IN ('reserved', 'booked', 'checked_in'))
"""

# Reservations still held are bookings that never answered 201: their job checks
# cancel their jobs.
DOWNGRADE = """
DELETE FROM scheduling.appointments WHERE status = 'reserved';
ALTER TABLE scheduling.appointments
    DROP CONSTRAINT ck_appointments_vehicle_known,
    ALTER COLUMN customer_id SET NOT NULL,
    ALTER COLUMN vehicle_plate SET NOT NULL,
    ALTER COLUMN vehicle_make SET NOT NULL,
    ALTER COLUMN vehicle_model SET NOT NULL,
    DROP CONSTRAINT ck_appointments_status,
    ADD CONSTRAINT ck_appointments_status
        CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show', 'completed')),
    DROP CONSTRAINT ex_appointments_bay_overlap,
    ADD CONSTRAINT ex_appointments_bay_overlap EXCLUDE USING gist
        (bay_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in')),
    DROP CONSTRAINT ex_appointments_vehicle_overlap,
    ADD CONSTRAINT ex_appointments_vehicle_overlap EXCLUDE USING gist
        (vehicle_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in')),
    DROP CONSTRAINT ex_appointments_technician_overlap,
    ADD CONSTRAINT ex_appointments_technician_overlap EXCLUDE USING gist
        (technician_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)
        WHERE (status IN ('booked', 'checked_in'))
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
