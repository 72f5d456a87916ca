"""What the Kubernetes pods share: labels, security contexts, containers, resources,
and the checkov checks they deliberately skip, with the reasons."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services import CALLBACK_PATH, SERVICES, Service

from .facts import UID, image

# An emptyDir as the container's /tmp: the root filesystem is read-only.
TMP_MOUNT = {"name": "tmp", "mountPath": "/tmp"}  # nosec B108 - a volume of the pod's own, not the node's /tmp

# Checks checkov reports that these manifests deliberately do not follow. Each is put on
# the resources it concerns as a `checkov.io/skipN` annotation carrying its reason.
SKIP_DIGEST = (
    "CKV_K8S_43",
    "images are tagged with the service version; a release pipeline that pushes to a registry "
    "pins digests with `kustomize edit set image`",
)
SKIP_SECRET_ENV = (
    "CKV_K8S_35",
    "the services read all configuration from environment variables (CONVENTIONS.md); the "
    "Secrets are referenced, never written into the manifests",
)
SKIP_PULL_ALWAYS = (
    "CKV_K8S_15",
    "images are immutable version tags, so IfNotPresent cannot run stale code and lets a dev "
    "cluster use images loaded from `make images`",
)
SKIP_NO_HTTP_PROBES = [
    (
        check,
        "this process serves no HTTP; if it dies the container exits and the kubelet restarts "
        "it, and its backlog is visible in the outbox/delivery endpoints and metrics",
    )
    for check in ("CKV_K8S_8", "CKV_K8S_9")
]
SKIP_POSTGRES_UID = (
    "CKV_K8S_40",
    "dev only: the official postgres image runs as its own postgres user (uid 70), which owns "
    "the data directory",
)


def labels(service: Service, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service.name, "app.kubernetes.io/component": component}


def skips(*reasons: tuple[str, str]) -> dict[str, str]:
    return {f"checkov.io/skip{i}": f"{check}={why}" for i, (check, why) in enumerate(reasons, 1)}


POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": UID,
    "runAsGroup": UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


def container(
    service: Service, name: str, command: Iterable[str], resources: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name,
        "image": image(service),
        "imagePullPolicy": "IfNotPresent",
        "command": list(command),
        "envFrom": [
            {"configMapRef": {"name": f"{service.name}-config"}},
            {"configMapRef": {"name": "garage-config"}},
            {"secretRef": {"name": f"{service.name}-secrets"}},
            # A client of identity's: SERVICE_CLIENT_SECRET, the one identity knows it by.
            # An app people sign in to: <SERVICE>_CLIENT_SECRET, the one identity knows it by.
            *([{"secretRef": {"name": client_secret_name(service)}}] if service.identity_client else []),
            # Settings every service shares that an operator keeps secret (a Redis URL with its
            # password for RATE_LIMIT_STORAGE_URL, JWT_PUBLIC_KEY, ...); it wins over the ConfigMaps.
            {"secretRef": {"name": "garage-secrets", "optional": True}},
        ],
        "env": [
            {
                "name": "DATABASE_URL",
                "value": "postgresql://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)"
                "?sslmode=$(DB_SSLMODE)",
            },
            *client_secrets(service),
        ],
        "resources": resources,
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [TMP_MOUNT],
    }


def client_secret_name(service: Service) -> str:
    """The Secret holding a service's client secret at identity (key SERVICE_CLIENT_SECRET),
    read by the service and by identity."""
    return f"{service.name}-client"


def client_secrets(service: Service) -> list[dict[str, Any]]:
    """identity reads each client's secret from that client's own Secret, and allows the
    console's callback at the address people reach it at (CONSOLE_URL, garage-config)."""
    if not service.called_by_all:
        return []
    clients = [c for c in SERVICES if c.identity_client and c.exists]
    return [
        *(
            {
                "name": c.client_secret_var,
                "valueFrom": {"secretKeyRef": {"name": client_secret_name(c), "key": c.client_secret_key}},
            }
            for c in clients
        ),
        *(
            {"name": "CONSOLE_REDIRECT_URIS", "value": f"$({c.ingress_url_var}){CALLBACK_PATH}"}
            for c in clients
            if c.signs_in_people
        ),
    ]


def pod_spec(service: Service, containers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "serviceAccountName": service.name,
        "automountServiceAccountToken": False,
        "securityContext": POD_SECURITY,
        **extra,
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}],
    }


WEB_RESOURCES = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
WORKER_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}
JOB_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}


def port(number: int) -> dict[str, Any]:
    return {"protocol": "TCP", "port": number}
