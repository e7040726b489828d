"""Settings: every tunable with its default and hard limits, and where each value came from.

Precedence: command-line flags > ``WEBEX_BULK_*`` environment variables > TOML file > defaults.
Secrets never live here: ``Credentials`` come from environment variables or a token file only.
Bottom layer: reads files it is given, never the network or the clock.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from webex_bulk.error_handling import ConfigError

ENV_PREFIX = "WEBEX_BULK_"


@attrs.frozen
class Spec:
    """How one setting is parsed and bounded."""

    default: Any
    parse: Callable[[str], Any]
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _optional_str(text: str) -> str | None:
    return text or None


def _rate(text: str) -> float:
    """A request rate; ``auto`` is stored as 0.0 and means 'probe upward from the default'."""
    return 0.0 if text.strip().lower() == "auto" else float(text)


SPECS: Mapping[str, Spec] = {
    "concurrency": Spec(8, int, 1, 64, doc="worker tasks per phase"),
    "rate": Spec(10.0, _rate, 0.0, 1000.0, doc="requests per second; 'auto' probes upward"),
    "max_attempts": Spec(4, int, 1, 10, doc="attempts per request for transient failures"),
    "backoff_base": Spec(1.0, float, 0.0, 60.0, doc="seconds; full-jitter backoff base"),
    "backoff_cap": Spec(60.0, float, 0.0, 600.0, doc="seconds; full-jitter backoff cap"),
    "retry_after_default": Spec(10.0, float, 0.0, 600.0, doc="pause when Retry-After is unusable"),
    "retry_after_cap": Spec(120.0, float, 1.0, 3600.0, doc="longest pause a Retry-After may ask"),
    "request_max_time": Spec(
        600.0, float, 1.0, 86400.0, doc="seconds one request may take, retries and pauses included"
    ),
    "retry_budget": Spec(0.1, float, 0.0, 1.0, doc="retries allowed per request, sliding minute"),
    "connect_timeout": Spec(10.0, float, 0.1, 300.0, doc="seconds to connect"),
    "read_timeout": Spec(60.0, float, 0.1, 600.0, doc="seconds to read an answer"),
    "breaker_threshold": Spec(10, int, 1, 1000, doc="consecutive transient failures to open"),
    "breaker_cooldown": Spec(30.0, float, 0.0, 3600.0, doc="seconds open before a probe"),
    "breaker_cooldown_max": Spec(600.0, float, 0.0, 86400.0, doc="cap of the doubling cooldown"),
    "breaker_max_open": Spec(1800.0, float, 0.0, 86400.0, doc="open this long in total → stop"),
    "breaker_probes": Spec(1, int, 1, 10, doc="successful half-open probes needed to close"),
    "checkpoint_every": Spec(100, int, 1, 100_000, doc="outcomes per checkpoint commit"),
    "checkpoint_interval": Spec(2.0, float, 0.01, 3600.0, doc="seconds between commits"),
    "shutdown_grace": Spec(30.0, float, 0.0, 3600.0, doc="seconds in-flight rows get on a signal"),
    "consistency_attempts": Spec(3, int, 0, 20, doc="delayed lookups after an unknown outcome"),
    "consistency_wait": Spec(2.0, float, 0.0, 120.0, doc="seconds between those lookups"),
    "numbers_batch_size": Spec(50, int, 1, 500, doc="numbers per add request"),
    "max_rows": Spec(1_000_000, int, 1, 10_000_000, doc="rows an input file may hold"),
    "max_cell": Spec(1024, int, 16, 1_000_000, doc="characters a cell may hold"),
    "encoding": Spec("utf-8-sig", str, doc="input encoding (utf-8 with or without BOM)"),
    "delimiter": Spec(None, _optional_str, choices=("", ",", ";", "\t", "|"), doc="sniffed"),
    "default_region": Spec("US", str.upper, doc="ISO 3166 region for national phone numbers"),
    "base_url": Spec("https://webexapis.com/v1", str, doc="Webex API base URL"),
    "org_id": Spec(None, _optional_str, doc="target organisation (partner admins)"),
    "runs_root": Spec("runs", str, doc="folder that holds run directories"),
    "log_format": Spec("human", str, choices=("human", "json"), doc="stderr log format"),
    "log_level": Spec("info", str.lower, choices=("debug", "info", "warning", "error")),
    "progress_interval": Spec(30.0, float, 0.1, 3600.0, doc="seconds between progress events"),
    "token_refresh_margin": Spec(300.0, float, 0.0, 86400.0, doc="refresh this early, seconds"),
}


@attrs.frozen
class Settings:
    """Every setting of a run; built by ``load_settings`` and never changed afterwards."""

    concurrency: int = SPECS["concurrency"].default
    rate: float = SPECS["rate"].default
    max_attempts: int = SPECS["max_attempts"].default
    backoff_base: float = SPECS["backoff_base"].default
    backoff_cap: float = SPECS["backoff_cap"].default
    retry_after_default: float = SPECS["retry_after_default"].default
    retry_after_cap: float = SPECS["retry_after_cap"].default
    request_max_time: float = SPECS["request_max_time"].default
    retry_budget: float = SPECS["retry_budget"].default
    connect_timeout: float = SPECS["connect_timeout"].default
    read_timeout: float = SPECS["read_timeout"].default
    breaker_threshold: int = SPECS["breaker_threshold"].default
    breaker_cooldown: float = SPECS["breaker_cooldown"].default
    breaker_cooldown_max: float = SPECS["breaker_cooldown_max"].default
    breaker_max_open: float = SPECS["breaker_max_open"].default
    breaker_probes: int = SPECS["breaker_probes"].default
    checkpoint_every: int = SPECS["checkpoint_every"].default
    checkpoint_interval: float = SPECS["checkpoint_interval"].default
    shutdown_grace: float = SPECS["shutdown_grace"].default
    consistency_attempts: int = SPECS["consistency_attempts"].default
    consistency_wait: float = SPECS["consistency_wait"].default
    numbers_batch_size: int = SPECS["numbers_batch_size"].default
    max_rows: int = SPECS["max_rows"].default
    max_cell: int = SPECS["max_cell"].default
    encoding: str = SPECS["encoding"].default
    delimiter: str | None = SPECS["delimiter"].default
    default_region: str = SPECS["default_region"].default
    base_url: str = SPECS["base_url"].default
    org_id: str | None = SPECS["org_id"].default
    runs_root: str = SPECS["runs_root"].default
    log_format: str = SPECS["log_format"].default
    log_level: str = SPECS["log_level"].default
    progress_interval: float = SPECS["progress_interval"].default
    token_refresh_margin: float = SPECS["token_refresh_margin"].default

    @property
    def rate_auto(self) -> bool:
        """Whether the rate probes upward (``--rate auto``)."""
        return self.rate == 0.0

    def fingerprint(self) -> dict[str, Any]:
        """The settings that decide which tenant a run talks to; a resume must match them."""
        return {"base_url": self.base_url.rstrip("/"), "org_id": self.org_id}


def _check(key: str, value: Any, source: str) -> Any:
    spec = SPECS.get(key)
    if spec is None:
        raise ConfigError(key, source, f"unknown setting; known settings: {', '.join(SPECS)}")
    if value is None or (isinstance(value, str) and value == "" and spec.default is None):
        return None
    try:
        parsed = spec.parse(value) if isinstance(value, str) else _coerce(spec, value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(key, source, f"cannot read {value!r}: {exc}") from None
    if spec.choices and parsed not in spec.choices and parsed is not None:
        raise ConfigError(key, source, f"{parsed!r} is not one of {list(spec.choices)}")
    if spec.low is not None and not spec.low <= parsed <= (spec.high or parsed):
        raise ConfigError(key, source, f"{parsed!r} is outside {spec.low:g}…{spec.high:g}")
    return parsed


def _coerce(spec: Spec, value: Any) -> Any:
    """Values from TOML or flags arrive typed; keep their type strict (no bool for an int)."""
    if isinstance(value, bool) and not isinstance(spec.default, bool):
        raise TypeError("expected a number or text, got a boolean")
    if isinstance(spec.default, float):
        return float(value)
    if isinstance(spec.default, int):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("expected a whole number")
        return int(value)
    return spec.parse(str(value))


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML settings file: top-level keys, or keys under a ``[webex_bulk]`` table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("--config", str(path), f"cannot read the file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", str(path), f"not valid TOML: {exc}") from None
    table = data.get("webex_bulk", data)
    if not isinstance(table, dict):
        raise ConfigError("webex_bulk", str(path), "expected a table of settings")
    return table


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the settings: flags > ``WEBEX_BULK_*`` env vars > TOML file > defaults.

    ``flags`` holds only the flags the user actually gave (None values are ignored).
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        for key, value in read_config_file(config_file).items():
            values[key] = _check(key, value, f"config file {config_file}")
    for name, value in (env if env is not None else os.environ).items():
        if name.startswith(ENV_PREFIX) and name not in SECRET_ENV_VARS:
            key = name[len(ENV_PREFIX) :].lower()
            if key in NON_SETTING_ENV_KEYS:
                continue
            values[key] = _check(key, value, f"environment variable {name}")
    for key, value in (flags or {}).items():
        if value is not None:
            values[key] = _check(key, value, f"flag --{key.replace('_', '-')}")
    return Settings(**values)


# ---------------------------------------------------------------------------------------------
# Credentials: environment variables or a token file, never flags, never logged.

SECRET_ENV_VARS = frozenset(
    {
        "WEBEX_TOKEN",
        "WEBEX_BULK_TOKEN",
        "WEBEX_BULK_REFRESH_TOKEN",
        "WEBEX_BULK_CLIENT_ID",
        "WEBEX_BULK_CLIENT_SECRET",
        "WEBEX_BULK_TOKEN_FILE",
    }
)
#: Other ``WEBEX_BULK_*`` variables that are not settings (read elsewhere).
NON_SETTING_ENV_KEYS = frozenset({"config"})


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
