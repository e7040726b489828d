"""docs/operations.md stays true to the product: its exit codes and the files it names."""

from __future__ import annotations

import re
from pathlib import Path

import webex_bulk
from webex_bulk.cli.commands import ExitCode

ROOT = Path(webex_bulk.__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"


def exit_table(path: Path) -> dict[str, str]:
    """The rows of the ``| exit | meaning |`` table of a page, by code."""
    text = path.read_text(encoding="utf-8")
    table = text.split("| exit | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| ([\d /]+) \| (.+) \|$", table, re.MULTILINE)
    return {code.strip(): meaning.strip() for code, meaning in rows}


def test_the_exit_codes_are_the_readmes() -> None:
    """The alerting page lists the README's exit codes, each with the same meaning."""
    assert exit_table(OPERATIONS) == exit_table(ROOT / "README.md")


def test_every_exit_code_of_the_cli_is_listed() -> None:
    """Each exit code the CLI can end with appears in the alerting table."""
    listed = {int(code) for row in exit_table(OPERATIONS) for code in row.split(" / ")}
    assert {int(code) for code in ExitCode} <= listed


def test_the_files_it_names_exist() -> None:
    """Every repository path in the page's file table exists."""
    text = OPERATIONS.read_text(encoding="utf-8")
    named = re.findall(r"`((?:deploy/|Dockerfile|requirements)[\w./-]*)`", text)
    assert named
    missing = [name for name in named if not (ROOT / name).exists()]
    assert missing == []
