"""A local Webex Calling API simulator: an in-memory tenant behind a real aiohttp server, with
seeded faults and load knobs. Imports nothing from the rest of ``webex_bulk``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webex_bulk.simulator.config import Latency, SimConfig
    from webex_bulk.simulator.harness import (
        RunningSimulator,
        SimulatorProcess,
        running_simulator,
        simulator_process,
    )

__all__ = [
    "Latency",
    "RunningSimulator",
    "SimConfig",
    "SimulatorProcess",
    "running_simulator",
    "simulator_process",
]

#: The module of each name, imported on first use: the ``simulator`` command is registered
#: on every start, its server loaded only when it runs.
_HOMES = {
    "Latency": "config",
    "SimConfig": "config",
    "RunningSimulator": "harness",
    "SimulatorProcess": "harness",
    "running_simulator": "harness",
    "simulator_process": "harness",
}


def __getattr__(name: str) -> Any:
    """A name of the face, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
