"""Fixtures of the reliability suite: the size of each test and where its figures go.

``make test`` runs every test here at its small size; ``make torture`` runs them at full size
(``TORTURE_SCALE=full``) and prints the figures each test recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

FULL = os.environ.get("TORTURE_SCALE", "small") == "full"
FIGURES_FILE = Path(
    os.environ.get(
        "TORTURE_FIGURES", Path(__file__).parents[2] / "bench" / "results" / "torture.json"
    )
)


def scale(small: int, full: int) -> int:
    """The size of a test: ``small`` in ``make test``, ``full`` in ``make torture``."""
    return full if FULL else small


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Callable[..., None]]:
    """Record figures of a test (kills, rows, requests…); kept only at full size."""
    recorded: dict[str, Any] = {}

    def record(**values: Any) -> None:
        recorded.update(values)

    yield record
    if FULL and recorded:
        existing = json.loads(FIGURES_FILE.read_text()) if FIGURES_FILE.exists() else {}
        existing[request.node.nodeid] = recorded
        FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
        FIGURES_FILE.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
