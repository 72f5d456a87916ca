"""Each service's Dockerfile: deploy/image/Dockerfile.template filled in."""

from __future__ import annotations

from services import ROOT, Service

from .facts import NOTICE, UID, image, project

DOCKERFILE_TEMPLATE = ROOT / "deploy" / "image" / "Dockerfile.template"


def dockerfile(service: Service) -> str:
    description = project(service).get("description", "")
    commands = ", ".join(
        "`" + " ".join(service.flask(*c)) + "`"
        for c in [
            ("migrate",),
            *(p.command for p in service.processes),
            *(s.command for s in service.schedules),
        ]
    )
    values = {
        "name": service.name,
        "description": description,
        "notice": NOTICE,
        "image": image(service),
        "uid": str(UID),
        "port": str(service.port),
        "package": service.package,
        "commands": commands,
    }
    text = DOCKERFILE_TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text
