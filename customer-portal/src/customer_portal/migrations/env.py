from customer_portal.models import db
from service_kit.migrations import run_migrations

run_migrations(db.metadata)
