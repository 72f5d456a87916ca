from service_kit.migrations import run_migrations
from workshop_scheduling.models import db

run_migrations(db.metadata)
