"""The vendored OpenAPI extract is what ``scripts/vendor_specs.py`` makes from the specs folder
when that folder is beside the checkout, and is whole, attributed and self-consistent always."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from vendored_specs import SPECS, SUBSET, normalised, operations, vendored

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "vendor_specs.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """The vendoring script, loaded as a module."""
    loaded = importlib.util.spec_from_file_location("vendor_specs", SCRIPT)
    assert loaded is not None
    assert loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def dangling(document: dict[str, Any]) -> list[str]:
    """The local references of a document that point nowhere."""
    missing = []
    stack: list[Any] = [document]
    while stack:  # bounded: walks the finite document once
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target: Any = document
                for part in ref.removeprefix("#/").split("/"):
                    target = target.get(part) if isinstance(target, dict) else None
                if target is None:
                    missing.append(ref)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return missing


def test_the_file_is_the_scripts_output_or_intact(script: ModuleType) -> None:
    """The file equals a fresh extract when the specs folder is present, and its digest holds."""
    if (script.DEFAULT_SPECS / script.LICENSE).is_file():
        fresh = script.render(script.build(script.DEFAULT_SPECS))
        assert SUBSET.read_text(encoding="utf-8") == fresh, "run scripts/vendor_specs.py"
    content = vendored()
    assert content["sha256"] == script.digest(content["documents"])


def test_every_selected_path_and_schema_is_vendored(script: ModuleType) -> None:
    """Each path and extra schema the script selects is in the file, and nothing else is."""
    documents = vendored()["documents"]
    assert set(documents) == set(script.SELECTION)
    for name, paths in script.SELECTION.items():
        assert set(documents[name]["paths"]) == set(paths), name
        schemas = documents[name]["components"]["schemas"]
        assert set(script.EXTRA_SCHEMAS.get(name, ())) <= set(schemas), name
    kept = sum(len(methods) for methods in operations().values())
    assert kept == vendored()["operations"]


def test_every_reference_resolves_inside_its_document() -> None:
    """No ``$ref`` of the extract points at a component that was left out."""
    missing = {name: dangling(doc) for name, doc in vendored()["documents"].items()}
    assert {name: refs for name, refs in missing.items() if refs} == {}


def test_the_routes_of_the_coming_entity_types_are_vendored() -> None:
    """Call park, pickup, paging, voicemail groups, virtual lines, call settings, move-users,
    activation codes, PSTN connection and token expiry are there for later tests."""
    wanted = [
        ("post", "/telephony/config/locations/{}/callParks"),
        ("put", "/telephony/config/locations/{}/callParkExtensions/{}"),
        ("post", "/telephony/config/locations/{}/callPickups"),
        ("put", "/telephony/config/locations/{}/paging/{}"),
        ("post", "/telephony/config/locations/{}/voicemailGroups"),
        ("post", "/telephony/config/virtualLines"),
        ("put", "/people/{}/features/voicemail"),
        ("put", "/people/{}/features/doNotDisturb"),
        ("put", "/workspaces/{}/features/callForwarding"),
        ("post", "/telephony/config/jobs/person/moveLocation"),
        ("post", "/devices/activationCode"),
        ("get", "/telephony/pstn/locations/{}/connection"),
        ("get", "/authorizations/tokenExpiry"),
    ]
    assert [key for key in wanted if key not in operations()] == []
    assert normalised("/a/{b}/c/{d}") == "/a/{}/c/{}"


def test_the_extract_carries_its_licence_and_attribution() -> None:
    """CC BY 4.0: the notice names the licence and Cisco, and the licence text lies beside it."""
    content = vendored()
    assert "CC BY 4.0" in content["notice"]
    assert "Cisco" in content["notice"]
    assert content["license"] == "CC-BY-4.0"
    licence = (SPECS / "LICENSE-webex-openapi-specs.txt").read_text(encoding="utf-8")
    assert licence.startswith("Attribution 4.0 International")
    notice = (SPECS / "NOTICE.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notice
