"""The Kubernetes recipes in deploy/kubernetes/ are valid objects that would run as documented.

No cluster is at hand (a client-side dry run still needs one for discovery), so the checks are
closed schemas of the fields we use (a misspelt field fails), the policy values of the recipes,
names that resolve between objects, and each container's command line parsed by the real CLI.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import click
import jsonschema
import pytest
import yaml

import webex_bulk
from webex_bulk.cli.commands import main
from webex_bulk.config import SECRET_ENV_VARS, Settings, load_settings
from webex_bulk.engine import window_seconds

ROOT = Path(webex_bulk.__file__).resolve().parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
OPERATIONS = ROOT / "docs" / "operations.md"
DOCKERFILE = ROOT / "Dockerfile"

API_VERSIONS = {
    "CronJob": "batch/v1",
    "Job": "batch/v1",
    "ConfigMap": "v1",
    "PersistentVolumeClaim": "v1",
}


def closed(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """A JSON schema object that allows only the named properties."""
    return {
        "type": "object",
        "required": list(required),
        "properties": properties,
        "additionalProperties": False,
    }


ANY: dict[str, Any] = {}
TEXT = {"type": "string", "minLength": 1}
NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
COUNT = {"type": "integer", "minimum": 0}
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = {
    "type": "object",
    "properties": {"name": NAME, "generateName": TEXT, "labels": LABELS, "annotations": LABELS},
    "anyOf": [{"required": ["name"]}, {"required": ["generateName"]}],
    "additionalProperties": False,
}
ENV_VAR = closed(
    ("name",),
    name={"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
    value={"type": "string"},
    valueFrom=closed(
        fieldRef=closed(("fieldPath",), fieldPath=TEXT),
        secretKeyRef=closed(("name", "key"), name=NAME, key=TEXT),
        configMapKeyRef=closed(("name", "key"), name=NAME, key=TEXT),
    ),
)
QUANTITIES = {"type": "object", "additionalProperties": {"type": ["string", "integer"]}}
CONTAINER = closed(
    ("name", "image"),
    name=NAME,
    image=TEXT,
    imagePullPolicy={"enum": ["Always", "IfNotPresent", "Never"]},
    command={"type": "array", "items": {"type": "string"}},
    args={"type": "array", "items": {"type": "string"}},
    env={"type": "array", "items": ENV_VAR},
    securityContext=closed(
        allowPrivilegeEscalation={"type": "boolean"},
        readOnlyRootFilesystem={"type": "boolean"},
        runAsNonRoot={"type": "boolean"},
        runAsUser=COUNT,
        capabilities=closed(drop={"type": "array"}, add={"type": "array"}),
    ),
    resources=closed(requests=QUANTITIES, limits=QUANTITIES),
    volumeMounts={
        "type": "array",
        "items": closed(
            ("name", "mountPath"),
            name=NAME,
            mountPath={"type": "string", "pattern": "^/"},
            subPath=TEXT,
            readOnly={"type": "boolean"},
        ),
    },
)
VOLUME = {
    **closed(
        ("name",),
        name=NAME,
        persistentVolumeClaim=closed(("claimName",), claimName=NAME, readOnly={"type": "boolean"}),
        configMap=closed(("name",), name=NAME, defaultMode=COUNT),
        secret=closed(("secretName",), secretName=NAME, defaultMode=COUNT),
        emptyDir=closed(sizeLimit=TEXT, medium=TEXT),
    ),
    # Exactly one source per volume.
    "minProperties": 2,
    "maxProperties": 2,
}
POD_TEMPLATE = closed(
    ("spec",),
    metadata=closed(labels=LABELS, annotations=LABELS),
    spec=closed(
        ("containers", "restartPolicy"),
        restartPolicy={"enum": ["Never", "OnFailure"]},
        enableServiceLinks={"type": "boolean"},
        automountServiceAccountToken={"type": "boolean"},
        serviceAccountName=NAME,
        terminationGracePeriodSeconds=COUNT,
        securityContext=closed(
            runAsNonRoot={"type": "boolean"},
            runAsUser=COUNT,
            runAsGroup=COUNT,
            fsGroup=COUNT,
            seccompProfile=closed(("type",), type={"enum": ["RuntimeDefault", "Localhost"]}),
        ),
        containers={"type": "array", "minItems": 1, "items": CONTAINER},
        volumes={"type": "array", "items": VOLUME},
    ),
)
JOB_SPEC = closed(
    ("template",),
    completionMode={"enum": ["NonIndexed", "Indexed"]},
    completions=COUNT,
    parallelism=COUNT,
    backoffLimit=COUNT,
    backoffLimitPerIndex=COUNT,
    maxFailedIndexes=COUNT,
    activeDeadlineSeconds=COUNT,
    ttlSecondsAfterFinished=COUNT,
    template=POD_TEMPLATE,
)
SPECS: dict[str, dict[str, Any]] = {
    "CronJob": closed(
        ("schedule", "jobTemplate"),
        schedule={"type": "string", "pattern": r"^\S+( \S+){4}$"},
        timeZone=TEXT,
        concurrencyPolicy={"enum": ["Allow", "Forbid", "Replace"]},
        startingDeadlineSeconds=COUNT,
        successfulJobsHistoryLimit=COUNT,
        failedJobsHistoryLimit=COUNT,
        suspend={"type": "boolean"},
        jobTemplate=closed(("spec",), metadata=closed(labels=LABELS), spec=JOB_SPEC),
    ),
    "Job": JOB_SPEC,
    "PersistentVolumeClaim": closed(
        ("accessModes", "resources"),
        accessModes={
            "type": "array",
            "minItems": 1,
            "items": {
                "enum": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
            },
        },
        storageClassName=TEXT,
        resources=closed(("requests",), requests=closed(("storage",), storage=TEXT)),
    ),
}


def documents() -> list[tuple[str, dict[str, Any]]]:
    """Every object of every manifest, with the file it came from."""
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                found.append((path.name, document))
    return found


def objects(kind: str) -> list[dict[str, Any]]:
    """The objects of one kind."""
    return [document for _, document in documents() if document.get("kind") == kind]


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    """The pod spec of each Job and CronJob, by the workload's name."""
    for document in objects("Job"):
        yield document["metadata"]["generateName"], document["spec"]["template"]["spec"]
    for document in objects("CronJob"):
        yield (
            document["metadata"]["name"],
            document["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        )


def env_of(container: dict[str, Any]) -> dict[str, str]:
    """A container's literal environment variables."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def dockerfile_env() -> dict[str, str]:
    """The ENV of the image's last stage (``KEY=VALUE`` pairs)."""
    last_stage = DOCKERFILE.read_text(encoding="utf-8").rsplit("\nFROM ", 1)[1]
    text = last_stage.replace("\\\n", " ")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            pairs.update(re.findall(r"(\w+)=(\S+)", line))
    return pairs


def test_every_manifest_is_a_known_kind_and_valid() -> None:
    """Each object has a known kind with its apiVersion, metadata, and a spec of known fields."""
    assert documents(), "no manifest under deploy/kubernetes/"
    for file, document in documents():
        kind = document.get("kind")
        assert kind in API_VERSIONS, f"{file}: unknown kind {kind!r}"
        assert document.get("apiVersion") == API_VERSIONS[kind], f"{file}: {kind} apiVersion"
        jsonschema.validate(document["metadata"], METADATA)
        if kind == "ConfigMap":
            assert set(document) == {"apiVersion", "kind", "metadata", "data"}, file
        else:
            assert set(document) == {"apiVersion", "kind", "metadata", "spec"}, file
            jsonschema.validate(document["spec"], SPECS[kind])


def test_a_misspelt_field_is_caught() -> None:
    """The closed schemas reject a field Kubernetes does not have, as the API server would."""
    cronjob = objects("CronJob")[0]
    broken = {**cronjob["spec"], "concurencyPolicy": "Forbid"}
    with pytest.raises(jsonschema.ValidationError, match="concurencyPolicy"):
        jsonschema.validate(broken, SPECS["CronJob"])


def test_the_cronjob_never_overlaps_and_keeps_local_time() -> None:
    """The CronJob forbids overlap, and its container's TZ is the schedule's time zone."""
    (cronjob,) = objects("CronJob")
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert env_of(container)["TZ"] == spec["timeZone"]
    assert "--deadline" in container["args"]


@pytest.mark.parametrize(("workload", "pod"), list(pod_specs()), ids=lambda v: str(v)[:30])
def test_pods_are_locked_down(workload: str, pod: dict[str, Any]) -> None:
    """Every pod: no service links, no API token, the image's non-root user, a read-only root."""
    assert pod["enableServiceLinks"] is False, workload
    assert pod["automountServiceAccountToken"] is False, workload
    uid = re.search(r"ARG UID=(\d+)", DOCKERFILE.read_text(encoding="utf-8"))
    assert uid is not None
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == int(uid.group(1)), "the Dockerfile's UID"
    for container in pod["containers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, "a read-only root needs a writable /tmp"


@pytest.mark.parametrize(("workload", "pod"), list(pod_specs()), ids=lambda v: str(v)[:30])
def test_volumes_and_secrets_resolve(workload: str, pod: dict[str, Any]) -> None:
    """Mounts name declared volumes; claims and ConfigMaps exist; the Secret is documented."""
    claims = {c["metadata"]["name"] for c in objects("PersistentVolumeClaim")}
    config_maps = {c["metadata"]["name"] for c in objects("ConfigMap")}
    documented_secrets = set(
        re.findall(r"kubectl create secret generic ([a-z0-9-]+)", OPERATIONS.read_text("utf-8"))
    )
    volumes = {v["name"]: v for v in pod["volumes"]}
    for volume in volumes.values():
        if "persistentVolumeClaim" in volume:
            assert volume["persistentVolumeClaim"]["claimName"] in claims, workload
        if "configMap" in volume:
            assert volume["configMap"]["name"] in config_maps, workload
        if "secret" in volume:
            assert volume["secret"]["secretName"] in documented_secrets, workload
    for container in pod["containers"]:
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        assert {m["name"] for m in mounts.values()} <= set(volumes), workload
        token = PurePosixPath(env_of(container)["WEBEX_BULK_TOKEN_FILE"])
        holder = mounts[str(token.parent)]
        assert "secret" in volumes[holder["name"]], "the token file comes from the Secret"
        assert f"--from-file={token.name}" in OPERATIONS.read_text("utf-8")


def parse_run(args: list[str], root: Path) -> click.Context:
    """Parse a container's arguments with the CLI's own parser; its absolute paths under root."""
    mapped = [str(root / arg.lstrip("/")) if arg.startswith("/") else arg for arg in args]
    for arg in mapped:
        if arg.endswith(".csv") and not Path(arg).exists():
            Path(arg).parent.mkdir(parents=True, exist_ok=True)
            Path(arg).write_text("entity_type\n", encoding="utf-8")
    command = main.commands[mapped[0]]
    parent = click.Context(main, info_name="webex-bulk")
    return command.make_context(mapped[0], mapped[1:], parent=parent)


def settings_of(context: click.Context, env: dict[str, str]) -> Settings:
    """The settings a parsed ``run`` would use: its flags > the environment > its --config."""
    not_settings = {"file", "fresh", "deadline", "max_duration", "config_file", "run_dir"}
    not_settings |= {"only", "limit", "output_format", "quiet", "metrics_file"}
    flags = {k: v for k, v in context.params.items() if k not in not_settings}
    env = {k: v for k, v in env.items() if k not in SECRET_ENV_VARS}
    return load_settings(flags, env, context.params["config_file"])


def check_run(container: dict[str, Any], env: dict[str, str], root: Path) -> Settings:
    """The container runs ``webex-bulk run`` with valid flags, deadline and settings."""
    assert "command" not in container, "the image's ENTRYPOINT is webex-bulk"
    context = parse_run(container["args"], root)
    assert context.command.name == "run"
    deadline = context.params["deadline"]
    noon = datetime.datetime(2026, 1, 1, 12, 0)
    assert window_seconds(deadline, context.params["max_duration"], noon) is not None
    return settings_of(context, {**dockerfile_env(), **env})


def test_the_cronjob_command_line_parses(tmp_path: Path) -> None:
    """The CronJob's arguments and environment are accepted by the real CLI and settings."""
    (cronjob,) = objects("CronJob")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    settings = check_run(container, env_of(container), tmp_path)
    data = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert any(PurePosixPath(settings.runs_root).is_relative_to(path) for path in data)


def test_the_indexed_job_gives_each_org_its_own_settings(tmp_path: Path) -> None:
    """Each completion index finds its org file; orgs differ in org id and run directories."""
    (job,) = objects("Job")
    (orgs,) = objects("ConfigMap")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == len(orgs["data"]), "one index per org of the ConfigMap"
    container = spec["template"]["spec"]["containers"][0]
    (index_var,) = [
        e["name"]
        for e in container["env"]
        if "job-completion-index" in e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
    ]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "orgs")
    org_dir = tmp_path / mount["mountPath"].lstrip("/")
    org_dir.mkdir(parents=True)
    for key, text in orgs["data"].items():
        (org_dir / key).write_text(text, encoding="utf-8")
    seen: list[Settings] = []
    for index in range(spec["completions"]):
        args = [arg.replace(f"$({index_var})", str(index)) for arg in container["args"]]
        assert not any("$(" in arg for arg in args), "every variable of the args is defined"
        expanded = {**container, "args": args}
        seen.append(check_run(expanded, env_of(container), tmp_path))
    assert all(s.org_id for s in seen)
    assert len({s.org_id for s in seen}) == len(seen), "one org per index"
    assert len({s.runs_root for s in seen}) == len(seen), "one run directory tree per org"
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    for settings in seen:
        assert any(PurePosixPath(settings.runs_root).is_relative_to(p) for p in writable)
