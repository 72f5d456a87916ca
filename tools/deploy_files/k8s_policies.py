"""The NetworkPolicies: each service's (who may call it, whom it may call) and the
namespace-wide default deny with DNS allowed."""

from __future__ import annotations

from typing import Any

from services import BY_NAME, Service, callers, talks_to

from .facts import INGRESS_NAMESPACE, REDIS_PORT
from .k8s_pods import labels, port


def network_policies(s: Service) -> list[dict[str, Any]]:
    """Who may call this service's web pods, and whom its pods may call (ARCHITECTURE.md)."""
    ingress: list[dict[str, Any]] = [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": INGRESS_NAMESPACE}}}
            ],
            "ports": [port(s.port)],
        }
    ]
    if callers(s.name):
        ingress.append(
            {
                "from": [
                    {"podSelector": {"matchLabels": {"app.kubernetes.io/name": caller.name}}}
                    for caller in callers(s.name)
                ],
                "ports": [port(s.port)],
            }
        )
    egress: list[dict[str, Any]] = [
        {"ports": [port(5432)]},  # the database, in the cluster or outside
        {"ports": [port(443)]},  # the identity provider: its JWKS, and service tokens
    ]
    egress += [
        {
            "to": [{"podSelector": {"matchLabels": labels(BY_NAME[peer], "web")}}],
            "ports": [port(BY_NAME[peer].port)],
        }
        for peer in talks_to(s)
    ]
    policies: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{s.name}-web"},
            "spec": {
                "podSelector": {"matchLabels": labels(s, "web")},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                # The rate limiter's shared counters (RATE_LIMIT_STORAGE_URL, Redis) in production.
                "egress": [{"ports": [port(REDIS_PORT)]}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{s.name}-egress"},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": s.name}},
                "policyTypes": ["Egress"],
                "egress": egress,
            },
        },
    ]
    by_component: dict[str, list[int]] = {}
    for rule in s.egress:
        by_component.setdefault(rule.component, []).extend(rule.ports)
    for component, ports in by_component.items():
        policies.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {
                    "name": f"{s.name}-{component}-external",
                    "annotations": {
                        "garage/why": "; ".join(r.why for r in s.egress if r.component == component)
                    },
                },
                "spec": {
                    "podSelector": {"matchLabels": labels(s, component)},
                    "policyTypes": ["Egress"],
                    "egress": [{"ports": [port(p) for p in ports]}],
                },
            }
        )
    return policies


def common_policies() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-dns"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        },
    ]
