"""The import layering of the package, checked on the source with ``ast``.

cli → executor → {actions_registry, connection_client, writers, state_store, startup_checks,
batch_iterator, log, circuit_breaker} → {action_helpers, data_pipeline, error_handling, models,
config}. The bottom layer imports no aiohttp/asyncio/click/time and reads no clock. The simulator
imports nothing from the engine and the engine nothing from the simulator (only cli starts it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import webex_bulk

PACKAGE = Path(webex_bulk.__file__).resolve().parent

BOTTOM = 0
MIDDLE = 1
EXECUTOR = 2
TOP = 3
#: Every module of the package and its layer. A new module must be placed here.
LAYERS: dict[str, int] = {
    "__init__": BOTTOM,
    "models": BOTTOM,
    "config": BOTTOM,
    "error_handling": BOTTOM,
    "action_helpers": BOTTOM,
    "action_compare": BOTTOM,  # action_helpers' canonical values and comparisons
    "action_feature_bodies": BOTTOM,  # action_helpers' hunt group, queue, attendant bodies
    "data_pipeline": BOTTOM,
    "csv_source": BOTTOM,  # data_pipeline's reading of the physical file
    "input_schema": BOTTOM,  # data_pipeline's entity columns and row normalisation
    "normalise": BOTTOM,  # data_pipeline's cell normalisers
    "retry_policy": BOTTOM,  # connection_client's pure retry decision, budget, adaptive rate
    "pagination": BOTTOM,  # connection_client's pure Link parsing and next-page URLs
    "actions_registry": MIDDLE,
    "connection_client": MIDDLE,
    "token_store": MIDDLE,  # connection_client's atomic write-back of the token file
    "writers": MIDDLE,
    "state_store": MIDDLE,
    "persistence": MIDDLE,  # state_store's converter, canonical JSON and atomic writes
    "journal": MIDDLE,  # state_store's journal format and valid prefix
    "checkpoint": MIDDLE,  # state_store's committed offsets, their commit and rebuild
    "run_lock": MIDDLE,  # state_store's lock of a run directory
    "startup_checks": MIDDLE,
    "batch_iterator": MIDDLE,
    "log": MIDDLE,
    "circuit_breaker": MIDDLE,
    "executor": EXECUTOR,
    "planner": EXECUTOR,  # plan and preflight on the executor's wiring
    "cli": TOP,
    "demo": TOP,  # the example on an embedded simulator, beside cli
    "__main__": TOP,
}
#: Modules split out of actions_registry (``actions_<part>.py``) share its layer.
MIDDLE_PREFIX = "actions_"
SIMULATOR = "simulator"
#: Imports the bottom layer may not make: network, event loop, command line, clock.
BOTTOM_FORBIDDEN = frozenset({"aiohttp", "asyncio", "click", "time", "aiofiles", "aiolimiter"})
CLOCK_CALLS = frozenset({"now", "utcnow", "today"})


def layer_of(module: str) -> int | None:
    """The layer of a top-level module of the package, or None when it has no place."""
    if module in LAYERS:
        return LAYERS[module]
    return MIDDLE if module.startswith(MIDDLE_PREFIX) else None


def internal_target(node: ast.Import | ast.ImportFrom, owner: str, names: set[str]) -> list[str]:
    """The package modules an import statement reaches ('' is the package root)."""
    if isinstance(node, ast.Import):
        return [_first_part(alias.name) for alias in node.names if _is_ours(alias.name)]
    if node.level:  # relative: inside the simulator stays there; otherwise a sibling
        base = SIMULATOR if owner == SIMULATOR else ""
        if node.module:
            return [base or node.module.split(".")[0]]
        return [base or alias.name for alias in node.names]
    if node.module is None or not _is_ours(node.module):
        return []
    first = _first_part(node.module)
    if first:
        return [first]
    return [alias.name if alias.name in names else "" for alias in node.names]


def _is_ours(dotted: str) -> bool:
    return dotted == "webex_bulk" or dotted.startswith("webex_bulk.")


def _first_part(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def external_roots(tree: ast.AST) -> set[str]:
    """Top-level names of the third-party and standard modules a source imports."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found - {"webex_bulk"}


def clock_reads(tree: ast.AST) -> list[str]:
    """Calls like ``datetime.now()`` or ``date.today()``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if node.func.attr in CLOCK_CALLS and name in {"datetime", "date"}:
                found.append(f"{name}.{node.func.attr}() on line {node.lineno}")
    return found


def violations(owner: str, source: str, names: set[str]) -> list[str]:
    """Every layering rule that one module's source breaks."""
    tree = ast.parse(source)
    found: list[str] = []
    rank = None if owner == SIMULATOR else layer_of(owner)
    if owner != SIMULATOR and rank is None:
        return [f"{owner}: not placed in a layer; add it to LAYERS in tests/test_layering.py"]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for target in internal_target(node, owner, names):
            found.extend(_check_edge(owner, rank, target, node.lineno))
    if rank == BOTTOM:
        found.extend(
            f"{owner}: bottom layer imports {m}" for m in external_roots(tree) & BOTTOM_FORBIDDEN
        )
        found.extend(f"{owner}: bottom layer reads the clock: {c}" for c in clock_reads(tree))
    return found


def _check_edge(owner: str, rank: int | None, target: str, line: int) -> list[str]:
    where = f"{owner} (line {line}) imports {target or 'webex_bulk'}"
    if owner == SIMULATOR:
        return [] if target in (SIMULATOR, "") else [f"{where}: the simulator imports no engine"]
    if target == SIMULATOR:
        return [] if rank == TOP else [f"{where}: the engine imports nothing from the simulator"]
    target_rank = layer_of(target) if target else BOTTOM
    if target_rank is None:
        return [f"{where}: {target} is not placed in a layer"]
    assert rank is not None
    return [f"{where}: a higher layer"] if target_rank > rank else []


def package_sources() -> list[tuple[str, Path]]:
    """(owner, path) of every module: top-level modules by name, simulator files as one."""
    found = [(path.stem, path) for path in sorted(PACKAGE.glob("*.py"))]
    found += [(SIMULATOR, path) for path in sorted((PACKAGE / SIMULATOR).rglob("*.py"))]
    return found


def module_names() -> set[str]:
    """Names that ``from webex_bulk import X`` resolves to a module or package."""
    return {path.stem for path in PACKAGE.glob("*.py")} | {SIMULATOR}


def test_every_module_respects_the_layers() -> None:
    """No module of the package breaks a layering rule."""
    names = module_names()
    found = []
    for owner, path in package_sources():
        found.extend(violations(owner, path.read_text(encoding="utf-8"), names))
    assert found == []


@pytest.mark.parametrize(
    ("owner", "source", "expected"),
    [
        ("data_pipeline", "import asyncio", "bottom layer imports asyncio"),
        ("models", "from time import monotonic", "bottom layer imports time"),
        ("config", "import click", "bottom layer imports click"),
        ("normalise", "import aiohttp.web", "bottom layer imports aiohttp"),
        ("data_pipeline", "import datetime\nx = datetime.datetime.now()", "reads the clock"),
        ("config", "from webex_bulk.executor import run", "a higher layer"),
        ("batch_iterator", "from webex_bulk import executor", "a higher layer"),
        ("executor", "from webex_bulk.cli import main", "a higher layer"),
        ("executor", "from webex_bulk.simulator.app import build", "imports nothing from the"),
        ("writers", "import webex_bulk.simulator", "imports nothing from the simulator"),
        ("simulator", "from webex_bulk.models import Row", "the simulator imports no engine"),
        ("simulator", "from webex_bulk import executor", "the simulator imports no engine"),
        ("mystery", "import os", "not placed in a layer"),
        ("data_pipeline", "from .executor import run", "a higher layer"),
    ],
)
def test_the_checker_catches_each_kind_of_violation(owner: str, source: str, expected: str) -> None:
    """Each forbidden import, placed in a module, is reported."""
    found = violations(owner, source, module_names() | {"executor", "cli"})
    assert any(expected in item for item in found), found


@pytest.mark.parametrize(
    ("owner", "source"),
    [
        ("cli", "from webex_bulk.simulator.cli import simulator_command"),
        ("executor", "import asyncio\nfrom webex_bulk.writers import OutcomeWriter"),
        ("startup_checks", "from webex_bulk.batch_iterator import RowSelection"),
        ("actions_numbers", "from webex_bulk import action_helpers"),
        ("simulator", "from webex_bulk.simulator.records import Person\nfrom . import app"),
        ("data_pipeline", "from webex_bulk import __version__"),
    ],
)
def test_the_checker_allows_the_permitted_imports(owner: str, source: str) -> None:
    """Downward and same-layer imports, cli → simulator and simulator-internal imports pass."""
    assert violations(owner, source, module_names() | {"writers", "batch_iterator"}) == []
