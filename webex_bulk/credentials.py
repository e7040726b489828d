"""Credentials: environment variables or a token file, never flags, never logged.

Reads the token file it is given; no network, no clock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from webex_bulk.error_handling import ConfigError


@attrs.frozen(repr=False)
class Credentials:
    """How to authenticate: a static token, or a refresh grant. ``repr`` never shows secrets."""

    access_token: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_file: Path | None = None

    @property
    def can_refresh(self) -> bool:
        """Whether a refresh grant is possible."""
        return bool(self.refresh_token and self.client_id and self.client_secret)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for the log redactor."""
        found = (self.access_token, self.refresh_token, self.client_secret)
        return tuple(s for s in found if s)

    def __repr__(self) -> str:
        mode = "refresh" if self.can_refresh else "static" if self.access_token else "none"
        return f"Credentials(mode={mode!r}, token_file={self.token_file!r})"


def load_credentials(env: Mapping[str, str] | None = None) -> Credentials:
    """Read credentials from ``WEBEX_TOKEN`` / ``WEBEX_BULK_*`` variables and the token file.

    The token file is JSON ``{"access_token", "refresh_token", "client_id", "client_secret"}``
    (any subset); environment variables win over the file, except for the refresh token, which
    the client rewrites in the file when Webex rotates it. Values are stripped of surrounding
    whitespace (a CRLF ``.env`` file); any other control character is refused. A refresh grant
    needs the token file: a rotated refresh token kept only in memory would be lost.
    """
    env = env if env is not None else os.environ
    file_values: dict[str, str] = {}
    token_file = env.get("WEBEX_BULK_TOKEN_FILE", "").strip()
    path = Path(token_file) if token_file else None
    if path is not None:
        file_values = _read_token_file(path)

    def variable(name: str) -> str | None:
        return _secret_value(env.get(name), name, f"environment variable {name}")

    def in_file(key: str) -> str | None:
        return _secret_value(file_values.get(key), key, f"token file {path}")

    credentials = Credentials(
        access_token=variable("WEBEX_BULK_TOKEN")
        or variable("WEBEX_TOKEN")
        or in_file("access_token"),
        # The file wins for the refresh token: a rotated one is written back there, and the
        # variable would still hold the retired one in the next process.
        refresh_token=in_file("refresh_token") or variable("WEBEX_BULK_REFRESH_TOKEN"),
        client_id=variable("WEBEX_BULK_CLIENT_ID") or in_file("client_id"),
        client_secret=variable("WEBEX_BULK_CLIENT_SECRET") or in_file("client_secret"),
        token_file=path,
    )
    if credentials.can_refresh and path is None:
        raise ConfigError(
            "WEBEX_BULK_REFRESH_TOKEN",
            "the environment",
            "refresh credentials need a token file: Webex may rotate the refresh token on any "
            "refresh, and only a token file keeps the new one for the next run — put "
            "client_id, client_secret and refresh_token in a JSON file (mode 0600) and name it "
            "in WEBEX_BULK_TOKEN_FILE",
        )
    return credentials


#: A token file larger than this is not a token file.
TOKEN_FILE_MAX_BYTES = 64 * 1024


def _secret_value(value: str | None, key: str, source: str) -> str | None:
    """A credential without surrounding whitespace; None when empty; refused with a control
    character inside (it would break the ``Authorization`` header)."""
    if value is None:
        return None
    text = value.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise ConfigError(
            key, source, "contains a control character; copy the value again without it"
        )
    return text or None


def _read_token_file(path: Path) -> dict[str, str]:
    source = "environment variable WEBEX_BULK_TOKEN_FILE"
    try:
        with path.open("rb") as handle:
            raw = handle.read(TOKEN_FILE_MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError("token_file", source, f"cannot read {path}: {reason}") from None
    if len(raw) > TOKEN_FILE_MAX_BYTES:
        raise ConfigError("token_file", source, f"{path} is larger than a token file can be")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("token_file", source, f"{path} is not UTF-8 text") from None
    except (ValueError, RecursionError):
        raise ConfigError("token_file", source, f"{path} is not a JSON object") from None
    if not isinstance(data, dict):
        raise ConfigError("token_file", source, f"{path} is not a JSON object")
    return {k: v for k, v in data.items() if isinstance(v, str)}
