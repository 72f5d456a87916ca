"""k8s/base: the Ingress and the kustomization with each service's ConfigMap."""

from __future__ import annotations

from typing import Any

from services import BY_NAME, Service, service_clients, trusting_identity

from .facts import DATABASE, INGRESS_PORT, peer_urls

# The address browsers reach a development cluster's ingress at (e.g. through
# `kubectl port-forward`): identity's issuer. The operator sets the public one.
DEV_ISSUER = f"http://localhost:{INGRESS_PORT}"


def ingress(services: list[Service]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "garage",
            "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "10m"},
        },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": prefix,
                                "pathType": "Prefix",
                                "backend": {"service": {"name": s.name, "port": {"name": "http"}}},
                            }
                            for s in services
                            for prefix in (*s.prefixes, *s.public_paths)
                        ]
                    }
                }
            ],
        },
    }


def service_config(s: Service, services: list[Service]) -> dict[str, Any]:
    literals = {
        "PORT": str(s.port),
        "DB_USER": s.role,
        **peer_urls(s),
        **s.worker_settings,
        **s.deployed_settings,
    }
    identity = BY_NAME["identity"]
    if identity in services:
        if s.signs_in_people:  # the console's server reaches identity in the cluster
            literals["IDENTITY_INTERNAL_URL"] = f"http://{identity.name}:{identity.port}"
        if s.client:  # it asks identity for its own tokens under its name
            literals["SERVICE_CLIENT_ID"] = s.name
        if s.called_by_all:  # identity: its clients, each secret in the client's own Secret
            literals["IDENTITY_SERVICE_CLIENTS"] = ",".join(c.name for c in service_clients(services))
    return {"name": f"{s.name}-config", "literals": [f"{k}={v}" for k, v in literals.items()]}


def identity_config(services: list[Service]) -> dict[str, str]:
    """With identity deployed, every service trusts its tokens: the key set and the token
    endpoint in the cluster, the issuer the public address (the same value twice: identity
    names it in its tokens, the services check it)."""
    identity = BY_NAME["identity"]
    if identity not in services:
        return {}
    return {
        "IDENTITY_ISSUER": DEV_ISSUER,
        **trusting_identity(f"http://{identity.name}:{identity.port}", DEV_ISSUER),
        # The address people reach an app at (the staff console's CONSOLE_URL: the same host,
        # served at /); identity allows its callback there. The operator sets the public one.
        **{s.ingress_url_var: DEV_ISSUER for s in services if s.signs_in_people},
        # The customer portal's public address, under the same host: the portal reads it, and
        # the services that issue its links put it in their messages.
        **{s.ingress_url_var: DEV_ISSUER + s.mounted_at for s in services if s.portal},
    }


def base_kustomization(services: list[Service]) -> dict[str, Any]:
    common = {
        "GARAGE_ENV": "development",
        "LOG_LEVEL": "INFO",
        "DB_HOST": "postgres",
        "DB_PORT": "5432",
        "DB_NAME": DATABASE,
        "DB_SSLMODE": "prefer",
        **identity_config(services),
    }
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "labels": [
            {
                "pairs": {"app.kubernetes.io/part-of": "garage"},
                "includeSelectors": False,
                "includeTemplates": True,
            }
        ],
        "resources": ["network-policies.yaml", "ingress.yaml", *(f"{s.name}.yaml" for s in services)],
        "configMapGenerator": [
            {"name": "garage-config", "literals": [f"{k}={v}" for k, v in common.items()]},
            *(service_config(s, services) for s in services),
        ],
    }
