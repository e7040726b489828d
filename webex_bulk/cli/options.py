"""The options of the ``webex-bulk`` commands, each declared once, and what they build.

Commands stack these decorators; ``request_from`` turns an engine command's flags into the
``RunRequest`` (settings, credentials, caps), naming the flag or variable that is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from webex_bulk import engine
from webex_bulk.config import Settings, env_warnings, load_settings
from webex_bulk.credentials import Credentials, load_credentials
from webex_bulk.error_handling import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def _delimiter(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    return "\t" if value in ("tab", "\\t") else value


encoding_option = click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="Encoding of the input file, e.g. cp1252 for Excel exports "
    "[default: UTF-8 with or without BOM].",
)
delimiter_option = click.option(
    "--delimiter",
    default=None,
    type=click.Choice([",", ";", "tab", "\\t", "|"]),
    metavar="DELIM",
    callback=_delimiter,
    help="Cell delimiter of the input file: ',' ';' 'tab' or '|' "
    "[default: sniffed from the header line].",
)
default_region_option = click.option(
    "--default-region",
    default=None,
    metavar="CC",
    help="ISO 3166 region for phone numbers written without +country code [default: US].",
)
sheet_option = click.option(
    "--sheet",
    default=None,
    metavar="NAME",
    help="Sheet of an .xlsx input file [default: the first].",
)
config_option = click.option(
    "--config",
    "config_file",
    default=None,
    envvar="WEBEX_BULK_CONFIG",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML settings file (flags > WEBEX_BULK_* variables > this file > defaults).",
)
out_option = click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write rejected.csv and pending.csv into this folder.",
)
plan_out_option = click.option(
    "--out",
    "plan_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the plan here as JSON (the file's sha256, the org, each row's decision and the "
    "remote values it read) for run --plan.",
)
plan_in_option = click.option(
    "--plan",
    "plan_in",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Apply exactly this plan (saved by plan --out): a row whose object changed since "
    "ends pending plan_stale; a plan of another file or org is refused (exit 1).",
)
file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def input_options(function: F) -> F:
    """The options that say how to read an input file."""
    for option in (sheet_option, default_region_option, delimiter_option, encoding_option):
        function = option(function)
    return function


def settings_from(flags: Mapping[str, Any], config_file: Path | None) -> Settings:
    """The settings of a command: its flags > environment > ``--config`` file > defaults."""
    return load_settings(flags, os.environ, config_file)


concurrency_option = click.option(
    "--concurrency",
    default=None,
    metavar="N|auto",
    help="Worker tasks per phase, at most 64 [default: auto, requests in flight sized from the "
    "measured latency].",
)
rate_option = click.option(
    "--rate",
    default=None,
    metavar="N|auto",
    help="Requests per second; 'auto' probes upward until the first 429 [default: 10].",
)
org_option = click.option(
    "--org-id", default=None, help="Target organisation id (partner admins) [default: the token's]."
)
base_url_option = click.option(
    "--base-url", default=None, help="Webex API base URL [default: https://webexapis.com/v1]."
)
log_format_option = click.option(
    "--log-format",
    type=click.Choice(["human", "json"]),
    default=None,
    help="Format of the log lines on stderr [default: human].",
)
log_level_option = click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Least severe log lines shown on stderr [default: info].",
)
run_dir_option = click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory [default: runs/<file stem>-<sha256[:12]>].",
)
ca_bundle_option = click.option(
    "--ca-bundle",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="PEM file of CA certificates to trust besides the system's, e.g. a corporate "
    "proxy's (SSL_CERT_FILE is honoured too; HTTPS_PROXY and NO_PROXY as well).",
)
only_option = click.option(
    "--only", default=None, metavar="TYPES", help="Only these entity types, e.g. user,workspace."
)
create_people_option = click.option(
    "--create-people/--no-create-people",
    "create_people",
    default=None,
    help="--no-create-people: a person absent from the tenant is never created, its row ends "
    "pending not_in_directory until the directory sync brings the person in [default: create "
    "people whose row gives first and last name].",
)
limit_option = click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="A canary run: only the first N rows of the file.",
)


def engine_options(function: F) -> F:
    """The options of every command that talks to Webex."""
    options = (
        config_option,
        log_level_option,
        log_format_option,
        base_url_option,
        ca_bundle_option,
        org_option,
        rate_option,
        concurrency_option,
        only_option,
        limit_option,
        run_dir_option,
    )
    for option in options:
        function = option(function)
    return input_options(function)


def request_from(
    file: Path,
    flags: dict[str, Any],
    *,
    fresh: bool = False,
    seconds_left: float | None = None,
    stop_note: str = "",
    quiet: bool = False,
) -> engine.RunRequest:
    """Settings, credentials and caps of an engine command; errors name the flag or variable."""
    config_file = flags.pop("config_file")
    run_dir = flags.pop("run_dir")
    try:
        caps = engine.Caps(only=engine.parse_only(flags.pop("only")), limit=flags.pop("limit"))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--only") from None
    return engine.RunRequest(
        input_path=file,
        settings=settings_from(flags, config_file),
        credentials=credentials_from_env(),
        caps=caps,
        run_dir=run_dir,
        fresh=fresh,
        seconds_left=seconds_left,
        stop_note=stop_note,
        notes=tuple(env_warnings(os.environ)),
        display=not quiet,
    )


def credentials_from_env() -> Credentials:
    """The token (or refresh credentials) from the environment; none is a config error."""
    credentials = load_credentials()
    if not credentials.access_token and not credentials.can_refresh:
        raise ConfigError(
            "token",
            "the environment",
            "no token: set WEBEX_TOKEN, or WEBEX_BULK_TOKEN_FILE, or WEBEX_BULK_CLIENT_ID + "
            "WEBEX_BULK_CLIENT_SECRET + WEBEX_BULK_REFRESH_TOKEN",
        )
    return credentials
