"""The token file: a rotated refresh token written back atomically, with mode 0600.

Merges into the JSON file and keeps its other keys; never logs and never reads the environment.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def save_token_file(path: Path, updates: Mapping[str, str]) -> None:
    """Merge ``updates`` into the JSON token file, keeping its other keys; atomic, mode 0600.

    Temp file in the same directory, fsync, rename, fsync of the directory. Raises OSError, or
    ValueError when the present file is not a JSON object (it is left untouched).
    """
    try:
        current = jsonlib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        current = {}
    if not isinstance(current, dict):
        raise ValueError("the token file is not a JSON object")
    current.update(updates)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            jsonlib.dump(current, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
