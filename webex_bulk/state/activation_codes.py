"""``activation_codes.csv``: the device activation codes a run directory has handed out.

Append-only, mode 0600 whatever the umask, never truncated by a resume: every line is a code
Webex did mint, so it is also the ledger a later run reads to mint no second code. A new run
directory starts with the still-valid codes of the directories beside it of the same tenant.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from webex_bulk.input import escape_cell, unescape_cell
from webex_bulk.models import ActivationCode
from webex_bulk.state.persistence import storage
from webex_bulk.state.run_dir import RUN_FILE

ACTIVATION_CODES_FILE = "activation_codes.csv"
ACTIVATION_CODE_COLUMNS = ("line", "owner", "location", "model", "code", "expiry")
#: Owner read and write only: the codes let anyone register a phone as its owner.
FILE_MODE = 0o600
_BOM = b"\xef\xbb\xbf"


def encode_code_row(code: ActivationCode) -> bytes:
    """One CSV line of the file (cells escaped against spreadsheet formulas, ``\\r\\n`` end)."""
    cells = (str(code.line), code.owner, code.location, code.model, code.code, code.expiry)
    return _csv_line([escape_cell(cell) for cell in cells])


def open_codes_file(path: Path) -> BinaryIO:
    """Open the file for appending: created with mode 0600 (and set to it, whatever the umask
    or an earlier mode), a torn last line (a crash mid-append) cut off, the header written when
    the file is new."""
    with storage(path, "open"):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            _cut_torn_line(fd)
            handle = os.fdopen(fd, "ab")
        except BaseException:
            os.close(fd)
            raise
    if handle.tell() == 0:
        with storage(path, "write"):
            handle.write(_BOM + _csv_line(list(ACTIVATION_CODE_COLUMNS)))
    return handle


def _cut_torn_line(fd: int) -> None:
    """Truncate after the last line end (nothing is cut from a file that ends with one)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    tail = os.pread(fd, min(size, 1 << 16), max(0, size - (1 << 16)))
    if tail.endswith(b"\n"):
        return
    os.ftruncate(fd, size - len(tail) + tail.rfind(b"\n") + 1)


def read_activation_codes(run_dir: Path) -> list[ActivationCode]:
    """Every complete code line of the run directory's file, in file order (none when there is
    no file); a torn or malformed line is skipped, never an error."""
    path = run_dir / ACTIVATION_CODES_FILE
    if not path.exists():
        return []
    with storage(path, "read"):
        data = path.read_bytes()
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    complete = text[: text.rfind("\n") + 1]
    codes = []
    with contextlib.suppress(csv.Error):  # a damaged end: the codes before it still count
        for record in csv.reader(io.StringIO(complete, newline="")):
            if len(record) != len(ACTIVATION_CODE_COLUMNS) or not record[0].isdigit():
                continue  # the header, or a line this version cannot read
            line, owner, location, model, code, expiry = (unescape_cell(c) for c in record)
            codes.append(ActivationCode(int(line), owner, location, model, code, expiry))
    return codes


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode("utf-8", errors="replace")


def carried_codes(
    run_dir: Path, fingerprint: Mapping[str, Any], now: datetime.datetime
) -> list[ActivationCode]:
    """The codes to start a run directory that has no ``activation_codes.csv`` yet with: those
    of the run directories beside it (a run set aside by ``--fresh``, the run of an earlier
    version of the file) whose ``run.json`` names the same tenant, not expired at ``now``,
    each code once, soonest expiry first. So the newest directory holds every valid code."""
    if (run_dir / ACTIVATION_CODES_FILE).exists() or not run_dir.parent.is_dir():
        return []
    tenant = json.loads(json.dumps(dict(fingerprint)))
    found: dict[str, tuple[datetime.datetime, ActivationCode]] = {}
    for path in sorted(run_dir.parent.glob(f"*/{ACTIVATION_CODES_FILE}")):
        other = path.parent
        if other == run_dir or _fingerprint(other / RUN_FILE) != tenant:
            continue
        for code in read_activation_codes(other):
            expiry = code.expires_at
            if expiry is not None and expiry > now:
                found.setdefault(code.code, (expiry, code))
    return [code for _, code in sorted(found.values(), key=lambda pair: pair[0])]


def _fingerprint(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None
