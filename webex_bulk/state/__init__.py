"""The run directory: journal, checkpoint, lock, the single writer task and the output CSVs.

The face of the package: what the engine and the command line use. Everything else is private
to ``state``.
"""

from webex_bulk.state.activation_codes import (
    ACTIVATION_CODES_FILE,
    carried_codes,
    read_activation_codes,
)
from webex_bulk.state.intents import IntentLog
from webex_bulk.state.lock import RunLock, force_unlock
from webex_bulk.state.persistence import write_atomic
from webex_bulk.state.run_dir import (
    EVENTS_FILE,
    ResumeState,
    RunInfo,
    default_run_dir,
    open_run,
    read_status,
)
from webex_bulk.state.writers import (
    OutcomeWriter,
    PhaseDone,
    csv_table,
    outcome_cells,
    output_columns,
    row_cells,
    write_summary,
)

__all__ = [
    "ACTIVATION_CODES_FILE",
    "EVENTS_FILE",
    "IntentLog",
    "OutcomeWriter",
    "PhaseDone",
    "ResumeState",
    "RunInfo",
    "RunLock",
    "carried_codes",
    "csv_table",
    "default_run_dir",
    "force_unlock",
    "open_run",
    "outcome_cells",
    "output_columns",
    "read_activation_codes",
    "read_status",
    "row_cells",
    "write_atomic",
    "write_summary",
]
