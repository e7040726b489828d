"""Helpers of the engine tests: a simulator on 127.0.0.1 and a way to run the engine on it.

Engine tests assert on output files and on the simulator's counts and tenant, never on a mock.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import attrs

from webex_bulk.config import Settings
from webex_bulk.engine.executor import RunResult
from webex_bulk.simulator import RunningSimulator

#: Settings that keep engine tests quick: no real waits between retries or consistency lookups.
FAST = {
    "rate": 1000.0,
    "concurrency": 8,
    "backoff_base": 0.0,
    "backoff_cap": 0.0,
    "consistency_wait": 0.0,
    "retry_after_default": 0.05,
    "breaker_cooldown": 0.05,
    "checkpoint_interval": 0.05,
    "shutdown_grace": 1.0,
    "read_timeout": 5.0,
}


async def aside(sim: RunningSimulator, name: str, payload: Mapping[str, Any] | None = None) -> Any:
    """Call a ``/_sim/<name>`` side endpoint (POST when ``payload`` is given); its JSON."""
    async with aiohttp.ClientSession() as session:
        url = f"{sim.root_url}/_sim/{name}"
        if payload is None:
            async with session.get(url) as answer:
                return await answer.json()
        async with session.post(url, json=payload) as answer:
            return await answer.json()


@attrs.frozen
class EngineRun:
    """What one engine run left behind."""

    result: RunResult
    output: str

    @property
    def exit_code(self) -> int:
        """The process exit code the CLI would return."""
        return self.result.exit_code

    def rows(self, status: str) -> list[dict[str, str]]:
        """The rows of ``success.csv`` / ``rejected.csv`` / ``pending.csv``."""
        path = self.result.run_dir / f"{status}.csv"
        if not path.exists():
            return []
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))


def settings_for(sim: RunningSimulator, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings pointing at the simulator, with quick waits."""
    values = {**FAST, "base_url": sim.base_url, "runs_root": str(tmp_path / "runs"), **overrides}
    return Settings(**values)


def write_csv(path: Path, text: str) -> Path:
    """Write a CSV fixture (leading indentation of a triple-quoted string removed)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
