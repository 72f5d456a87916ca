"""The deployment files, each made from the service list in tools/services.py.

facts (what every file agrees on), dockerfiles, compose (docker-compose.yml and its
nginx ingress), scripts (the database's roles and schemas, the dev cluster's Secrets),
the Kubernetes manifests (k8s_pods, k8s_workloads, k8s_policies, k8s_base,
k8s_overlays) and files (every path with its content, written or checked).
The command is tools/deployment.py (make deploy-files).
"""
