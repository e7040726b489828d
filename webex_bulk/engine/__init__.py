"""Phases, workers, terminal states, shutdown, deadline, resume; plan; preflight.

The face of the package: what the command line uses. Everything else is private to ``engine``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webex_bulk.engine.batch_iterator import Caps, parse_only
    from webex_bulk.engine.deadline import stop_note, window_seconds
    from webex_bulk.engine.executor import StopControl
    from webex_bulk.engine.export import ExportRequest, ExportResult, export_tenant
    from webex_bulk.engine.planner import PlanResult, plan_file
    from webex_bulk.engine.preflight import Check, raise_on_failure
    from webex_bulk.engine.runner import RunResult, Timer, run_file
    from webex_bulk.engine.session import RunRequest, preflight_file
    from webex_bulk.engine.summary import render_summary

__all__ = [
    "Caps",
    "Check",
    "ExportRequest",
    "ExportResult",
    "PlanResult",
    "RunRequest",
    "RunResult",
    "StopControl",
    "Timer",
    "export_tenant",
    "parse_only",
    "plan_file",
    "preflight_file",
    "raise_on_failure",
    "render_summary",
    "run_file",
    "stop_note",
    "window_seconds",
]

#: The module of each name, imported on first use: a command that needs no engine (``validate``,
#: ``template``, ``status``, ``--help``) starts without loading aiohttp.
_HOMES = {
    "Caps": "batch_iterator",
    "parse_only": "batch_iterator",
    "stop_note": "deadline",
    "window_seconds": "deadline",
    "StopControl": "executor",
    "ExportRequest": "export",
    "ExportResult": "export",
    "export_tenant": "export",
    "PlanResult": "planner",
    "plan_file": "planner",
    "Check": "preflight",
    "raise_on_failure": "preflight",
    "RunResult": "runner",
    "Timer": "runner",
    "run_file": "runner",
    "RunRequest": "session",
    "preflight_file": "session",
    "render_summary": "summary",
}


def __getattr__(name: str) -> Any:
    """A name of the face, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
