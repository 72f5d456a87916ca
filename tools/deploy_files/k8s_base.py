"""k8s/base: the Ingress and the kustomization with each service's ConfigMap."""

from __future__ import annotations

from typing import Any

from services import Service

from .facts import DATABASE, peer_urls


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


def service_config(s: Service) -> dict[str, Any]:
    literals = {"PORT": str(s.port), "DB_USER": s.role, **peer_urls(s), **s.worker_settings, **s.settings}
    return {"name": f"{s.name}-config", "literals": [f"{k}={v}" for k, v in literals.items()]}


def base_kustomization(services: list[Service]) -> dict[str, Any]:
    common = {
        "GARAGE_ENV": "development",
        "LOG_LEVEL": "INFO",
        "DB_HOST": "postgres",
        "DB_PORT": "5432",
        "DB_NAME": DATABASE,
        "DB_SSLMODE": "prefer",
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
            *(service_config(s) for s in services),
        ],
    }
