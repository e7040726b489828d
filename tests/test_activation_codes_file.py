"""activation_codes.csv: written by the writer task only, mode 0600 whatever the umask, torn
lines cut, kept by a resume, and the valid codes a new run directory starts with."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_writers import INFO, Queue, make_writer, outcome, read_rows

from webex_bulk.models import ActivationCode
from webex_bulk.state import carried_codes, open_run, read_activation_codes
from webex_bulk.state.activation_codes import (
    ACTIVATION_CODES_FILE,
    encode_code_row,
    open_codes_file,
)

NOW = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
CODE = ActivationCode(2, "=ann@example.com", "", "DMS Cisco 8851", "4711471147114711", "")


def code(line: int, secret: str, expiry: datetime.datetime) -> ActivationCode:
    """A code of Ann's 8851, minted for input line ``line``, expiring at ``expiry``."""
    stamp = expiry.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return ActivationCode(line, "ann@example.com", "", "DMS Cisco 8851", secret, stamp)


def holding(run_dir: Path, secret: str) -> list[str]:
    """The names of the files of ``run_dir`` that hold ``secret``."""
    return sorted(
        path.name
        for path in run_dir.iterdir()
        if path.is_file() and secret.encode() in path.read_bytes()
    )


@pytest.fixture
def umask_277() -> Iterator[None]:
    """A umask that would leave a new file read-only for its owner (0400)."""
    old = os.umask(0o277)
    try:
        yield
    finally:
        os.umask(old)


async def test_a_code_goes_to_its_file_only(tmp_path: Path, umask_277: None) -> None:
    """An outcome carrying a code adds one line to activation_codes.csv (mode 0600 although the
    umask says 0400; a formula-looking owner escaped) and the code is in no other file."""
    writer = make_writer(tmp_path)
    queue: Queue = asyncio.Queue()
    with_code = attrs.evolve(outcome(2), activation_code=CODE)
    for item in (with_code, outcome(3), None):
        await queue.put(item)
    await writer.run(queue)
    path = tmp_path / ACTIVATION_CODES_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [row] = read_rows(path)
    assert row == {
        "line": "2",
        "owner": "'=ann@example.com",
        "location": "",
        "model": "DMS Cisco 8851",
        "code": CODE.code,
        "expiry": "",
    }
    assert read_activation_codes(tmp_path) == [CODE]
    assert holding(tmp_path, CODE.code) == [ACTIVATION_CODES_FILE]
    assert CODE.code not in repr(with_code)


def test_an_open_sets_0600_and_cuts_a_torn_line(tmp_path: Path) -> None:
    """A file left 0644 with a torn last line is set to 0600 on open, the torn bytes are cut
    (and skipped by a read before that), and the next line starts on a line of its own."""
    path = tmp_path / ACTIVATION_CODES_FILE
    handle = open_codes_file(path)
    first = code(2, "1111222233334444", NOW)
    handle.write(encode_code_row(first) + b"3,ann@example.com,,DMS Cisco 8851,99")
    handle.close()
    os.chmod(path, 0o644)
    assert read_activation_codes(tmp_path) == [first]
    handle = open_codes_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = code(4, "5555666677778888", NOW)
    handle.write(encode_code_row(second))
    handle.close()
    assert read_activation_codes(tmp_path) == [first, second]


async def test_a_resume_keeps_codes_of_rows_not_committed(tmp_path: Path) -> None:
    """A code appended by a commit whose checkpoint is then lost stays in the file after the
    resume truncates the other outputs: the row runs again and finds it."""
    writer = make_writer(tmp_path)
    queue: Queue = asyncio.Queue()
    for item in (attrs.evolve(outcome(2), activation_code=CODE), None):
        await queue.put(item)
    await writer.run(queue)
    for name in ("checkpoint.json", "checkpoint.json.prev"):
        (tmp_path / name).unlink()
    (tmp_path / "journal.jsonl").write_bytes(b"")
    resumed = open_run(tmp_path, INFO, fresh=False)
    assert resumed.done == {}
    assert read_activation_codes(tmp_path) == [CODE]


def _run_dir(root: Path, name: str, org: str, *codes: ActivationCode) -> Path:
    """A run directory of tenant ``org`` holding ``codes``."""
    run_dir = root / name
    run_dir.mkdir(parents=True)
    fingerprint = {"base_url": "https://webexapis.com/v1", "org_id": org}
    (run_dir / "run.json").write_text(json.dumps({"fingerprint": fingerprint}))
    if codes:
        handle = open_codes_file(run_dir / ACTIVATION_CODES_FILE)
        for item in codes:
            handle.write(encode_code_row(item))
        handle.close()
    return run_dir


def test_a_new_run_directory_starts_with_the_valid_codes_beside_it(tmp_path: Path) -> None:
    """The directories beside a new one of the same tenant give their unexpired codes, each
    once, soonest expiry first; another tenant's, expired ones and a directory that already
    has its file give none."""
    hour = datetime.timedelta(hours=1)
    late, soon = code(5, "5" * 16, NOW + 48 * hour), code(6, "6" * 16, NOW + hour)
    _run_dir(tmp_path, "t-aaa.20300101T000000", "org-1", late, code(7, "7" * 16, NOW - hour))
    _run_dir(tmp_path, "t-bbb", "org-1", soon, late)
    _run_dir(tmp_path, "t-ccc", "org-2", code(8, "8" * 16, NOW + hour))
    fingerprint = {"base_url": "https://webexapis.com/v1", "org_id": "org-1"}
    new = tmp_path / "t-aaa"
    assert carried_codes(new, fingerprint, NOW) == [soon, late]
    holding = _run_dir(tmp_path, "t-ddd", "org-1", soon)
    assert carried_codes(holding, fingerprint, NOW) == []


async def test_the_writer_writes_carried_codes_first(tmp_path: Path) -> None:
    """Codes carried into a new directory are written by the writer's first commit, before
    the codes the run mints."""
    carried = code(9, "9" * 16, NOW)
    writer = make_writer(tmp_path, carried_codes=[carried])
    queue: Queue = asyncio.Queue()
    for item in (attrs.evolve(outcome(2), activation_code=CODE), None):
        await queue.put(item)
    await writer.run(queue)
    assert read_activation_codes(tmp_path) == [carried, CODE]


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    line=st.integers(min_value=1, max_value=10**7),
    owner=TEXT,
    location=TEXT,
    model=TEXT,
    secret=TEXT,
    expiry=TEXT,
)
def test_a_code_line_reads_back_to_the_same_record(
    tmp_path_factory: pytest.TempPathFactory,
    line: int,
    owner: str,
    location: str,
    model: str,
    secret: str,
    expiry: str,
) -> None:
    """Any record written to the file (quotes, commas, line breaks, formula-looking cells)
    reads back equal."""
    run_dir = tmp_path_factory.mktemp("codes")
    record = ActivationCode(line, owner, location, model, secret, expiry)
    handle = open_codes_file(run_dir / ACTIVATION_CODES_FILE)
    handle.write(encode_code_row(record))
    handle.close()
    assert read_activation_codes(run_dir) == [record]
