"""How run-directory records reach the disk: the one converter, canonical JSON, atomic writes.

Every ``OSError`` of a file operation becomes a ``StorageError`` naming the file and the
operation. Knows nothing of journals, checkpoints or locks: their modules build on this one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cattrs

from webex_bulk.error_handling import StorageError

TEMP_SUFFIX = ".tmp"
#: The largest record file read (checkpoint, run.json, lock, summary): all are a few KiB, so
#: anything bigger is damage, refused before it is read whole.
MAX_RECORD_BYTES = 1 << 20
#: The deepest nesting of arrays and objects a record may have (the deepest real one has 3).
MAX_RECORD_DEPTH = 16
_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


# ---------------------------------------------------------------------------------------------
# Persisted records


def make_converter() -> cattrs.Converter:
    """The one converter of the persisted records (journal lines, checkpoint, run info, lock).

    Numbers and strings are structured strictly (no ``"5"`` → 5), so a damaged record is
    refused instead of being read as something else.
    """
    converter = cattrs.Converter()
    converter.register_structure_hook(int, _strict(int))
    converter.register_structure_hook(str, _strict(str))
    return converter


def _strict(kind: type[Any]) -> Any:
    """A hook that takes only values of exactly ``kind``; subclasses (enums) are built from it."""

    def structure(value: Any, target: type[Any]) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value if target is kind else target(value)

    return structure


def canonical_json(value: Any) -> bytes:
    """Deterministic ASCII JSON: sorted keys, no spaces; the bytes the CRC is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def decode_record(converter: cattrs.Converter, data: bytes, kind: type[Any]) -> Any:
    """Structure a JSON document or raise ValueError naming what is wrong."""
    value = load_json(data)
    try:
        return converter.structure(value, kind)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise ValueError(first_error(exc)) from None


def load_json(data: bytes) -> Any:
    """Parse a record's JSON, bounded: ValueError when it is too big, too deep or not JSON.

    The depth is checked on the bytes before parsing, so a hostile file can never reach the
    parser's recursion limit (nor the encoder's, when ``status`` prints what was read).
    """
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"larger than {MAX_RECORD_BYTES} bytes")
    depth = 0
    for match in _BRACKETS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_RECORD_DEPTH:
                raise ValueError(f"nested deeper than {MAX_RECORD_DEPTH} levels")
        elif token in (b"]", b"}"):
            depth -= 1
    try:
        return json.loads(data)
    except RecursionError:  # unreachable after the depth check; kept as the last line of defence
        raise ValueError("nested too deeply") from None
    except ValueError as exc:
        raise ValueError(first_error(exc)) from None


def read_record_bytes(path: Path) -> bytes:
    """A record file's bytes, at most ``MAX_RECORD_BYTES`` + 1 of them (OSError as it comes)."""
    with open(path, "rb") as handle:
        return handle.read(MAX_RECORD_BYTES + 1)


def first_error(exc: BaseException) -> str:
    """The first concrete problem inside an exception (a cattrs error group is unwrapped)."""
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        return first_error(exc.exceptions[0])
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------------------------------------
# File primitives: every OSError becomes a StorageError naming the file and the operation


@contextlib.contextmanager
def storage(path: Path, operation: str) -> Iterator[None]:
    """Translate an ``OSError`` of one file operation into a ``StorageError``."""
    try:
        yield
    except OSError as exc:
        cause = exc.strerror or str(exc) or type(exc).__name__
        hint = _HINTS.get(exc.errno or 0)
        raise StorageError(str(path), operation, f"{cause} ({hint})" if hint else cause) from exc


#: What to do about the errors that no retry can fix (the message adds the generic advice).
_HINTS = {
    errno.EISDIR: "a directory stands where a file belongs: move it away, or use --fresh",
    errno.ENOTDIR: "a file stands where a directory belongs: move it away",
    errno.EROFS: "make the file system writable, or choose another --run-dir",
    errno.EACCES: "make the path writable for this user, or choose another --run-dir",
}


def fsync_dir(directory: Path) -> None:
    """Make renames and new files in ``directory`` durable."""
    with storage(directory, "fsync"):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as exc:
            # Some file systems cannot fsync a directory at all; that is not a failed write.
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
                raise
        finally:
            os.close(fd)


def write_atomic(
    path: Path, data: bytes, *, sync_dir: bool = True, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` all at once: temp file, fsync, rename, fsync the directory.

    ``mode`` (e.g. 0o600 for a token file) is set on the temp file before a byte is written.
    On failure the old file is untouched and ``StorageError`` is raised (an fsync is never retried).
    """
    tmp = path.with_name(path.name + TEMP_SUFFIX)
    try:
        with storage(tmp, "write"), open(tmp, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            with storage(tmp, "fsync"):
                os.fsync(handle.fileno())
        with storage(path, "rename"):
            os.replace(tmp, path)
    except StorageError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


def file_size(path: Path) -> int:
    """The size of a file in bytes; 0 when it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
