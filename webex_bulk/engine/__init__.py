"""Phases, workers, terminal states, shutdown, deadline, resume; plan; preflight.

The face of the package: what the command line uses. Everything else is private to ``engine``.
"""

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
