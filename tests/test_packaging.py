"""Packaging: the metadata, the lock files, and an install from the lock as the image does it."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import webex_bulk

ROOT = Path(webex_bulk.__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"


def pins(lock: Path) -> dict[str, str]:
    """The pinned version of each package of a lock file, by canonical name."""
    text = lock.read_text(encoding="utf-8")
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.MULTILINE)
    }


def requirements(group: str | None = None) -> list[Requirement]:
    """The runtime requirements, or those of one optional group."""
    lines = PROJECT["dependencies"] if group is None else PROJECT["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


def test_the_license_is_an_spdx_expression_with_its_text() -> None:
    """license is the SPDX string, LICENSE holds the Apache 2.0 text and ships in the wheel."""
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    backend = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    setuptools = next(r for r in backend if r.name == "setuptools")
    assert not setuptools.specifier.contains("76.9"), "SPDX license needs setuptools >= 77"
    assert any(c.startswith("License ::") for c in PROJECT["classifiers"]) is False, (
        "a License classifier next to an SPDX license fails the build"
    )


def test_every_imported_distribution_is_declared() -> None:
    """A third-party module the package imports belongs to a declared runtime dependency."""
    declared = {canonicalize_name(r.name) for r in requirements()}
    owners = importlib.metadata.packages_distributions()
    missing = set()
    for path in (ROOT / "webex_bulk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "webex_bulk":
                    continue
                distributions = {canonicalize_name(d) for d in owners.get(top, [top])}
                if not distributions & declared:
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert sorted(missing) == []


def test_package_data_names_existing_files() -> None:
    """Every package-data pattern matches at least one file of the package."""
    for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            folder = ROOT / package.replace(".", "/")
            assert list(folder.glob(pattern)), f"{package}: {pattern} matches nothing"


@pytest.mark.parametrize(
    ("lock", "groups"), [(LOCK, [None]), (DEV_LOCK, [None, "dev"])], ids=["runtime", "dev"]
)
def test_the_locks_pin_every_dependency_within_its_range(lock: Path, groups: list[str]) -> None:
    """Each declared dependency and the build backend is pinned, inside its range, with hashes."""
    pinned = pins(lock)
    wanted = [r for g in groups for r in requirements(g)]
    wanted += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in {lock.name}: run make lock"
        version = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock.name} pins {name}=={version}, outside {requirement}: run make lock"
        )
    text = lock.read_text(encoding="utf-8")
    pinned_lines = re.findall(r"^[A-Za-z0-9_.\-]+==\S+ \\\n\s+--hash=sha256:", text, re.MULTILINE)
    assert len(pinned_lines) == len(pinned), f"every pin of {lock.name} carries its hashes"


def test_the_two_locks_agree() -> None:
    """A package in both locks has one version: the image runs what CI tested."""
    runtime, dev = pins(LOCK), pins(DEV_LOCK)
    assert {n: (v, dev.get(n)) for n, v in runtime.items() if dev.get(n) != v} == {}


def test_the_image_installs_from_the_lock_and_runs_unprivileged() -> None:
    """The Dockerfile installs through deploy/install.sh from the hashed lock; runs as non-root."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    script = (ROOT / "deploy" / "install.sh").read_text(encoding="utf-8")
    assert '--require-hashes -r "$src/requirements.lock"' in script
    assert "--no-deps --no-build-isolation" in script
    assert re.search(r"^RUN sh install\.sh ", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["webex-bulk"]' in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user, "the image names its user"
    assert not user[-1].startswith(("root", "0")), "the last USER is not root"
    assert re.search(r'^VOLUME \["/input", "/data"\]', dockerfile, re.MULTILINE)


def build_context(target: Path) -> list[str]:
    """Copy the files the Dockerfile COPYs into target; each must pass the .dockerignore."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    allowed = [
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    sources = []
    for line in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        sources += line.split()
    for source in sources:
        assert source in allowed, f"COPY {source}: the .dockerignore keeps it out"
        origin = ROOT / source
        destination = target / origin.name
        if origin.is_dir():
            shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, destination)
    return sources


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_fresh_install_from_the_lock_runs_the_demo(tmp_path: Path) -> None:
    """The image's install steps in a fresh venv: no warning printed, --version, demo exits 0."""
    context = tmp_path / "src"
    context.mkdir()
    build_context(context)
    venv = tmp_path / "venv"
    # As in the image's build stage: no pip configuration of this machine.
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PYTHON": sys.executable}
    env.pop("VIRTUAL_ENV", None)
    install = subprocess.run(
        ["sh", str(context / "install.sh"), str(venv), str(context)],
        capture_output=True,
        text=True,
        env=env,
        timeout=540,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    output = install.stdout + install.stderr
    assert not re.search(r"warning|deprecat", output, re.IGNORECASE), output[-3000:]
    command = venv / "bin" / "webex-bulk"
    version = subprocess.run(
        [command, "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert version.stdout.strip() == f"webex-bulk, version {webex_bulk.__version__}"
    work = tmp_path / "work"
    work.mkdir()
    demo = subprocess.run(
        [command, "demo", "--keep", str(work / "runs")],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert list((work / "runs").rglob("summary.json")), "the demo wrote its run directories"
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert not list(site.glob("site-packages/setuptools")), "no build backend in the image"
    assert not list(site.glob("site-packages/__editable__*")), "a real install, not editable"
