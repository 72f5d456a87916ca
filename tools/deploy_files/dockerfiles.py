"""Each service's Dockerfile: deploy/image/Dockerfile.template filled in."""

from __future__ import annotations

from services import ROOT, Service

from .facts import NOTICE, UID, image, project

DOCKERFILE_TEMPLATE = ROOT / "deploy" / "image" / "Dockerfile.template"


ASSETS_DIR = "/app/assets"


def assets(service: Service) -> str:
    """The lines that copy its browser files (installed on the host from the npm registry)
    into the image, and tell it where they are."""
    if not service.assets:
        return ""
    lines = [
        "# Its browser files, from the npm registry, installed on the host",
        f"# (`npm ci --prefix {service.name}`: make venv, tools/images.py). Nothing from a CDN.",
    ]
    lines += [f"COPY {service.name}/node_modules/{path} {ASSETS_DIR}/{path}" for path in service.assets]
    lines.append(f"ENV ASSETS_DIR={ASSETS_DIR}")
    return "\n".join(lines) + "\n"


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
    text = DOCKERFILE_TEMPLATE.read_text().replace("@assets@\n", assets(service))
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text
