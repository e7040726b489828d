"""Vendor the parts of Cisco's Webex OpenAPI specs that webex-bulk and its simulator use into one
compact JSON file under ``tests/specs/``, so spec tests run in any checkout.

    python scripts/vendor_specs.py [SPEC_DIR] [--output PATH] [--check]

SPEC_DIR defaults to ``../shared/webex-openapi`` beside the checkout. Only the selected paths are
kept (every method on them), with the components they reference, transitively; descriptions and
examples are dropped. ``--check`` compares instead of writing (exit 1 when the file differs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = ROOT.parent / "shared" / "webex-openapi"
OUTPUT = ROOT / "tests" / "specs" / "webex_openapi_subset.json"
LICENSE = "LICENSE-webex-openapi-specs.txt"
METHODS = ("get", "put", "post", "delete", "patch")
#: Keys that only explain: dropped, except as property names inside ``properties``.
PROSE = frozenset({"description", "example", "examples"})

#: Where each spec file comes from (the specs folder's README), for the attribution.
ORIGINS = {
    "webex-admin.json": "webex/webex-openapi-specs, public-spec/webex-admin.json (2026-05-04)",
    "webex-device.json": "webex/webex-openapi-specs, public-spec/webex-device.json (2026-05-04)",
    "calling-*.yml": "api-evangelist/webex, openapi/webex-<tag>-api-openapi.yml (2026-08-07), "
    "a per-tag split of Cisco's webex-cloud-calling.json",
}

#: The paths kept, per spec file: what the simulator serves and the client calls today, then
#: what the coming entity types and settings need (call park, pickup, paging, voicemail groups,
#: virtual lines, user and workspace call settings, the move-users job, PSTN, activation codes).
SELECTION: dict[str, tuple[str, ...]] = {
    "webex-admin.json": (
        "/people",
        "/people/me",
        "/people/{personId}",
        "/licenses",
        "/licenses/{licenseId}",
        "/licenses/users",
        "/organizations",
        "/organizations/{orgId}",
        "/authorizations/tokenExpiry",
    ),
    "webex-device.json": (
        "/locations",
        "/locations/{locationId}",
        "/workspaces",
        "/workspaces/{workspaceId}",
        "/devices",
        "/devices/{deviceId}",
        "/devices/activationCode",
        "/telephony/config/supportedDevices",
    ),
    "calling-location-call-settings.yml": (
        "/telephony/config/locations",
        "/telephony/config/locations/{locationId}",
    ),
    "calling-location-call-settings-schedules.yml": (
        "/telephony/config/locations/{locationId}/schedules",
        "/telephony/config/locations/{locationId}/schedules/{type}/{scheduleId}",
    ),
    "calling-numbers.yml": (
        "/telephony/config/numbers",
        "/telephony/config/locations/{locationId}/numbers",
    ),
    "calling-pstn.yml": ("/telephony/pstn/locations/{locationId}/connection",),
    "calling-features-hunt-group.yml": (
        "/telephony/config/huntGroups",
        "/telephony/config/locations/{locationId}/huntGroups",
        "/telephony/config/locations/{locationId}/huntGroups/{huntGroupId}",
    ),
    "calling-features-call-queue.yml": (
        "/telephony/config/queues",
        "/telephony/config/locations/{locationId}/queues",
        "/telephony/config/locations/{locationId}/queues/{queueId}",
    ),
    "calling-features-auto-attendant.yml": (
        "/telephony/config/autoAttendants",
        "/telephony/config/locations/{locationId}/autoAttendants",
        "/telephony/config/locations/{locationId}/autoAttendants/{autoAttendantId}",
    ),
    "calling-features-call-park.yml": (
        "/telephony/config/locations/{locationId}/callParks",
        "/telephony/config/locations/{locationId}/callParks/{callParkId}",
        "/telephony/config/callParkExtensions",
        "/telephony/config/locations/{locationId}/callParkExtensions",
        "/telephony/config/locations/{locationId}/callParkExtensions/{callParkExtensionId}",
    ),
    "calling-features-call-pickup.yml": (
        "/telephony/config/locations/{locationId}/callPickups",
        "/telephony/config/locations/{locationId}/callPickups/{callPickupId}",
    ),
    "calling-features-paging-group.yml": (
        "/telephony/config/paging",
        "/telephony/config/locations/{locationId}/paging",
        "/telephony/config/locations/{locationId}/paging/{pagingId}",
    ),
    "calling-location-voicemail.yml": (
        "/telephony/config/voicemailGroups",
        "/telephony/config/locations/{locationId}/voicemailGroups",
        "/telephony/config/locations/{locationId}/voicemailGroups/{voicemailGroupId}",
    ),
    "calling-virtual-lines.yml": (
        "/telephony/config/virtualLines",
        "/telephony/config/virtualLines/{virtualLineId}",
    ),
    "calling-user-call-settings-1.yml": (
        "/people/{personId}/features/voicemail",
        "/people/{personId}/features/callForwarding",
        "/people/{personId}/features/doNotDisturb",
        "/people/{personId}/features/callWaiting",
        "/people/{personId}/features/callerId",
    ),
    "calling-user-call-settings-2.yml": (
        "/telephony/config/jobs/person/moveLocation",
        "/telephony/config/jobs/person/moveLocation/{jobId}",
        "/telephony/config/jobs/person/moveLocation/{jobId}/errors",
    ),
    "calling-workspace-call-settings-1.yml": (
        "/workspaces/{workspaceId}/features/callForwarding",
        "/workspaces/{workspaceId}/features/callWaiting",
        "/workspaces/{workspaceId}/features/callerId",
    ),
}

#: Component schemas tests check bodies against that no kept operation references by name.
EXTRA_SCHEMAS: dict[str, tuple[str, ...]] = {
    "webex-admin.json": ("PatchUserLicenses",),
    "webex-device.json": (
        "PostCommonLocationObject",
        "PutCommonLocationObject",
        "WorkspaceCreationRequest",
        "WorkspaceUpdateRequest",
    ),
    "calling-features-call-queue.yml": ("CreateCallQueueEssentialsObject",),
}


class SpecError(Exception):
    """A selected path, method or component is missing from the specs folder."""


def load(path: Path) -> dict[str, Any]:
    """One spec document (JSON or YAML)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)
    else:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(text, Loader=loader)  # a safe loader: the C one when built
    if not isinstance(document, dict):
        raise SpecError(f"{path.name}: not an OpenAPI document")
    return document


def refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` inside ``node``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def target(document: Mapping[str, Any], ref: str) -> Any:
    """The node a local ``#/...`` reference points to."""
    if not ref.startswith("#/"):
        raise SpecError(f"a non-local reference: {ref}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def without_prose(node: Any, *, names: bool = False) -> Any:
    """``node`` without descriptions and examples; ``names`` marks a map of property names."""
    if isinstance(node, dict):
        return {
            key: without_prose(value, names=key == "properties" and not names)
            for key, value in node.items()
            if names or (key not in PROSE and not key.startswith("x-"))
        }
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    return node


def subset(name: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """The selected paths of one document with every component they reach."""
    paths: dict[str, Any] = {}
    for path in SELECTION[name]:
        item = document["paths"].get(path)
        if item is None:
            raise SpecError(f"{name}: no path {path}")
        paths[path] = {
            key: value for key, value in item.items() if key in METHODS or key == "parameters"
        }
    wanted = [f"#/components/schemas/{schema}" for schema in EXTRA_SCHEMAS.get(name, ())]
    wanted += list(refs(paths))
    components: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    while wanted:  # bounded: each reference is followed once
        ref = wanted.pop()
        if ref in seen:
            continue
        seen.add(ref)
        try:
            node = target(document, ref)
        except KeyError:
            raise SpecError(f"{name}: unresolved reference {ref}") from None
        kind, key = ref.removeprefix("#/components/").split("/", 1)
        components.setdefault(kind, {})[key] = node
        wanted += list(refs(node))
    schemes = document.get("components", {}).get("securitySchemes")
    if schemes:
        components["securitySchemes"] = schemes
    return without_prose({"paths": paths, "components": components})


def digest(documents: Mapping[str, Any]) -> str:
    """SHA-256 of the documents in their canonical JSON form."""
    canonical = json.dumps(documents, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build(spec_dir: Path) -> dict[str, Any]:
    """The vendored file's content: attribution header and the per-document subsets."""
    documents = {name: subset(name, load(spec_dir / name)) for name in sorted(SELECTION)}
    operations = sum(
        1
        for doc in documents.values()
        for item in doc["paths"].values()
        for m in item
        if m in METHODS
    )
    return {
        "notice": (
            "Extract of Cisco's Webex OpenAPI specifications, (c) Cisco Systems, licensed under "
            "Creative Commons Attribution 4.0 International (CC BY 4.0), see "
            f"{LICENSE} beside this file. Changed: only the paths webex-bulk and its simulator "
            "use are kept, with the components they reference; descriptions and examples are "
            "removed. Generated by scripts/vendor_specs.py: do not edit by hand."
        ),
        "license": "CC-BY-4.0",
        "origins": ORIGINS,
        "operations": operations,
        "sha256": digest(documents),
        "documents": documents,
    }


def render(content: Mapping[str, Any]) -> str:
    """The file's text: stable key order, one level of indentation, a final newline."""
    return json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the vendored subset; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", nargs="?", type=Path, default=DEFAULT_SPECS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if not (args.spec_dir / LICENSE).is_file():
        print(f"{args.spec_dir}: no Webex OpenAPI specs here (no {LICENSE})", file=sys.stderr)
        return 2
    try:
        text = render(build(args.spec_dir))
    except SpecError as error:
        print(f"{args.spec_dir}: {error}", file=sys.stderr)
        return 2
    if args.check:
        same = args.output.is_file() and args.output.read_text(encoding="utf-8") == text
        print(f"{args.output}: {'up to date' if same else 'differs from the specs'}")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    shutil.copyfile(args.spec_dir / LICENSE, args.output.parent / LICENSE)
    print(f"{args.output}: {len(text) // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
