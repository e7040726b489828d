"""Documentation stays complete: help on every command and option, a doc per module, every
setting and reason code documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

import webex_bulk
from webex_bulk.cli.commands import main
from webex_bulk.config import ENV_PREFIX, SPECS
from webex_bulk.error_handling import Reason

ROOT = Path(webex_bulk.__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: DESIGN §3: module of the package → the docs that describe it.
MODULE_DOCS: dict[str, tuple[str, ...]] = {
    "data_pipeline": ("input_schema.md", "data_pipeline.md"),
    "config": ("config.md",),
    "batch_iterator": ("batch_iterator.md",),
    "connection_client": ("connection_client.md",),
    "actions_registry": ("actions_registry.md",),
    "action_helpers": ("action_helpers.md",),
    "executor": ("executor.md",),
    "circuit_breaker": ("executor.md",),
    "error_handling": ("error_handling.md",),
    "writers": ("writers.md",),
    "state_store": ("state_store.md",),
    "startup_checks": ("startup_checks.md",),
    "log": ("logging.md",),
}


def commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command of the CLI, nested groups included, by its full name."""
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        yield full, command
        if isinstance(command, click.Group):
            yield from commands(command, f"{full} ")


def all_docs_text() -> str:
    """README and every docs page, concatenated."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages if page.exists())


@pytest.mark.parametrize(("name", "command"), list(commands(main)), ids=lambda v: str(v))
def test_every_command_has_help(name: str, command: click.Command) -> None:
    """Each command has a help text, and each of its options one too."""
    assert (command.help or "").strip(), f"webex-bulk {name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"webex-bulk {name} {param.opts[0]} has no help"


def test_every_command_is_documented() -> None:
    """Each command appears as `webex-bulk <command>` in the README or a docs page."""
    text = all_docs_text()
    missing = [name for name, _ in commands(main) if f"webex-bulk {name}" not in text]
    assert missing == []


def test_every_seed_doc_exists_and_is_mapped_in_the_architecture() -> None:
    """Each seed module's page exists and docs/architecture.md maps it to its place."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    docs = sorted({doc for pages in MODULE_DOCS.values() for doc in pages})
    missing = [doc for doc in docs if not (DOCS / doc).exists() or f"]({doc})" not in text]
    assert missing == []


def test_the_architecture_lists_every_module_of_the_package() -> None:
    """Every module of the package (the simulator has its own page) is named in the module map."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "webex_bulk"
    modules = [
        path.relative_to(package).as_posix()
        for path in sorted(package.rglob("*.py"))
        if path.name != "__init__.py" and "simulator" not in path.relative_to(package).parts
    ]
    assert [module for module in modules if f"`{module}`" not in text] == []


def test_readme_and_architecture_exist() -> None:
    """The README and the architecture page are there."""
    assert (ROOT / "README.md").exists()
    assert (DOCS / "architecture.md").exists()


def test_config_doc_lists_every_setting_and_its_variable() -> None:
    """docs/config.md names every setting and its WEBEX_BULK_* variable."""
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    missing = [key for key in SPECS if f"`{key}`" not in text]
    missing += [key for key in SPECS if f"{ENV_PREFIX}{key.upper()}" not in text]
    assert missing == []


def test_error_handling_doc_lists_every_reason_code() -> None:
    """docs/error_handling.md names every reason code."""
    text = (DOCS / "error_handling.md").read_text(encoding="utf-8")
    assert [reason.value for reason in Reason if f"`{reason.value}`" not in text] == []
