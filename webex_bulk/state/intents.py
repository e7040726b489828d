"""The run's intents: a remote job a row has started and not seen end (a move-users job id).

Each record is durable before the row goes on (the whole small file is replaced atomically), so a
run killed while it waits for the job finds it again instead of starting a second one.
"""

from __future__ import annotations

import json
from pathlib import Path

from webex_bulk.state.persistence import load_json, read_record_bytes, storage, write_atomic

INTENTS_FILE = "intents.json"


class IntentLog:
    """``key → value`` (e.g. a row's move → its job id), kept in ``intents.json`` of a run.

    Read once when the run opens; a damaged file is ignored with a note: an intent only saves a
    second job, and the job itself refuses what no longer applies.
    """

    def __init__(self, run_dir: Path) -> None:
        self._path = run_dir / INTENTS_FILE
        self._values: dict[str, str] = {}
        self.notes: list[str] = []
        if not self._path.exists():
            return
        try:
            with storage(self._path, "read"):
                data = load_json(read_record_bytes(self._path))
        except ValueError as exc:
            self.notes.append(f"{self._path.name} ignored ({exc}): its jobs are looked up again")
            return
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            self._values = {str(key): value for key, value in data.items()}
        else:
            self.notes.append(f"{self._path.name} ignored (not a map of texts)")

    def recall(self, key: str) -> str:
        """The value recorded under ``key``; "" when none."""
        return self._values.get(key, "")

    def record(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` ("" forgets it); durable when this returns."""
        if value:
            self._values[key] = value
        else:
            self._values.pop(key, None)
        data = json.dumps(self._values, indent=2, sort_keys=True).encode() + b"\n"
        write_atomic(self._path, data)
