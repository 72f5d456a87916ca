"""docker-compose.yml and the nginx configuration of its ingress."""

from __future__ import annotations

import re
from typing import Any

from services import BY_NAME, CALLBACK_PATH, Service, service_clients, trusting_identity

from service_kit.links import PURPOSES

from .facts import (
    DATABASE,
    INGRESS_PORT,
    LOCAL_BASE,
    MAILPIT_IMAGE,
    NGINX_IMAGE,
    NOTICE,
    POSTGRES_IMAGE,
    STANDINS,
    image,
    peer_urls,
)

# The portal's pages a link opens (/portal/<page>/<token>).
LINK_PAGES = sorted(set(PURPOSES.values()))
# The address browsers reach the ingress at: identity's issuer.
INGRESS_URL = f"http://localhost:${{GARAGE_PORT:-{INGRESS_PORT}}}"


def client_secret(s: Service) -> str:
    """A service's client secret at identity: from the environment or .env (`make compose-env`
    writes random ones), else a development default."""
    return f"${{{s.client_secret_var}:-{s.name}-client-dev}}"


def identity_settings(s: Service, services: list[Service]) -> dict[str, str]:
    """With identity deployed: each of the six trusts its tokens (the key set fetched from
    identity on compose's network, the issuer the ingress address) and asks it for its own
    as a client of its own; identity is told each client's secret."""
    identity = BY_NAME["identity"]
    if identity not in services:
        return {}
    clients = [c for c in services if c.client]
    apps = [c for c in services if c.signs_in_people]
    if s is identity:
        return {
            "IDENTITY_SERVICE_CLIENTS": ",".join(c.name for c in service_clients(services)),
            **{c.client_secret_var: client_secret(c) for c in [*clients, *apps]},
            # The console's callback: where identity may send a person back after sign-in.
            **({"CONSOLE_REDIRECT_URIS": f"{INGRESS_URL}{CALLBACK_PATH}"} if apps else {}),
            # Encrypts its signing keys at rest; unset, identity's development key does.
            "IDENTITY_KEY_ENCRYPTION_KEY": "${IDENTITY_KEY_ENCRYPTION_KEY:-}",
        }
    if s.signs_in_people:
        # People sign in at identity's public address (the issuer, through the ingress); the
        # console's server reaches identity on compose's network.
        return {
            "IDENTITY_ISSUER": INGRESS_URL,
            "IDENTITY_INTERNAL_URL": f"http://{identity.name}:{identity.port}",
            s.client_secret_var: client_secret(s),
        }
    if not s.client:
        return {}
    return {
        **trusting_identity(f"http://{identity.name}:{identity.port}", INGRESS_URL),
        "SERVICE_CLIENT_ID": s.name,
        "SERVICE_CLIENT_SECRET": client_secret(s),
    }


def compose(services: list[Service]) -> dict[str, Any]:
    hardening = {
        "read_only": True,
        "tmpfs": ["/tmp"],  # nosec B108 - the container's own /tmp: a tmpfs under a read-only root
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }
    entries: dict[str, Any] = {
        "postgres": {
            "image": POSTGRES_IMAGE,
            "environment": {
                "POSTGRES_DB": DATABASE,
                "POSTGRES_USER": "postgres",
                "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:-garage-dev}",  # nosec B105 - a development default
                **{
                    f"{s.env_prefix}_DB_PASSWORD": f"${{{s.env_prefix}_DB_PASSWORD:-{s.name}-dev}}"
                    for s in services
                },
            },
            "volumes": [
                "pgdata:/var/lib/postgresql/data",
                "./deploy/postgres/init-garage.sh:/docker-entrypoint-initdb.d/10-garage.sh:ro",
            ],
            "healthcheck": {
                "test": ["CMD-SHELL", f"pg_isready --username postgres --dbname {DATABASE}"],
                "interval": "5s",
                "timeout": "3s",
                "retries": 30,
            },
            "restart": "unless-stopped",
        },
        "mailpit": {
            "image": MAILPIT_IMAGE,
            "ports": ["127.0.0.1:${MAILPIT_PORT:-8025}:8025"],
            "restart": "unless-stopped",
        },
    }
    for s in services:
        environment = {
            "GARAGE_ENV": "development",
            "LOG_LEVEL": "${LOG_LEVEL:-INFO}",
            "DATABASE_URL": f"postgresql://{s.role}:${{{s.env_prefix}_DB_PASSWORD:-{s.name}-dev}}"
            f"@postgres:5432/{DATABASE}",
            "PORT": str(s.port),
            **peer_urls(s),
            **s.worker_settings,
            **s.deployed_settings,
        }
        if s.ingress_url_var:
            environment[s.ingress_url_var] = INGRESS_URL + s.mounted_at
        portal = next((p for p in services if p.portal), None)
        if s.issues_links and portal is not None:  # the links in its messages open the portal
            environment[portal.ingress_url_var] = INGRESS_URL + portal.mounted_at
        # Keys it needs beyond the development defaults: from .env (`make compose-env`), else
        # empty and the development default.
        environment.update({key: f"${{{key}:-}}" for key in s.secrets if key.endswith("_SECRET_KEY")})
        environment.update(identity_settings(s, services))
        migrated = {f"{s.name}-migrate": {"condition": "service_completed_successfully"}}
        entries[f"{s.name}-migrate"] = {
            "image": image(s),
            "build": {"context": ".", "dockerfile": f"{s.name}/Dockerfile"},
            "command": list(s.flask("migrate")),
            "environment": environment,
            "depends_on": {"postgres": {"condition": "service_healthy"}},
            "restart": "no",
            **hardening,
        }
        entries[s.name] = {
            "image": image(s),
            "command": list(s.gunicorn),
            "environment": environment,
            "depends_on": migrated,
            "healthcheck": {
                "test": [
                    "CMD",
                    "python3",
                    "-c",
                    f"import urllib.request as u; u.urlopen('http://127.0.0.1:{s.port}/readyz', timeout=2)",
                ],
                "interval": "5s",
                "timeout": "3s",
                "retries": 30,
                "start_period": "10s",
            },
            "restart": "unless-stopped",
            **hardening,
        }
        for process in s.processes:
            entries[f"{s.name}-{process.name}"] = {
                "image": image(s),
                "command": list(s.flask(*process.command)),
                "environment": environment,
                "depends_on": {
                    **migrated,
                    **({"mailpit": {"condition": "service_started"}} if s.egress else {}),
                },
                # It serves no HTTP: the image's HEALTHCHECK (/healthz) is not for it.
                "healthcheck": {"disable": True},
                "restart": "unless-stopped",
                **hardening,
            }
    entries["ingress"] = {
        "image": NGINX_IMAGE,
        "ports": [f"${{GARAGE_PORT:-{INGRESS_PORT}}}:{INGRESS_PORT}"],
        "volumes": ["./deploy/nginx/garage.conf:/etc/nginx/conf.d/default.conf:ro"],
        "depends_on": {s.name: {"condition": "service_healthy"} for s in services},
        "restart": "unless-stopped",
    }
    return {"services": entries, "volumes": {"pgdata": {}}}


def compose_local(services: list[Service]) -> dict[str, Any]:
    """docker-compose.local.yml: the stack with no registry. The third-party images are
    replaced by stand-ins built from Debian packages on the Debian base (their builds reach
    the Debian mirror: the host's network), and the services' images build on that base
    from deploy/wheelhouse with no network (tools/images.py fills it)."""
    entries: dict[str, Any] = {
        name: {
            "image": standin,
            "build": {
                "context": ".",
                "dockerfile": dockerfile,
                "network": "host",
                "args": {"BASE_IMAGE": LOCAL_BASE},
            },
        }
        for name, (standin, dockerfile) in STANDINS.items()
    }
    for s in services:
        entries[f"{s.name}-migrate"] = {
            "build": {"network": "none", "args": {"BASE_IMAGE": LOCAL_BASE, "PIP_NO_INDEX": "1"}}
        }
    return {"services": entries}


def nginx(services: list[Service]) -> str:
    mounted = [s.mounted_at for s in services if s.mounted_at]
    lines = [
        f"# {NOTICE}",
        *(
            [
                "# A customer's link carries its token in the path (/portal/<page>/<token>): the access",
                "# log writes <token> in its place (docs/customer-portal.md).",
                "map $request_uri $garage_logged_uri {",
                *(
                    f"    ~^(?<kept>{re.escape(path)}/({'|'.join(LINK_PAGES)})/)[^/?]+(?<rest>.*)$ "
                    "$kept<token>$rest;"
                    for path in mounted
                ),
                "    default $request_uri;",
                "}",
                "log_format garage '$remote_addr - $remote_user [$time_local] "
                '"$request_method $garage_logged_uri $server_protocol" $status $body_bytes_sent '
                '"$http_user_agent"\';',
                "",
            ]
            if mounted
            else []
        ),
        "# The compose ingress: one port, /api/v1/<resource> routed to the service that owns it,",
        "# identity's sign-in, OpenID Connect endpoints and keys (/oauth, /.well-known), and the",
        "# staff console at / (every other path).",
        "# Upstreams are resolved per request through Docker's DNS, so the ingress starts (and",
        "# answers 502 for that prefix) while a service is still starting.",
        "server {",
        f"    listen {INGRESS_PORT};",
        *(["    access_log /var/log/nginx/access.log garage;"] if mounted else []),
        "    resolver 127.0.0.11 valid=10s ipv6=off;",
        "    client_max_body_size 10m;",
        "    proxy_set_header Host $host;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    proxy_connect_timeout 2s;",
        "    proxy_read_timeout 30s;",
        "",
    ]
    for s in (s for s in services if s.prefixes):
        alternatives = "|".join(re.escape(prefix.removeprefix("/api/v1/")) for prefix in s.prefixes)
        lines += [
            f"    location ~ ^/api/v1/({alternatives})(/|$) {{",
            f"        set $upstream {s.name}:{s.port};",
            "        proxy_pass http://$upstream;",
            "    }",
        ]
    for s in services:
        paths = [path for path in s.public_paths if path != "/"]
        if paths:
            alternatives = "|".join(re.escape(path.removeprefix("/")) for path in paths)
            lines += [
                f"    location ~ ^/({alternatives})(/|$) {{",
                f"        set $upstream {s.name}:{s.port};",
                "        proxy_pass http://$upstream;",
                "    }",
            ]
    at_root = [s for s in services if "/" in s.public_paths]
    not_found = [
        "        default_type application/problem+json;",
        '        return 404 \'{"type": "about:blank", "title": "Not Found", "status": 404, '
        '"detail": "no service answers this path"}\';',
        "    }",
    ]
    lines += ["", "    location /api/ {" if at_root else "    location / {", *not_found]
    for s in at_root:  # the staff console: every page outside the APIs and identity's paths
        lines += [
            "    location / {",
            f"        set $upstream {s.name}:{s.port};",
            "        proxy_pass http://$upstream;",
            "    }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"
