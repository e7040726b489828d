"""The vendored extract of the Webex OpenAPI specs (``tests/specs/``, made by
``scripts/vendor_specs.py``): its documents by spec file name, and lookups of operations in them."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent / "specs"
SUBSET = SPECS / "webex_openapi_subset.json"
PLACEHOLDER = re.compile(r"\{[^}]+\}")
Operations = dict[tuple[str, str], list[tuple[dict[str, Any], dict[str, Any]]]]


@functools.cache
def vendored() -> dict[str, Any]:
    """The whole vendored file: attribution header and documents."""
    content = json.loads(SUBSET.read_text(encoding="utf-8"))
    assert isinstance(content, dict)
    return content


def spec(name: str) -> dict[str, Any]:
    """One spec document (``paths`` and ``components``) by the name of its upstream file."""
    document = vendored()["documents"][name]
    assert isinstance(document, dict)
    return document


def specs() -> tuple[dict[str, Any], ...]:
    """Every document, in the order of their file names."""
    return tuple(spec(name) for name in sorted(vendored()["documents"]))


def normalised(path: str) -> str:
    """A path with every placeholder written ``{}``."""
    return PLACEHOLDER.sub("{}", path)


@functools.cache
def operations() -> Operations:
    """(method, normalised path) → [(document, operation)] over all documents."""
    found: Operations = {}
    for document in specs():
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    found.setdefault((method, normalised(path)), []).append((document, operation))
    return found


def resolved(document: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` inlined (a cycle stops as an open schema)."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {}
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            return resolved(document, target, (*seen, ref))
        return {key: resolved(document, value, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(document, item, seen) for item in node]
    return node


def request_schema(method: str, template: str) -> dict[str, Any]:
    """The documented JSON schema of a request body, ``$ref``s inlined."""
    for document, operation in operations()[(method, normalised(template))]:
        if "requestBody" in operation:
            content = resolved(document, operation["requestBody"])["content"]
            return dict(content["application/json"]["schema"])
    raise AssertionError(f"{method.upper()} {template} documents no request body")
