"""Generate a service's OpenAPI document, or check it against the committed contract.

python -m service_kit.contracts write customer_management contracts/customer-management.yaml
python -m service_kit.contracts check customer_management contracts/customer-management.yaml
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from pathlib import Path
from typing import Any

import yaml


def generate_spec(package: str) -> dict[str, Any]:
    """The OpenAPI document the service's code serves (no database needed)."""
    create_app = importlib.import_module(package).create_app
    app = create_app({"TESTING": True})
    return app.test_client().get("/openapi.json").get_json()


def render(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=True, allow_unicode=True, width=100)


def load_contract(path: str | Path) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["write", "check"])
    parser.add_argument("package")
    parser.add_argument("path")
    args = parser.parse_args(argv)
    generated = render(generate_spec(args.package))
    path = Path(args.path)
    if args.action == "write":
        path.write_text(generated)
        return 0
    committed = path.read_text() if path.exists() else ""
    if committed == generated:
        return 0
    sys.stderr.writelines(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (generated from {args.package})",
        )
    )
    sys.stderr.write(f"\n{path} is out of date: run `make openapi` and commit it.\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
