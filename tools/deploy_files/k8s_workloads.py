"""k8s/base/<service>.yaml: a service's account, Service, Deployments, autoscaler,
disruption budget, migration Job, CronJobs and network policies."""

from __future__ import annotations

from typing import Any

from services import Service

from .k8s_pods import (
    JOB_RESOURCES,
    SKIP_DIGEST,
    SKIP_NO_HTTP_PROBES,
    SKIP_PULL_ALWAYS,
    SKIP_SECRET_ENV,
    WEB_RESOURCES,
    WORKER_RESOURCES,
    container,
    labels,
    pod_spec,
    skips,
)
from .k8s_policies import network_policies


def k8s_service(service: Service) -> list[dict[str, Any]]:
    s = service
    web_labels = labels(s, "web")
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 2}
    web = container(s, "web", s.gunicorn, WEB_RESOURCES)
    web.update(
        ports=[{"name": "http", "containerPort": s.port, "protocol": "TCP"}],
        startupProbe={**probe, "periodSeconds": 2, "failureThreshold": 30},
        livenessProbe={**probe, "periodSeconds": 10, "failureThreshold": 3},
        readinessProbe={
            "httpGet": {"path": "/readyz", "port": "http"},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        },
        # Let the Service stop sending before gunicorn stops accepting.
        lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}},
    )
    web_skips = skips(SKIP_DIGEST, SKIP_SECRET_ENV, SKIP_PULL_ALWAYS)
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": s.name, "labels": {"app.kubernetes.io/name": s.name}},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": s.name, "labels": web_labels},
            "spec": {
                "selector": web_labels,
                "ports": [{"name": "http", "port": s.port, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": s.name, "labels": web_labels, "annotations": web_skips},
            "spec": {
                # No replicas: the HorizontalPodAutoscaler owns the count.
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": web_labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {
                    "metadata": {"labels": web_labels},
                    "spec": pod_spec(
                        s,
                        [web],
                        terminationGracePeriodSeconds=30,
                        topologySpreadConstraints=[
                            {
                                "maxSkew": 1,
                                "topologyKey": "kubernetes.io/hostname",
                                "whenUnsatisfiable": "ScheduleAnyway",
                                "labelSelector": {"matchLabels": web_labels},
                            }
                        ],
                    ),
                },
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": s.name, "labels": web_labels},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": s.name},
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": s.name, "labels": web_labels},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": web_labels}},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": f"{s.name}-migrate",
                "labels": labels(s, "migrate"),
                "annotations": skips(SKIP_DIGEST, SKIP_SECRET_ENV, SKIP_PULL_ALWAYS),
            },
            "spec": {
                "backoffLimit": 6,
                "activeDeadlineSeconds": 900,
                # Gone ten minutes after it finished, so the next `kubectl apply` (a new image)
                # creates it again instead of failing on an immutable Job.
                "ttlSecondsAfterFinished": 600,
                "template": {
                    "metadata": {"labels": labels(s, "migrate")},
                    "spec": pod_spec(
                        s,
                        [container(s, "migrate", s.flask("migrate"), JOB_RESOURCES)],
                        restartPolicy="Never",
                    ),
                },
            },
        },
    ]
    for process in s.processes:
        process_labels = labels(s, process.name)
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": f"{s.name}-{process.name}",
                    "labels": process_labels,
                    "annotations": skips(
                        SKIP_DIGEST, SKIP_SECRET_ENV, SKIP_PULL_ALWAYS, *SKIP_NO_HTTP_PROBES
                    ),
                },
                "spec": {
                    # One is enough: rows are claimed with SKIP LOCKED, so a second during a
                    # rollout never sends a row twice at the same time.
                    "replicas": 1,
                    "revisionHistoryLimit": 5,
                    "selector": {"matchLabels": process_labels},
                    "template": {
                        "metadata": {"labels": process_labels},
                        "spec": pod_spec(
                            s,
                            [container(s, process.name, s.flask(*process.command), WORKER_RESOURCES)],
                            terminationGracePeriodSeconds=30,
                        ),
                    },
                },
            }
        )
    for schedule in s.schedules:
        schedule_labels = labels(s, schedule.name)
        docs.append(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {
                    "name": f"{s.name}-{schedule.name}",
                    "labels": schedule_labels,
                    "annotations": skips(SKIP_DIGEST, SKIP_SECRET_ENV, SKIP_PULL_ALWAYS),
                },
                "spec": {
                    "schedule": schedule.schedule,
                    "timeZone": schedule.timezone,
                    "concurrencyPolicy": "Forbid",
                    "startingDeadlineSeconds": 3600,
                    "successfulJobsHistoryLimit": 3,
                    "failedJobsHistoryLimit": 3,
                    "jobTemplate": {
                        "spec": {
                            "backoffLimit": 3,
                            "activeDeadlineSeconds": 3600,
                            "template": {
                                "metadata": {"labels": schedule_labels},
                                "spec": pod_spec(
                                    s,
                                    [container(s, schedule.name, s.flask(*schedule.command), JOB_RESOURCES)],
                                    restartPolicy="Never",
                                ),
                            },
                        }
                    },
                },
            }
        )
    docs += network_policies(s)
    return docs
