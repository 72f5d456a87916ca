#!/bin/sh
# The official image's start, as far as docker-compose.yml uses it: at the first start a
# cluster in $PGDATA with POSTGRES_USER (password POSTGRES_PASSWORD) and POSTGRES_DB, then
# every /docker-entrypoint-initdb.d/*.sh run against it (deploy/postgres/init-garage.sh);
# then the server on every address, passwords required over TCP.
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
export POSTGRES_USER POSTGRES_DB

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password_file="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$password_file"
    initdb --username "$POSTGRES_USER" --pwfile "$password_file" --auth-local trust \
        --auth-host scram-sha-256 --encoding UTF8 --locale C.UTF-8 >/dev/null
    rm -f "$password_file"
    printf '%s\n' "host all all 0.0.0.0/0 scram-sha-256" "host all all ::/0 scram-sha-256" \
        >> "$PGDATA/pg_hba.conf"
    # Sockets only while the init scripts run: nobody connects before they are done.
    pg_ctl --wait --silent --options "-c listen_addresses=''" start
    psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
    for script in /docker-entrypoint-initdb.d/*.sh; do
        [ -e "$script" ] || continue
        echo "garage-postgres: running $script"
        sh "$script"
    done
    pg_ctl --wait --silent --mode fast stop
fi
exec postgres -c listen_addresses='*'
