"""Every overlay renders and validates strictly against a pinned Kubernetes API; checkov
finds nothing wrong in the Dockerfiles and the rendered manifests; compose parses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import services
import yaml
from deploy_files import facts as deploy
from deploy_testing import BIN, CI, KUBERNETES_VERSION, OVERLAYS, ROOT, kind, tool, unavailable

WEB_KINDS = ("ServiceAccount", "Service", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_service(
    rendered: dict[str, list[dict[str, Any]]], deployed: list[services.Service], overlay: str
) -> None:
    documents = rendered[overlay]
    for s in deployed:
        for wanted in WEB_KINDS:
            assert s.name in kind(documents, wanted), f"{overlay}: no {wanted} {s.name}"
        assert f"{s.name}-migrate" in kind(documents, "Job")
        for process in s.processes:
            assert f"{s.name}-{process.name}" in kind(documents, "Deployment")
        for schedule in s.schedules:
            assert f"{s.name}-{schedule.name}" in kind(documents, "CronJob")
    assert set(kind(documents, "Ingress")) == {"garage"}
    namespaces = {doc["metadata"].get("namespace") for doc in documents if doc["kind"] != "Namespace"}
    assert namespaces == {"garage-dev" if overlay == "dev" else "garage"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_strictly_against_the_pinned_kubernetes_api(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    try:
        import kubernetes_validate
    except ImportError:
        unavailable("kubernetes-validate is not installed; `make test` installs it")
    errors = []
    for doc in rendered[overlay]:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


def test_pods_run_unprivileged_with_probes_and_resources(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for overlay, documents in rendered.items():
        for doc in documents:
            spec = pod_spec(doc)
            if spec is None:
                continue
            where = f"{overlay} {doc['kind']}/{doc['metadata']['name']}"
            assert spec["securityContext"]["runAsNonRoot"] is True, where
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert spec["automountServiceAccountToken"] is False, where
            for container in spec["containers"]:
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, where
                assert security["allowPrivilegeEscalation"] is False, where
                assert security["capabilities"]["drop"] == ["ALL"], where
                assert {"requests", "limits"} <= set(container["resources"]), where
                if doc["kind"] == "Deployment" and container["name"] == "web":
                    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
                    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
        return doc["spec"]["template"]["spec"]
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def test_nothing_secret_is_committed(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for overlay, documents in rendered.items():
        assert not kind(documents, "Secret"), f"{overlay} renders a Secret: the operator creates them"


def checkov(*arguments: str) -> list[dict[str, Any]]:
    executable = tool("checkov", BIN.parent / "checkov" / "bin" / "checkov")
    result = subprocess.run(
        [executable, "--skip-download", "--compact", "--output", "json", *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-3000:]}"
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def test_checkov_passes_the_dockerfiles_and_the_rendered_manifests(
    rendered: dict[str, list[dict[str, Any]]], deployed: list[services.Service], tmp_path: Path
) -> None:
    files = []
    for overlay, documents in rendered.items():
        path = tmp_path / f"{overlay}.yaml"
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
        files += ["--file", str(path)]
    files += [arg for s in deployed for arg in ("--file", str(s.folder / "Dockerfile"))]
    # The compose stand-ins for the third-party images (deploy/standins/).
    files += [arg for _, dockerfile in deploy.STANDINS.values() for arg in ("--file", str(ROOT / dockerfile))]
    reports = checkov(*files, "--framework", "kubernetes", "dockerfile")
    assert {report["check_type"] for report in reports} == {"kubernetes", "dockerfile"}
    failed, unjustified = [], []
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0, report["summary"]
        assert report["summary"]["passed"] > 0
        for check in report["results"]["failed_checks"]:
            failed.append(
                f"{check['check_id']} {check['check_name']}: {check['resource']} ({check['file_path']})"
            )
        for check in report["results"]["skipped_checks"]:
            # Each skip carries its reason: an annotation's text or the Dockerfile comment's.
            if len(check["check_result"].get("suppress_comment") or "") < 30:
                unjustified.append(f"{check['check_id']} on {check['resource']}")
    assert not failed, "checkov failed:\n" + "\n".join(failed)
    assert not unjustified, "skipped without a reason:\n" + "\n".join(unjustified)


@pytest.mark.parametrize(
    "files", [("docker-compose.yml",), ("docker-compose.yml", "docker-compose.local.yml")], ids=["", "local"]
)
def test_compose_file_is_valid_for_docker_compose(files: tuple[str, ...]) -> None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        command = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose"]
    else:
        unavailable(
            "neither `docker compose` nor docker-compose is installed (apt-get install docker-compose)"
        )
    result = subprocess.run(
        [*command, *(flag for name in files for flag in ("--file", str(ROOT / name))), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "WARN" not in result.stderr or not CI, result.stderr
