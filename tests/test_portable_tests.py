"""The suite runs the same in any checkout: no test or script names an absolute path of one
machine, and no test skips itself (what a test needs from outside is vendored, see testing.md)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Absolute paths that only exist on some machine (home folders, work areas, mounted volumes).
MACHINE_PATH = re.compile(r"^/(work|home|root|Users|mnt|srv|opt)/")
SKIPS = frozenset({"skip", "skipif", "importorskip"})


def sources() -> Iterator[tuple[Path, ast.Module]]:
    """Every Python file of the tests and the scripts, parsed."""
    for folder in ("tests", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_no_file_names_an_absolute_machine_path() -> None:
    """String constants of tests and scripts never start with a machine's own folder."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for path, tree in sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and MACHINE_PATH.match(node.value)
    ]
    assert found == []


def test_no_test_skips_itself() -> None:
    """No ``pytest.skip``, ``pytest.mark.skip(if)`` or ``pytest.importorskip`` in the tests."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in SKIPS
    ]
    assert found == []


def test_the_checks_can_fail() -> None:
    """The path pattern and the skip finder recognise what they are meant to refuse."""
    assert MACHINE_PATH.match("/" + "work/shared/webex-openapi")  # split: this file is scanned too
    assert not MACHINE_PATH.match("/v1/people")
    tree = ast.parse("import pytest\npytestmark = pytest.mark.skipif(True, reason='x')")
    assert any(isinstance(n, ast.Attribute) and n.attr in SKIPS for n in ast.walk(tree))
