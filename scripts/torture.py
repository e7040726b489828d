"""The reliability suite at full size (``make torture``): runs ``pytest tests/reliability`` with
``TORTURE_SCALE=full``, then prints one line per test with its outcome, its time and the
figures it recorded (``bench/results/torture.json``).

    python scripts/torture.py [-k EXPR] [--figures PATH] [-- extra pytest args]

Exit status: pytest's (0 when every test passed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "bench" / "results" / "torture.json"
#: Width of the printed table; lists of figures are summarised (count, min–max).
WIDTH = 100


def run_suite(figures: Path, extra: Sequence[str]) -> tuple[int, dict[str, tuple[str, float]]]:
    """Run the suite at full size; its exit status and each test's outcome and seconds."""
    figures.parent.mkdir(parents=True, exist_ok=True)
    figures.unlink(missing_ok=True)  # figures of this run only
    env = {**os.environ, "TORTURE_SCALE": "full"}
    env["TORTURE_FIGURES"] = str(figures)
    with tempfile.TemporaryDirectory(prefix="torture-") as scratch:
        report = Path(scratch) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "tests/reliability", "-q"]
        # Its own temp root: a parallel pytest session must not clean up this one's folders.
        command += [f"--junitxml={report}", f"--basetemp={Path(scratch) / 'tmp'}", *extra]
        status = subprocess.call(command, cwd=ROOT, env=env)
        return status, read_junit(report) if report.exists() else {}


def read_junit(report: Path) -> dict[str, tuple[str, float]]:
    """Test id (``file::name[params]``) → (outcome, seconds) from a JUnit XML report."""
    results: dict[str, tuple[str, float]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        node = f"{module}.py::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in {"failure", "error"}:
                outcome = "FAILED"
            elif child.tag == "skipped":
                outcome = "skipped"
        results[node] = (outcome, float(case.get("time", 0.0)))
    return results


def summarise(value: Any) -> str:
    """One figure as short text: lists as count and range, mappings as key=value."""
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        return f"{len(value)}× {min(value)}–{max(value)}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={summarise(v)}" for k, v in value.items()) + "}"
    return str(value)


def short_id(node: str, width: int = 70) -> str:
    """``tests/reliability/test_x.py::test_y[p]`` → ``test_x::test_y[p]``, shortened in the
    middle of the test name so that the parameters stay readable."""
    path, _, name = node.partition("::")
    text = f"{Path(path).stem}::{name}"
    if len(text) <= width:
        return text
    base, bracket, params = text.partition("[")
    tail = bracket + params
    return base[: max(10, width - len(tail) - 1)] + "…" + tail[-(width - 11) :]


def table(results: Mapping[str, tuple[str, float]], figures: Mapping[str, Any]) -> str:
    """The printed table: test, outcome, seconds, then its figures on the following lines."""
    lines = [f"{'test':<70} {'result':>7} {'seconds':>8}", "-" * WIDTH]
    for node in sorted(set(results) | set(figures)):
        outcome, seconds = results.get(_junit_key(node, results), ("?", 0.0))
        lines.append(f"{short_id(node):<70} {outcome:>7} {seconds:>8.1f}")
        recorded = figures.get(node, {})
        if recorded:
            text = ", ".join(f"{k}={summarise(v)}" for k, v in sorted(recorded.items()))
            lines += textwrap.wrap(
                text,
                WIDTH,
                initial_indent="    ",
                subsequent_indent="      ",
                break_on_hyphens=False,
            )
    passed = sum(outcome == "passed" for outcome, _ in results.values())
    lines.append("-" * WIDTH)
    lines.append(f"{passed} of {len(results)} tests passed")
    return "\n".join(lines)


def _junit_key(node: str, results: Mapping[str, Any]) -> str:
    """JUnit names the module by its dotted path; match a pytest node id to it."""
    if node in results:
        return node
    name = node.partition("::")[2]
    stem = Path(node.partition("::")[0]).stem
    return next((key for key in results if key.endswith(f"{stem}.py::{name}")), node)


def main(argv: Sequence[str]) -> int:
    """Run the full-size suite and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, default=FIGURES, help="where tests record")
    parser.add_argument("-k", dest="keyword", default=None, help="only tests matching EXPR")
    args, extra = parser.parse_known_args(argv)
    extra = [arg for arg in extra if arg != "--"]
    if args.keyword:
        extra += ["-k", args.keyword]
    status, results = run_suite(args.figures, extra)
    figures = json.loads(args.figures.read_text()) if args.figures.exists() else {}
    print()
    print(table(results, figures))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
