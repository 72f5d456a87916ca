"""settings, bays, technicians, appointments, job checks, reminders, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 18:11:52.665779
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service_kit.migrations import create_kit_tables, drop_kit_tables
from service_kit.outbox import create_outbox_table, drop_outbox_table

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "scheduling"


def upgrade() -> None:
    # Exclusion constraints with `=` on uuids need btree_gist (a trusted extension).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
    create_kit_tables(SCHEMA)
    create_outbox_table(SCHEMA)
    op.create_table('bays',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bays')),
    schema='scheduling'
    )
    op.create_index('uq_bays_name', 'bays', [sa.literal_column('lower(name)')], unique=True, schema='scheduling')
    op.create_table('job_checks',
    sa.Column('appointment_id', sa.UUID(), nullable=False),
    sa.Column('request_key', sa.String(length=255), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_job_checks')),
    sa.UniqueConstraint('request_key', name=op.f('uq_job_checks_request_key')),
    schema='scheduling'
    )
    op.create_index('ix_job_checks_due_at', 'job_checks', ['due_at'], unique=False, schema='scheduling')
    op.create_table('technicians',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('skills', sa.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_technicians')),
    schema='scheduling'
    )
    op.create_index('uq_technicians_name', 'technicians', [sa.literal_column('lower(name)')], unique=True, schema='scheduling')
    op.create_table('workshop_settings',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('booking_horizon_days', sa.Integer(), nullable=False),
    sa.Column('opening_hours', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('closed_dates', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_workshop_settings_singleton')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop_settings')),
    schema='scheduling'
    )
    op.create_table('appointments',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('vehicle_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('vehicle_plate', sa.String(length=20), nullable=False),
    sa.Column('vehicle_make', sa.String(length=60), nullable=False),
    sa.Column('vehicle_model', sa.String(length=60), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('bay_id', sa.UUID(), nullable=False),
    sa.Column('technician_id', sa.UUID(), nullable=True),
    sa.Column('work_description', sa.Text(), nullable=False),
    sa.Column('service_codes', sa.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=True),
    sa.Column('booked_by', sa.String(length=200), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('no_show_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    postgresql.ExcludeConstraint((sa.text('bay_id'), '='), (sa.text("tstzrange(start_at, end_at, '[)')"), '&&'), where=sa.text("status IN ('booked', 'checked_in')"), using='gist', name='ex_appointments_bay_overlap'),
    postgresql.ExcludeConstraint((sa.text('technician_id'), '='), (sa.text("tstzrange(start_at, end_at, '[)')"), '&&'), where=sa.text("status IN ('booked', 'checked_in')"), using='gist', name='ex_appointments_technician_overlap'),
    postgresql.ExcludeConstraint((sa.text('vehicle_id'), '='), (sa.text("tstzrange(start_at, end_at, '[)')"), '&&'), where=sa.text("status IN ('booked', 'checked_in')"), using='gist', name='ex_appointments_vehicle_overlap'),
    sa.CheckConstraint("status IN ('booked', 'checked_in', 'cancelled', 'no_show', 'completed')", name=op.f('ck_appointments_status')),
    sa.CheckConstraint('start_at < end_at', name=op.f('ck_appointments_period')),
    sa.ForeignKeyConstraint(['bay_id'], ['scheduling.bays.id'], name=op.f('fk_appointments_bay_id_bays')),
    sa.ForeignKeyConstraint(['technician_id'], ['scheduling.technicians.id'], name=op.f('fk_appointments_technician_id_technicians')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    schema='scheduling'
    )
    op.create_index('ix_appointments_customer_id_start_at', 'appointments', ['customer_id', 'start_at'], unique=False, schema='scheduling')
    op.create_index('ix_appointments_start_at', 'appointments', ['start_at'], unique=False, schema='scheduling')
    op.create_index('ix_appointments_vehicle_id_start_at', 'appointments', ['vehicle_id', 'start_at'], unique=False, schema='scheduling')
    op.create_table('reminders',
    sa.Column('appointment_id', sa.UUID(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['scheduling.appointments.id'], name=op.f('fk_reminders_appointment_id_appointments')),
    sa.PrimaryKeyConstraint('appointment_id', 'start_at', name=op.f('pk_reminders')),
    schema='scheduling'
    )


def downgrade() -> None:
    op.drop_table('reminders', schema='scheduling')
    op.drop_index('ix_appointments_vehicle_id_start_at', table_name='appointments', schema='scheduling')
    op.drop_index('ix_appointments_start_at', table_name='appointments', schema='scheduling')
    op.drop_index('ix_appointments_customer_id_start_at', table_name='appointments', schema='scheduling')
    op.drop_table('appointments', schema='scheduling')
    op.drop_table('workshop_settings', schema='scheduling')
    op.drop_index('uq_technicians_name', table_name='technicians', schema='scheduling')
    op.drop_table('technicians', schema='scheduling')
    op.drop_index('ix_job_checks_due_at', table_name='job_checks', schema='scheduling')
    op.drop_table('job_checks', schema='scheduling')
    op.drop_index('uq_bays_name', table_name='bays', schema='scheduling')
    op.drop_table('bays', schema='scheduling')
    drop_outbox_table(SCHEMA)
    drop_kit_tables(SCHEMA)
