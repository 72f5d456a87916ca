"""The shell scripts: the database's roles and schemas, and the dev cluster's Secrets."""

from __future__ import annotations

from services import Service

from .facts import NOTICE
from .k8s_pods import client_secret_name


def init_script(services: list[Service]) -> str:
    extensions = sorted({extension for s in services for extension in s.extensions})
    lines = [
        "#!/bin/sh",
        f"# {NOTICE}",
        "# One schema and one login role per service; each role owns its own schema and has no",
        "# rights on any other. Run as a PostgreSQL superuser: by the postgres image at its first",
        "# start (docker-entrypoint-initdb.d), or by hand against any server, e.g.",
        "#   PGHOST=db.internal PGUSER=admin PGDATABASE=garage \\",
        "#   CUSTOMER_MANAGEMENT_DB_PASSWORD=... sh deploy/postgres/init-garage.sh",
        "# It can run again: after a new service joins, or to change a password.",
        "set -eu",
        'database="${PGDATABASE:-${POSTGRES_DB:-garage}}"',
        'admin="${PGUSER:-${POSTGRES_USER:-postgres}}"',
        "",
        "run_sql() {",
        '    psql -X -q -v ON_ERROR_STOP=1 --username "$admin" --dbname "$database" "$@"',
        "}",
        "",
        "# Nobody but the service roles connects; nobody creates objects in schema public, which",
        "# holds only the extensions the migrations expect.",
        "run_sql <<'SQL'",
        "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())",
        "\\gexec",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        *(f"CREATE EXTENSION IF NOT EXISTS {extension} WITH SCHEMA public;" for extension in extensions),
        "SQL",
        "",
        "# service_role ROLE SCHEMA PASSWORD",
        "# CREATE on the database only because the migrations say `CREATE SCHEMA IF NOT EXISTS`,",
        "# which PostgreSQL authorises before it sees that the schema exists.",
        "service_role() {",
        '    run_sql -v role="$1" -v schema="$2" -v password="$3" <<\'SQL\'',
        "SELECT format('CREATE ROLE %I', :'role')",
        "    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')",
        "\\gexec",
        "SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',",
        "              :'role', :'password')",
        "\\gexec",
        "SELECT format('GRANT CONNECT, TEMPORARY, CREATE ON DATABASE %I TO %I', current_database(), :'role')",
        "\\gexec",
        "SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'role')",
        "\\gexec",
        "SELECT format('ALTER SCHEMA %I OWNER TO %I', :'schema', :'role')",
        "\\gexec",
        "SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'schema')",
        "\\gexec",
        "SQL",
        "}",
        "",
    ]
    for s in services:
        variable = f"{s.env_prefix}_DB_PASSWORD"
        lines.append(f'service_role {s.role} {s.schema} "${{{variable}:?set {variable}}}"')
    return "\n".join(lines) + "\n"


def dev_secrets_script(services: list[Service]) -> str:
    lines = [
        "#!/bin/sh",
        f"# {NOTICE}",
        "# Creates the Secrets that k8s/overlays/dev expects, with random passwords and client",
        "# secrets (each service's at identity), and leaves any that exist alone:",
        "#   sh deploy/k8s-dev-secrets.sh [NAMESPACE]   (default garage-dev)",
        "set -eu",
        'namespace="${1:-garage-dev}"',
        'kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"',
        "",
        "password() {  # hex: safe inside a DATABASE_URL",
        "    od -An -N24 -tx1 /dev/urandom | tr -d ' \\n'",
        "}",
        "fernet_key() {  # 32 random bytes, URL-safe base64: identity's key-encryption key",
        "    head -c 32 /dev/urandom | base64 | tr '+/' '-_'",
        "}",
        "secret() {",
        '    name="$1"',
        "    shift",
        '    if kubectl -n "$namespace" get secret "$name" >/dev/null 2>&1; then',
        '        echo "secret/$name exists, kept"',
        "    else",
        '        kubectl -n "$namespace" create secret generic "$name" "$@"',
        "    fi",
        "}",
        "",
        'secret postgres-secrets --from-literal=POSTGRES_PASSWORD="$(password)"',
    ]
    for s in services:
        extra = ""
        if "IDENTITY_KEY_ENCRYPTION_KEY" in s.secrets:
            extra = ' --from-literal=IDENTITY_KEY_ENCRYPTION_KEY="$(fernet_key)"'
        signing = [key for key in s.secrets if key.endswith("_SECRET_KEY")]  # a session or CSRF key
        extra += "".join(f' --from-literal={key}="$(password)"' for key in signing)
        lines.append(f'secret {s.name}-secrets --from-literal=DB_PASSWORD="$(password)"{extra}')
    if any(s.called_by_all for s in services):  # identity: each service's client secret
        for s in services:
            if s.identity_client:
                lines.append(
                    f'secret {client_secret_name(s)} --from-literal={s.client_secret_key}="$(password)"'
                )
    return "\n".join(lines) + "\n"
