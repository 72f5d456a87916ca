"""Consumer-side contract checks: is this body what the provider's committed contract
says it answers (``validate_response``), or what it accepts (``validate_request``)?

A service that fakes a downstream in its tests validates every canned answer with
``validate_response`` (or registers it through ``ContractFake``, or serves it from a
``service_kit.fakes.ContractServer``), so a change in the provider's contract breaks
the consumer's tests instead of production.

    contract = find_contract("customer-management")
    validate_response(contract, "GET", "/api/v1/customers/{customer_id}", 200, body)

The provider-side checks (its own contract, migrations, roles) are in
``service_kit.provider_testing`` and ``service_kit.role_testing``.

Test-only: needs ``jsonschema`` (and ``responses`` for ``ContractFake``) from the
kit's ``[test]`` extra.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from service_kit.contracts import load_contract

JSON_TYPES = ("application/json", "application/problem+json")


class ContractViolation(AssertionError):
    """A body does not match what the contract promises."""


def find_contract(service: str, start: str | Path | None = None) -> Path:
    """``contracts/<service>.yaml`` in the nearest folder above ``start`` (default:
    the working directory, then this file) that has one."""
    starts = [Path(start)] if start else [Path.cwd(), Path(__file__)]
    for origin in starts:
        for folder in [origin.resolve(), *origin.resolve().parents]:
            candidate = folder / "contracts" / f"{service}.yaml"
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"no contracts/{service}.yaml above {', '.join(map(str, starts))}")


def contract_document(contract: str | Path) -> dict[str, Any]:
    """The parsed contract, read once per run (a fake's first answer must not wait for YAML)."""
    return _parsed(str(contract))


@functools.cache
def _parsed(path: str) -> dict[str, Any]:
    return load_contract(path)


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema: ``nullable`` becomes a null type."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
        if "type" not in converted:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#/").split("/")
        node = functools.reduce(lambda part, key: part[key], pointer, document)
    return node


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    try:
        return document["paths"][path][method.lower()]
    except KeyError:
        known = sorted(
            f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops if m != "parameters"
        )
        raise ContractViolation(f"the contract has no {method.upper()} {path}; it has: {known}") from None


def operation(contract: str | Path, method: str, path: str) -> dict[str, Any]:
    """One operation of the contract, as documented (``ContractViolation`` if it has none)."""
    return _operation(contract_document(contract), method, path)


def response_schema(
    contract: str | Path, method: str, path: str, status: int, *, media_type: str | None = None
) -> dict[str, Any]:
    """The JSON Schema (refs resolvable) of one documented answer; a status the
    operation does not list falls back to its ``default`` response."""
    document = contract_document(contract)
    responses = _operation(document, method, path)["responses"]
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        raise ContractViolation(f"{method.upper()} {path} does not document status {status}")
    response = _resolve(document, response)
    content = response.get("content") or {}
    if media_type is None:
        media_type = next((t for t in JSON_TYPES if t in content), None)
    if media_type not in content:
        raise ContractViolation(f"{method.upper()} {path} {status} has no body of type {media_type}")
    schema = copy.deepcopy(content[media_type]["schema"])
    schema["components"] = {"schemas": document.get("components", {}).get("schemas", {})}
    return _as_json_schema(schema)


def validate_response(
    contract: str | Path, method: str, path: str, status: int, body: Any, *, media_type: str | None = None
) -> None:
    """Raise ``ContractViolation`` listing every way ``body`` breaks the contract."""
    import jsonschema

    schema = response_schema(contract, method, path, status, media_type=media_type)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  {'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in errors]
        raise ContractViolation(
            f"{method.upper()} {path} {status} does not match {Path(contract).name}:\n" + "\n".join(lines)
        )


def validate_request(contract: str | Path, method: str, path: str, body: Any) -> None:
    """Raise ``ContractViolation`` when ``body`` is not what ``method path`` accepts."""
    import jsonschema

    document = contract_document(contract)
    content = _operation(document, method, path)["requestBody"]["content"]
    schema = copy.deepcopy(content["application/json"]["schema"])
    schema["components"] = {"schemas": document.get("components", {}).get("schemas", {})}
    errors = list(jsonschema.Draft202012Validator(_as_json_schema(schema)).iter_errors(body))
    if errors:
        raise ContractViolation(f"{method.upper()} {path} request: " + "; ".join(e.message for e in errors))


def _fill(path: str, params: Mapping[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)


class ContractFake:
    """A downstream faked at the HTTP boundary with ``responses``, answering only
    what its contract allows: every canned answer is validated when it is added.

        fake = ContractFake(rsps, find_contract("customer-management"), "http://customers.test")
        fake.add("GET", "/api/v1/customers/{customer_id}", 200, body, customer_id=body["id"])
    """

    def __init__(self, mock: Any, contract: str | Path, base_url: str) -> None:
        self.mock = mock
        self.contract = contract
        self.base_url = base_url.rstrip("/")

    def url(self, path: str, **params: Any) -> str:
        return self.base_url + _fill(path, params)

    def add(self, method: str, path: str, status: int, body: Any = None, **params: Any) -> None:
        if body is not None:
            validate_response(self.contract, method, path, status, body)
        content_type = "application/json" if status < 400 else "application/problem+json"
        self.mock.add(
            method.upper(),
            self.url(path, **params),
            json=body,
            status=status,
            content_type=content_type,
        )

    def fail(self, method: str, path: str, error: BaseException, **params: Any) -> None:
        """The downstream does not answer at all (``error``: a requests exception)."""
        self.mock.add(method.upper(), self.url(path, **params), body=error)
