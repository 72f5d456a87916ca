"""vehicles, ownerships and odometer readings

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 17:44:11.524336
"""
from alembic import op
import sqlalchemy as sa

from service_kit.migrations import create_kit_tables, drop_kit_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "vehicles"


def upgrade() -> None:
    op.create_table('vehicles',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('owner_id', sa.UUID(), nullable=False),
    sa.Column('plate', sa.String(length=20), nullable=False),
    sa.Column('plate_normalised', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=True),
    sa.Column('make', sa.String(length=60), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('fuel_type', sa.String(length=16), nullable=True),
    sa.Column('colour', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('odometer_value', sa.Integer(), nullable=True),
    sa.Column('odometer_unit', sa.String(length=2), nullable=True),
    sa.Column('odometer_read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deregistered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("odometer_unit IS NULL OR odometer_unit IN ('km', 'mi')", name=op.f('ck_vehicles_odometer_unit')),
    sa.CheckConstraint("status IN ('active', 'deregistered')", name=op.f('ck_vehicles_status')),
    sa.CheckConstraint("vin IS NULL OR vin ~ '^[A-HJ-NPR-Z0-9]{17}$'", name=op.f('ck_vehicles_vin_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicles')),
    schema='vehicles'
    )
    op.create_index('ix_vehicles_owner_id', 'vehicles', ['owner_id'], unique=False, schema='vehicles')
    op.create_index('uq_vehicles_active_plate', 'vehicles', ['plate_normalised', 'country'], unique=True, schema='vehicles', postgresql_where=sa.text("status = 'active'"))
    op.create_index('uq_vehicles_vin', 'vehicles', ['vin'], unique=True, schema='vehicles', postgresql_where=sa.text('vin IS NOT NULL'))
    create_kit_tables(SCHEMA)
    op.create_table('odometer_readings',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('vehicle_id', sa.UUID(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=2), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('corrected', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('workshop', 'customer', 'inspection', 'import', 'other')", name=op.f('ck_odometer_readings_source')),
    sa.CheckConstraint("unit IN ('km', 'mi')", name=op.f('ck_odometer_readings_unit')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_odometer_readings_value')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.vehicles.id'], name=op.f('fk_odometer_readings_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_odometer_readings')),
    schema='vehicles'
    )
    op.create_index('ix_odometer_readings_vehicle_read_at', 'odometer_readings', ['vehicle_id', 'read_at'], unique=False, schema='vehicles')
    op.create_table('ownerships',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('vehicle_id', sa.UUID(), nullable=False),
    sa.Column('owner_id', sa.UUID(), nullable=False),
    sa.Column('owned_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owned_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('owned_until IS NULL OR owned_until >= owned_from', name=op.f('ck_ownerships_period')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.vehicles.id'], name=op.f('fk_ownerships_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownerships')),
    schema='vehicles'
    )
    op.create_index('ix_ownerships_owner_id', 'ownerships', ['owner_id'], unique=False, schema='vehicles')
    op.create_index('ix_ownerships_vehicle_owned_from', 'ownerships', ['vehicle_id', 'owned_from'], unique=False, schema='vehicles')
    op.create_index('uq_ownerships_current', 'ownerships', ['vehicle_id'], unique=True, schema='vehicles', postgresql_where=sa.text('owned_until IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_ownerships_current', table_name='ownerships', schema='vehicles', postgresql_where=sa.text('owned_until IS NULL'))
    op.drop_index('ix_ownerships_vehicle_owned_from', table_name='ownerships', schema='vehicles')
    op.drop_index('ix_ownerships_owner_id', table_name='ownerships', schema='vehicles')
    op.drop_table('ownerships', schema='vehicles')
    op.drop_index('ix_odometer_readings_vehicle_read_at', table_name='odometer_readings', schema='vehicles')
    op.drop_table('odometer_readings', schema='vehicles')
    drop_kit_tables(SCHEMA)
    op.drop_index('uq_vehicles_vin', table_name='vehicles', schema='vehicles', postgresql_where=sa.text('vin IS NOT NULL'))
    op.drop_index('uq_vehicles_active_plate', table_name='vehicles', schema='vehicles', postgresql_where=sa.text("status = 'active'"))
    op.drop_index('ix_vehicles_owner_id', table_name='vehicles', schema='vehicles')
    op.drop_table('vehicles', schema='vehicles')
