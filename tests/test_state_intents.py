"""The run's intents (``intents.json``): what a row records survives a new process reading the run
directory, an empty value forgets, a damaged file is ignored with a note, and the file is set
aside with the other run files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from webex_bulk.state import IntentLog, RunInfo, open_run
from webex_bulk.state.intents import INTENTS_FILE

texts = st.text(min_size=1, max_size=40)


# Each record is an fsynced atomic write: no per-example deadline on a loaded disk, fewer examples.
@settings(deadline=None, max_examples=30)
@given(st.dictionaries(texts, texts, max_size=8))
def test_recorded_intents_read_back_the_same(values: dict[str, str]) -> None:
    """Every key and value recorded (any text) is recalled the same by a log opened afresh."""
    with tempfile.TemporaryDirectory() as scratch:
        log = IntentLog(Path(scratch))
        for key, value in values.items():
            log.record(key, value)
        again = IntentLog(Path(scratch))
        assert {key: again.recall(key) for key in values} == values
        assert again.notes == []


def test_an_empty_value_forgets_the_intent(tmp_path: Path) -> None:
    """Recording "" under a key forgets it, for this log and for the next reader."""
    log = IntentLog(tmp_path)
    log.record("move user:ann@example.com L1", "JOB1")
    log.record("move user:bob@example.com L1", "JOB2")
    log.record("move user:ann@example.com L1", "")
    assert log.recall("move user:ann@example.com L1") == ""
    again = IntentLog(tmp_path)
    assert again.recall("move user:ann@example.com L1") == ""
    assert again.recall("move user:bob@example.com L1") == "JOB2"


def test_a_damaged_file_is_ignored_with_a_note(tmp_path: Path) -> None:
    """A torn or foreign ``intents.json`` is no intent at all, said in a note, never a crash."""
    (tmp_path / INTENTS_FILE).write_bytes(b'{"move user:ann')
    torn = IntentLog(tmp_path)
    assert torn.recall("move user:ann") == ""
    [note] = torn.notes
    assert note.startswith(f"{INTENTS_FILE} ignored (")
    (tmp_path / INTENTS_FILE).write_text('{"key": 3}', encoding="utf-8")
    assert IntentLog(tmp_path).notes == [f"{INTENTS_FILE} ignored (not a map of texts)"]


def test_fresh_sets_the_intents_aside_with_the_run(tmp_path: Path) -> None:
    """``--fresh`` moves ``intents.json`` aside with the run's other files: a new run starts no
    poll of an old run's job."""
    info = RunInfo("in.csv", "0" * 64, "0.1.0", "2030-01-01T00:00:00+00:00", {}, "run1")
    open_run(tmp_path, info, fresh=False)
    IntentLog(tmp_path).record("move user:ann@example.com L1", "JOB1")
    open_run(tmp_path, info, fresh=True)
    assert not (tmp_path / INTENTS_FILE).exists()
    assert IntentLog(tmp_path).recall("move user:ann@example.com L1") == ""
    assert (tmp_path / "archive" / "run1" / INTENTS_FILE).exists()
