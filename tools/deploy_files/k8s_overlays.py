"""k8s/overlays: dev (its own PostgreSQL and mail catcher) and prod (the operator's settings)."""

from __future__ import annotations

from typing import Any

import yaml
from services import Service

from .facts import DATABASE, DEV_SMTP_PORT, MAILPIT_IMAGE, POSTGRES_IMAGE, POSTGRES_UID
from .k8s_pods import (
    CONTAINER_SECURITY,
    POD_SECURITY,
    SKIP_DIGEST,
    SKIP_POSTGRES_UID,
    SKIP_SECRET_ENV,
    TMP_MOUNT,
    labels,
    port,
    skips,
)


def dev_postgres(services: list[Service]) -> list[dict[str, Any]]:
    pg_labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}
    env = [
        {"name": "POSTGRES_DB", "value": DATABASE},
        {"name": "POSTGRES_USER", "value": "postgres"},
        {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        {
            "name": "POSTGRES_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "postgres-secrets", "key": "POSTGRES_PASSWORD"}},
        },
    ] + [
        {
            "name": f"{s.env_prefix}_DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": f"{s.name}-secrets", "key": "DB_PASSWORD"}},
        }
        for s in services
    ]
    probe = {
        "exec": {"command": ["pg_isready", "--username", "postgres", "--dbname", DATABASE]},
        "timeoutSeconds": 3,
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "postgres"},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "postgres", "labels": pg_labels},
            "spec": {
                "selector": pg_labels,
                "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": "postgres",
                "labels": pg_labels,
                "annotations": skips(SKIP_DIGEST, SKIP_SECRET_ENV, SKIP_POSTGRES_UID),
            },
            "spec": {
                "serviceName": "postgres",
                "replicas": 1,
                "selector": {"matchLabels": pg_labels},
                "template": {
                    "metadata": {"labels": pg_labels},
                    "spec": {
                        "serviceAccountName": "postgres",
                        "automountServiceAccountToken": False,
                        "securityContext": {
                            "runAsNonRoot": True,
                            "runAsUser": POSTGRES_UID,
                            "runAsGroup": POSTGRES_UID,
                            "fsGroup": POSTGRES_UID,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "containers": [
                            {
                                "name": "postgres",
                                "image": POSTGRES_IMAGE,
                                "imagePullPolicy": "Always",
                                "ports": [{"name": "postgres", "containerPort": 5432, "protocol": "TCP"}],
                                "env": env,
                                "readinessProbe": {**probe, "periodSeconds": 5},
                                "livenessProbe": {**probe, "periodSeconds": 15, "failureThreshold": 6},
                                "resources": {
                                    "requests": {"cpu": "250m", "memory": "256Mi"},
                                    "limits": {"cpu": "1", "memory": "1Gi"},
                                },
                                "securityContext": CONTAINER_SECURITY,
                                "volumeMounts": [
                                    {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                                    {
                                        "name": "init",
                                        "mountPath": "/docker-entrypoint-initdb.d",
                                        "readOnly": True,
                                    },
                                    {"name": "run", "mountPath": "/var/run/postgresql"},
                                    TMP_MOUNT,
                                ],
                            }
                        ],
                        "volumes": [
                            # Executable, so the image runs it rather than sourcing it.
                            {"name": "init", "configMap": {"name": "postgres-init", "defaultMode": 0o555}},
                            {"name": "run", "emptyDir": {}},
                            {"name": "tmp", "emptyDir": {}},
                        ],
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "5Gi"}},
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "postgres"},
            "spec": {
                "podSelector": {"matchLabels": pg_labels},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "garage"}}}],
                        "ports": [port(5432)],
                    }
                ],
            },
        },
    ]


def dev_mailpit(services: list[Service]) -> list[dict[str, Any]]:
    mp_labels = {"app.kubernetes.io/name": "mailpit", "app.kubernetes.io/component": "smtp"}
    senders = [labels(s, rule.component) for s in services for rule in s.egress if 25 in rule.ports]
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "mailpit"},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "mailpit", "labels": mp_labels},
            "spec": {
                "selector": mp_labels,
                "ports": [
                    {"name": "smtp", "port": DEV_SMTP_PORT, "targetPort": "smtp"},
                    {"name": "http", "port": 8025, "targetPort": "http"},
                ],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "mailpit", "labels": mp_labels, "annotations": skips(SKIP_DIGEST)},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": mp_labels},
                "template": {
                    "metadata": {"labels": mp_labels},
                    "spec": {
                        "serviceAccountName": "mailpit",
                        "automountServiceAccountToken": False,
                        "securityContext": POD_SECURITY,
                        "containers": [
                            {
                                "name": "mailpit",
                                "image": MAILPIT_IMAGE,
                                "imagePullPolicy": "Always",
                                "ports": [
                                    {"name": "smtp", "containerPort": DEV_SMTP_PORT, "protocol": "TCP"},
                                    {"name": "http", "containerPort": 8025, "protocol": "TCP"},
                                ],
                                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
                                "livenessProbe": {"httpGet": {"path": "/livez", "port": "http"}},
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "32Mi"},
                                    "limits": {"cpu": "200m", "memory": "128Mi"},
                                },
                                "securityContext": CONTAINER_SECURITY,
                                "volumeMounts": [TMP_MOUNT],
                            }
                        ],
                        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "mailpit"},
            "spec": {
                "podSelector": {"matchLabels": mp_labels},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": sender}} for sender in senders],
                        "ports": [port(DEV_SMTP_PORT)],
                    }
                ]
                if senders
                else [],
            },
        },
    ]
    for sender in senders:
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "-".join([*sender.values(), "mailpit"])},
                "spec": {
                    "podSelector": {"matchLabels": sender},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {"to": [{"podSelector": {"matchLabels": mp_labels}}], "ports": [port(DEV_SMTP_PORT)]}
                    ],
                },
            }
        )
    return docs


def namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            # The restricted Pod Security Standard: every pod here is non-root with no privileges.
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    }


def hpa_patch(minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "target": {"kind": "HorizontalPodAutoscaler"},
        "patch": yaml.safe_dump(
            [
                {"op": "replace", "path": "/spec/minReplicas", "value": minimum},
                {"op": "replace", "path": "/spec/maxReplicas", "value": maximum},
            ],
            sort_keys=False,
        ),
    }


def dev_kustomization(services: list[Service]) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "garage-dev",
        "resources": ["namespace.yaml", "../../base", "postgres.yaml", "mailpit.yaml"],
        "labels": [
            {
                "pairs": {"app.kubernetes.io/part-of": "garage"},
                "includeSelectors": False,
                "includeTemplates": True,
            }
        ],
        "configMapGenerator": [{"name": "postgres-init", "files": ["init-garage.sh"]}],
        "patches": [hpa_patch(1, 2)],
    }


def prod_kustomization(services: list[Service]) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "garage",
        "resources": ["namespace.yaml", "../../base"],
        # The operator's values (database host, identity provider, SMTP, ...): settings.env.
        "configMapGenerator": [{"name": "garage-config", "behavior": "merge", "envs": ["settings.env"]}],
        "patches": [
            hpa_patch(2, 10),
            {"path": "ingress-host.yaml", "target": {"kind": "Ingress", "name": "garage"}},
        ],
    }
