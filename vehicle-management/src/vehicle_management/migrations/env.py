from service_kit.migrations import run_migrations
from vehicle_management.models import db

run_migrations(db.metadata)
