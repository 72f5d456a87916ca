"""`make compose-env`: random secrets for `docker compose up`, in `.env` beside
docker-compose.yml (compose reads it; readable by you only).

    python tools/compose_env.py

docker-compose.yml takes every password and secret from a variable with a development
default: the PostgreSQL passwords (POSTGRES_PASSWORD, <SERVICE>_DB_PASSWORD), each
service's client secret at identity (<SERVICE>_CLIENT_SECRET, given to identity and to
the service; the staff console's too), identity's IDENTITY_KEY_ENCRYPTION_KEY and the
console's CONSOLE_SECRET_KEY. This writes a random value for
each one `.env` does not set yet and keeps the others. Run it before the first
`docker compose up`: the database passwords are set when PostgreSQL's volume is made,
and identity encrypts its signing keys with the key-encryption key it first had (after
that, `docker compose down --volumes` starts afresh). The client secrets may change at
any time (`docker compose up` again gives identity and the services the new ones).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_FILE = ROOT / ".env"
SECRET = re.compile(r"\$\{(\w+(?:_PASSWORD|_SECRET|_SECRET_KEY|_ENCRYPTION_KEY)):-[^}]*\}")


def new_value(name: str) -> str:
    if name.endswith("_ENCRYPTION_KEY"):  # a Fernet key
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_hex(24)  # hex: safe inside a DATABASE_URL


def main() -> int:
    wanted = sorted(set(SECRET.findall(COMPOSE.read_text())))
    lines = ENV_FILE.read_text().splitlines() if ENV_FILE.exists() else []
    have = {line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.startswith("#")}
    added = [name for name in wanted if name not in have]
    lines += [f"{name}={new_value(name)}" for name in added]
    descriptor = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(ENV_FILE, 0o600)
    kept = len(wanted) - len(added)
    sys.stdout.write(f"{ENV_FILE.name}: {len(added)} secrets made, {kept} kept\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
