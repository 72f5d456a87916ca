from service_kit.migrations import run_migrations
from staff_console.models import db

run_migrations(db.metadata)
