"""The import layering of the package, checked per subpackage on the source with ``ast``.

cli → engine → {actions, http, state} → {input, config, credentials, error_handling, log,
models}; actions may use http's face, and every package uses only the face of actions, engine,
http, state and input; only http.transport catches aiohttp's exceptions. The pure modules import
no aiohttp/asyncio/click/time and read no clock. The simulator and the engine know nothing of each
other; only cli starts the simulator. No cycles.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import webex_bulk

PACKAGE = Path(webex_bulk.__file__).resolve().parent
SIMULATOR = "simulator"

#: Every unit of the package (a subpackage or a top-level module) and its rank.
RANKS: dict[str, int] = {
    "__init__": 0,
    "models": 0,
    "config": 0,
    "setting_values": 0,
    "credentials": 0,
    "error_handling": 0,
    "log": 0,
    "input": 0,
    "actions": 1,
    "http": 1,
    "state": 1,
    "engine": 2,
    "cli": 3,
}
#: Same-rank imports allowed between different units of the middle layer (importer, imported).
SIDEWAYS = frozenset({("actions", "http")})
#: Packages whose ``__init__`` is their face: other packages import only that.
FACED = frozenset({"actions", "engine", "http", "state", "input"})
#: Modules that must stay pure: no network, event loop, command line or clock.
PURE = frozenset(
    {
        "models",
        "config",
        "setting_values",
        "credentials",
        "error_handling",
        "input.*",
        "actions.bodies",
        "actions.compare",
        "actions.compared",
        "actions.export_rows",
        "actions.feature_bodies",
        "actions.group_bodies",
        "actions.settings_bodies",
        "http.retry",
        "http.rate",
        "http.limit",
        "http.in_flight",
        "http.answers",
        "http.pagination",
        "http.breaker",
    }
)
IMPURE_IMPORTS = frozenset({"aiohttp", "asyncio", "click", "time", "aiofiles", "aiolimiter"})
CLOCK_CALLS = frozenset({"now", "utcnow", "today"})


def unit_of(module: str) -> str:
    """The unit a dotted module path below the package belongs to (``engine.executor`` → engine)."""
    return module.split(".")[0]


def is_pure(module: str) -> bool:
    """Whether a module is in the pure bottom layer."""
    return module in PURE or f"{unit_of(module)}.*" in PURE


def resolve(owner: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The package modules (dotted, below ``webex_bulk``) an import statement reaches."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith("webex_bulk."):
                yield alias.name.removeprefix("webex_bulk.")
        return
    if node.level:
        base = owner.split(".")[: -node.level] if "." in owner else []
        prefix = ".".join([*base, *([node.module] if node.module else [])])
        if prefix:
            yield prefix
        else:
            yield from (alias.name for alias in node.names)
        return
    if node.module == "webex_bulk":
        yield from (
            alias.name if alias.name != "__version__" else "__init__" for alias in node.names
        )
    elif node.module and node.module.startswith("webex_bulk."):
        base = node.module.removeprefix("webex_bulk.")
        for alias in node.names:  # ``from pkg import module`` reaches the module itself
            yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported (not in functions)."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try):
            is_type_check = isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            if not is_type_check:
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        yield inner


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


def edge_violation(owner: str, target: str) -> str | None:
    """The rule an import from ``owner`` to ``target`` breaks, or None."""
    src, dst = unit_of(owner), unit_of(target)
    if src == dst or dst == "__init__":
        return None
    if src == SIMULATOR:
        return None if dst == "__init__" else "the simulator imports no engine"
    if dst == SIMULATOR:
        return None if src == "cli" else "the engine imports nothing from the simulator"
    if src not in RANKS:
        return f"{src} is not placed in a layer"
    if dst not in RANKS:
        return f"{dst} is not placed in a layer"
    if RANKS[dst] > RANKS[src]:
        return "an upward import"
    if RANKS[dst] == RANKS[src] > 0 and (src, dst) not in SIDEWAYS:
        return "a sideways import between packages of one layer"
    if (src, dst) == ("actions", "http") and target != "http":
        return "actions may use only the face of http (webex_bulk.http)"
    if dst in FACED and target != dst:
        return f"other packages may use only the face of {dst} (webex_bulk.{dst})"
    return None


#: The one module that may catch or test for aiohttp's exceptions (the rest see ``Failure``).
TRANSLATOR = "http.transport"
#: Libraries that one module owns: the terminal display, the metrics textfile format.
OWNED_LIBRARIES = {"rich": "engine.display", "prometheus_client": "engine.metrics"}


def library_roots(tree: ast.AST) -> set[str]:
    """The top-level names of the absolute imports of a module."""
    roots = {
        alias.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import)
        for alias in n.names
    }
    return roots | {
        n.module.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }


def aiohttp_exception_checks(tree: ast.AST) -> list[int]:
    """Lines that catch an ``aiohttp.*`` exception or test ``isinstance(x, aiohttp.*)``."""
    found = []
    for node in ast.walk(tree):
        checked: ast.AST | None = None
        if isinstance(node, ast.ExceptHandler):
            checked = node.type
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
            checked = node.args[1] if len(node.args) > 1 else None
        if checked is not None and any(
            isinstance(part, ast.Name) and part.id == "aiohttp" for part in ast.walk(checked)
        ):
            found.append(node.lineno)
    return found


def violations(owner: str, source: str) -> list[str]:
    """Every layering rule that one module's source breaks."""
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in resolve(owner, node):
                problem = edge_violation(owner, target)
                if problem:
                    found.append(f"{owner} (line {node.lineno}) imports {target}: {problem}")
    if is_pure(owner):
        roots = library_roots(tree)
        found.extend(f"{owner}: a pure module imports {m}" for m in sorted(roots & IMPURE_IMPORTS))
        found.extend(f"{owner}: a pure module reads the clock: {c}" for c in clock_reads(tree))
    if unit_of(owner) != SIMULATOR and owner != TRANSLATOR:
        found.extend(
            f"{owner} (line {line}): aiohttp exceptions are translated in {TRANSLATOR} only"
            for line in aiohttp_exception_checks(tree)
        )
    for library in sorted(library_roots(tree)):
        keeper = OWNED_LIBRARIES.get(library)
        if keeper is not None and owner != keeper:
            found.append(f"{owner}: {library} is used in {keeper} alone")
    if unit_of(owner) not in {"cli", SIMULATOR} and "asyncio.run(" in source:
        found.append(f"{owner}: asyncio.run belongs to cli alone")
    return found


def package_modules() -> dict[str, Path]:
    """Every module of the package by its dotted name below ``webex_bulk``."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = package_modules()


def test_every_module_respects_the_layers() -> None:
    """No module of the package breaks a layering rule."""
    found = []
    for owner, path in package_modules().items():
        found.extend(violations(owner, path.read_text(encoding="utf-8")))
    assert found == []


def test_no_module_import_cycle() -> None:
    """The graph of imports made at import time has no cycle."""
    modules = package_modules()
    graph: dict[str, set[str]] = {}
    for owner, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {t for node in module_level_imports(tree) for t in resolve(owner, node)}
        graph[owner] = {t for t in targets if t in modules and t != owner}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize(
    ("owner", "source", "expected"),
    [
        ("input.data_pipeline", "import asyncio", "a pure module imports asyncio"),
        ("models", "from time import monotonic", "a pure module imports time"),
        ("config", "import click", "a pure module imports click"),
        ("http.retry", "import aiohttp.web", "a pure module imports aiohttp"),
        ("input.normalise", "import datetime\nx = datetime.datetime.now()", "reads the clock"),
        ("config", "from webex_bulk.engine.executor import run", "an upward import"),
        ("state.writers", "from webex_bulk import engine", "an upward import"),
        ("engine.executor", "from webex_bulk.cli.commands import main", "an upward import"),
        ("engine.executor", "from webex_bulk.simulator.app import build", "nothing from the"),
        ("state.writers", "import webex_bulk.simulator", "imports nothing from the simulator"),
        ("simulator.app", "from webex_bulk.models import Row", "the simulator imports no engine"),
        ("mystery", "import os\nfrom webex_bulk import models", "not placed in a layer"),
        ("http.client", "from webex_bulk.state.persistence import x", "sideways import"),
        ("actions.people", "from webex_bulk.http.retry import x", "only the face of http"),
        ("engine.planner", "from webex_bulk.actions.registry import x", "face of actions"),
        ("cli.commands", "from webex_bulk.actions import lookups", "face of actions"),
        ("input.csv_source", "from ..engine import executor", "an upward import"),
        ("cli.commands", "from webex_bulk.engine.runner import run_file", "face of engine"),
        ("engine.runner", "from webex_bulk.state.writers import x", "only the face of state"),
        ("actions.people", "from webex_bulk.input.data_pipeline import x", "face of input"),
        ("state.run_dir", "import asyncio\nasyncio.run(main())", "belongs to cli alone"),
        ("engine.preflight", "from webex_bulk.http.client import WebexClient", "face of http"),
        (
            "http.client",
            "import aiohttp\ntry:\n    pass\nexcept aiohttp.ClientError:\n    pass",
            "translated in http.transport only",
        ),
        ("engine.executor", "import aiohttp\nisinstance(e, aiohttp.ClientError)", "translated"),
        ("engine.progress", "from rich.console import Console", "rich is used in engine.display"),
        ("cli.commands", "import prometheus_client", "used in engine.metrics alone"),
    ],
)
def test_the_checker_catches_each_kind_of_violation(owner: str, source: str, expected: str) -> None:
    """Each forbidden import, placed in a module, is reported."""
    found = violations(owner, source)
    assert any(expected in item for item in found), found


@pytest.mark.parametrize(
    ("owner", "source"),
    [
        ("cli.commands", "from webex_bulk.simulator.cli import simulator_command"),
        ("engine.executor", "import asyncio\nfrom webex_bulk.state import OutcomeWriter"),
        ("engine.runner", "from webex_bulk.engine.executor import Engine"),
        ("cli.commands", "from webex_bulk.engine import run_file"),
        ("actions.people", "from webex_bulk.http import WebexClient"),
        ("engine.executor", "from webex_bulk.http import CircuitBreaker, WebexClient"),
        ("http.client", "from webex_bulk.http.transport import exchange"),
        ("http.transport", "import aiohttp\ntry:\n    pass\nexcept aiohttp.ClientError:\n    pass"),
        ("actions.people", "from webex_bulk.actions import bodies"),
        ("engine.executor", "from webex_bulk.actions import REGISTRY, ActionContext"),
        ("simulator.app", "from webex_bulk.simulator.records import Person\nfrom . import app"),
        ("input.data_pipeline", "from webex_bulk import __version__"),
    ],
)
def test_the_checker_allows_the_permitted_imports(owner: str, source: str) -> None:
    """Downward and same-package imports, cli → simulator and simulator-internal imports pass."""
    assert violations(owner, source) == []


def test_no_module_is_oversized() -> None:
    """No module of the package passes 420 lines (one responsibility per file)."""
    big = {
        name: n
        for name, path in package_modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 420
    }
    assert big == {}


#: Modules Python runs before the entry point's guard: only the standard library at their top
#: level, so a Ctrl-C during start-up lands inside ``cli.main``'s ``KeyboardInterrupt`` guard.
ENTRY_MODULES = ("__init__.py", "cli/__init__.py")


def top_level_imports(source: str) -> list[str]:
    """The modules a source imports at its top level (not inside functions)."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("path", ENTRY_MODULES)
def test_the_entry_point_modules_import_only_the_standard_library_at_their_top(
    path: str,
) -> None:
    """``webex_bulk`` and ``webex_bulk.cli`` import nothing of the package or third parties."""
    imports = top_level_imports((PACKAGE / path).read_text(encoding="utf-8"))
    outside = [name for name in imports if name.split(".")[0] not in sys.stdlib_module_names]
    assert not outside, f"{path} imports {outside} before the entry point's guard"


def test_the_entry_point_check_catches_a_package_import() -> None:
    """The check above flags an eager import of the commands."""
    imports = top_level_imports("from webex_bulk.cli.commands import main\nimport os\n")
    assert [name for name in imports if name.split(".")[0] not in sys.stdlib_module_names] == [
        "webex_bulk.cli.commands"
    ]
