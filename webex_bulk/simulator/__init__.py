"""A local Webex Calling API simulator: an in-memory tenant behind a real aiohttp server, with
seeded faults and load knobs. Imports nothing from the rest of ``webex_bulk``.
"""

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
