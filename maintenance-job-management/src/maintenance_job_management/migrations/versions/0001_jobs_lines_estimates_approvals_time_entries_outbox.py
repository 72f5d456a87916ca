"""maintenance jobs, lines, estimates, approvals, time entries, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 17:46:14.433474
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

SCHEMA = "jobs"


def upgrade() -> None:
    create_kit_tables(SCHEMA)
    op.create_table('maintenance_jobs',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('appointment_id', sa.UUID(), nullable=False),
    sa.Column('vehicle_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('planned_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('planned_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('hold_kind', sa.String(length=16), nullable=True),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('assigned_technician', sa.String(length=100), nullable=True),
    sa.Column('actual_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actual_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('odometer_in', sa.Integer(), nullable=True),
    sa.Column('odometer_unit', sa.String(length=2), nullable=False),
    sa.Column('technician_notes', sa.Text(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("hold_kind IS NULL OR hold_kind IN ('manual', 'approval')", name=op.f('ck_maintenance_jobs_hold_kind')),
    sa.CheckConstraint("odometer_unit IN ('km', 'mi')", name=op.f('ck_maintenance_jobs_odometer_unit')),
    sa.CheckConstraint("status IN ('scheduled', 'in_progress', 'on_hold', 'completed', 'cancelled')", name=op.f('ck_maintenance_jobs_status')),
    sa.CheckConstraint('odometer_in IS NULL OR odometer_in >= 0', name=op.f('ck_maintenance_jobs_odometer_in')),
    sa.CheckConstraint('planned_start < planned_end', name=op.f('ck_maintenance_jobs_planned_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_jobs')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_maintenance_jobs_appointment_id')),
    schema='jobs'
    )
    op.create_index('ix_maintenance_jobs_customer_history', 'maintenance_jobs', ['customer_id', 'planned_start', 'id'], unique=False, schema='jobs')
    op.create_index('ix_maintenance_jobs_planned', 'maintenance_jobs', ['planned_start', 'id'], unique=False, schema='jobs')
    op.create_index('ix_maintenance_jobs_vehicle_history', 'maintenance_jobs', ['vehicle_id', 'planned_start', 'id'], unique=False, schema='jobs')
    # The outbox: requests to invoicing and notification-management, written with the change.
    create_outbox_table(SCHEMA)
    op.create_table('estimates',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sent_by', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('counter', 'phone', 'email', 'sms')", name=op.f('ck_estimates_channel')),
    sa.CheckConstraint("status IN ('sent', 'decided', 'superseded')", name=op.f('ck_estimates_status')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.maintenance_jobs.id'], name=op.f('fk_estimates_job_id_maintenance_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_estimates')),
    schema='jobs'
    )
    op.create_index('ix_estimates_job_id_id', 'estimates', ['job_id', 'id'], unique=False, schema='jobs')
    op.create_table('job_lines',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('part_number', sa.String(length=64), nullable=True),
    sa.Column('quantity_hundredths', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('approval', sa.String(length=16), nullable=False),
    sa.Column('approved_net', sa.Integer(), nullable=True),
    sa.Column('covered_by_booking', sa.Boolean(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("approval <> 'approved' OR approved_net IS NOT NULL", name=op.f('ck_job_lines_approved_has_amount')),
    sa.CheckConstraint("approval IN ('pending', 'approved', 'declined')", name=op.f('ck_job_lines_approval')),
    sa.CheckConstraint("kind = 'labour' OR part_number IS NOT NULL", name=op.f('ck_job_lines_part_has_part_number')),
    sa.CheckConstraint("kind = 'part' OR part_number IS NULL", name=op.f('ck_job_lines_labour_has_no_part_number')),
    sa.CheckConstraint("kind IN ('labour', 'part')", name=op.f('ck_job_lines_kind')),
    sa.CheckConstraint('quantity_hundredths > 0', name=op.f('ck_job_lines_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_job_lines_unit_price_not_negative')),
    sa.CheckConstraint('vat_rate >= 0 AND vat_rate <= 100', name=op.f('ck_job_lines_vat_rate_percent')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.maintenance_jobs.id'], name=op.f('fk_job_lines_job_id_maintenance_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_lines')),
    schema='jobs'
    )
    op.create_index('ix_job_lines_declined', 'job_lines', ['job_id'], unique=False, schema='jobs', postgresql_where=sa.text("approval = 'declined'"))
    op.create_index('ix_job_lines_job_id', 'job_lines', ['job_id'], unique=False, schema='jobs')
    op.create_table('time_entries',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('technician', sa.String(length=100), nullable=False),
    sa.Column('clocked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clocked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint('clocked_out_at IS NULL OR clocked_out_at >= clocked_in_at', name=op.f('ck_time_entries_out_after_in')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.maintenance_jobs.id'], name=op.f('fk_time_entries_job_id_maintenance_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entries')),
    schema='jobs'
    )
    op.create_index('ix_time_entries_job_id', 'time_entries', ['job_id'], unique=False, schema='jobs')
    op.create_index('uq_time_entries_open_per_technician', 'time_entries', ['technician'], unique=True, schema='jobs', postgresql_where=sa.text('clocked_out_at IS NULL'))
    op.create_table('approvals',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('line_id', sa.UUID(), nullable=False),
    sa.Column('estimate_id', sa.UUID(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shown', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('booking', 'counter', 'phone', 'email', 'sms', 'web')", name=op.f('ck_approvals_channel')),
    sa.CheckConstraint("decision IN ('approved', 'declined')", name=op.f('ck_approvals_decision')),
    sa.ForeignKeyConstraint(['estimate_id'], ['jobs.estimates.id'], name=op.f('fk_approvals_estimate_id_estimates')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.maintenance_jobs.id'], name=op.f('fk_approvals_job_id_maintenance_jobs')),
    sa.ForeignKeyConstraint(['line_id'], ['jobs.job_lines.id'], name=op.f('fk_approvals_line_id_job_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    schema='jobs'
    )
    op.create_index('ix_approvals_job_id_id', 'approvals', ['job_id', 'id'], unique=False, schema='jobs')


def downgrade() -> None:
    op.drop_index('ix_approvals_job_id_id', table_name='approvals', schema='jobs')
    op.drop_table('approvals', schema='jobs')
    op.drop_index('uq_time_entries_open_per_technician', table_name='time_entries', schema='jobs', postgresql_where=sa.text('clocked_out_at IS NULL'))
    op.drop_index('ix_time_entries_job_id', table_name='time_entries', schema='jobs')
    op.drop_table('time_entries', schema='jobs')
    op.drop_index('ix_job_lines_job_id', table_name='job_lines', schema='jobs')
    op.drop_index('ix_job_lines_declined', table_name='job_lines', schema='jobs', postgresql_where=sa.text("approval = 'declined'"))
    op.drop_table('job_lines', schema='jobs')
    op.drop_index('ix_estimates_job_id_id', table_name='estimates', schema='jobs')
    op.drop_table('estimates', schema='jobs')
    drop_outbox_table(SCHEMA)
    op.drop_index('ix_maintenance_jobs_vehicle_history', table_name='maintenance_jobs', schema='jobs')
    op.drop_index('ix_maintenance_jobs_planned', table_name='maintenance_jobs', schema='jobs')
    op.drop_index('ix_maintenance_jobs_customer_history', table_name='maintenance_jobs', schema='jobs')
    op.drop_table('maintenance_jobs', schema='jobs')
    drop_kit_tables(SCHEMA)
