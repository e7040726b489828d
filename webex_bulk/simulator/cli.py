"""``webex-bulk simulator``: serve the simulator on 127.0.0.1 until SIGINT or SIGTERM.

Prints ``key=value`` lines (``base_url``, ``root_url``, ``token``, ``org_id``) once it listens.
Knobs: defaults < ``--profile`` file < flags.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from webex_bulk.simulator.config import (
    FAMILIES,
    PSTN_TYPES,
    RETRY_AFTER_STYLES,
    ConfigError,
    SimConfig,
    load_profile,
)

#: Scalar knob flags: (flag, SimConfig field, click type, help).
KNOB_FLAGS: tuple[tuple[str, str, Any, str], ...] = (
    ("--token", "token", str, "Access token the simulator accepts."),
    ("--token-ttl", "token_ttl", float, "Seconds an access token lives; 0 = forever."),
    ("--client-id", "client_id", str, "Client id of the refresh grant."),
    ("--client-secret", "client_secret", str, "Client secret of the refresh grant."),
    ("--refresh-token", "refresh_token", str, "Refresh token of the refresh grant."),
    (
        "--new-location-pstn",
        "new_location_pstn",
        click.Choice(PSTN_TYPES),
        "PSTN of new locations.",
    ),
    ("--rate-limit", "rate_limit", float, "Requests per second per token; 0 = unlimited."),
    ("--rate-burst", "rate_burst", int, "Token-bucket size; 0 = the rate rounded up."),
    ("--retry-after", "retry_after", float, "Seconds announced in Retry-After."),
    (
        "--retry-after-style",
        "retry_after_style",
        click.Choice(RETRY_AFTER_STYLES),
        "How Retry-After is written.",
    ),
    (
        "--rate-limit-penalty",
        "rate_limit_penalty",
        float,
        "Seconds added per request sent while limited.",
    ),
    ("--locked-probability", "locked_probability", float, "Probability of a 423."),
    (
        "--error-after-commit-probability",
        "error_after_commit_probability",
        float,
        "Probability of a 5xx after a write committed.",
    ),
    (
        "--drop-before-probability",
        "drop_before_probability",
        float,
        "Probability of closing the connection before the change.",
    ),
    (
        "--drop-after-probability",
        "drop_after_probability",
        float,
        "Probability of closing the connection after the change.",
    ),
    (
        "--stall-probability",
        "stall_probability",
        float,
        "Probability of committing, then holding the answer.",
    ),
    ("--stall-seconds", "stall_seconds", float, "How long a stalled answer is held."),
    (
        "--created-400-probability",
        "created_400_probability",
        float,
        "Probability that POST /people creates the user but answers 400.",
    ),
    (
        "--consistency-lag",
        "consistency_lag",
        float,
        "Seconds a new object stays out of list results.",
    ),
    ("--recent-requests", "recent_requests", int, "How many recent requests /_sim/counts lists."),
    (
        "--sip-address-lag",
        "sip_address_lag",
        float,
        "Seconds before a new calling user shows its SIP address.",
    ),
    ("--move-job-seconds", "move_job_seconds", float, "How long a move-users job runs."),
    ("--activation-code-ttl", "activation_code_ttl", float, "Seconds an activation code lives."),
    (
        "--missing-scopes",
        "missing_scopes",
        str,
        "Comma list of scopes the tokens lack (their routes answer 403).",
    ),
)
SWITCHES = (
    ("--outage/--no-outage", "outage", "Answer every request with 503."),
    (
        "--rotate-refresh-token/--keep-refresh-token",
        "rotate_refresh_token",
        "Mint a new refresh token on each refresh.",
    ),
    (
        "--next-link-drops-filters/--next-link-keeps-filters",
        "next_link_drops_filters",
        "Leave filters out of next-page links.",
    ),
    (
        "--refresh-returns-same-token/--refresh-returns-new-token",
        "refresh_returns_same_token",
        "The refresh grant answers the access token in use.",
    ),
    (
        "--number-add-conflict/--number-add-ignores-present",
        "number_add_conflict",
        "Adding a number the location has answers 409 instead of being ignored.",
    ),
    (
        "--refuse-workspace-calling-with-devices/--allow-workspace-calling-with-devices",
        "refuse_workspace_calling_with_devices",
        "Refuse a workspace PUT that sets calling while the workspace has devices.",
    ),
)


def _knob_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag, field, kind, text in reversed(KNOB_FLAGS):
        command = click.option(flag, field, type=kind, default=None, help=text)(command)
    for flag, field, text in reversed(SWITCHES):
        command = click.option(flag, field, default=None, help=text)(command)
    command = click.option(
        "--latency",
        "latency",
        multiple=True,
        metavar="FAMILY=MEDIAN[,P99]",
        help=f"Lognormal latency in seconds per family ({', '.join(FAMILIES)}); repeatable.",
    )(command)
    command = click.option(
        "--error-probability",
        "error_probability",
        multiple=True,
        metavar="METHOD=P",
        help="Probability of an injected 5xx per method (or *); repeatable.",
    )(command)
    return click.option(
        "--error-statuses",
        "error_statuses",
        default=None,
        metavar="500,502,…",
        help="The 5xx statuses injected errors pick from.",
    )(command)


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option("--profile", type=click.Path(exists=True, dir_okay=False), help="JSON file of knobs.")
@click.option("--seed", type=int, default=None, help="Seed of every random draw.")
@click.option(
    "--tenant",
    "tenant_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON file of the starting tenant.",
)
@_knob_options
def simulator_command(host: str, port: int, profile: str | None, **flags: Any) -> None:
    """Run a local Webex Calling API simulator (an in-memory tenant) until interrupted."""
    try:
        config = config_from(profile, flags)
        asyncio.run(serve(config, host, port))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def config_from(profile: str | None, flags: dict[str, Any]) -> SimConfig:
    """Defaults, then the profile file, then the flags that were given."""
    config = SimConfig()
    if profile:
        config = config.merged(load_profile(profile))
    changes = {key: value for key, value in flags.items() if value not in (None, ())}
    if "latency" in changes:
        pairs = (_pair(item, "latency") for item in changes["latency"])
        changes["latency"] = {family: value.split(",") for family, value in pairs}
    if "error_probability" in changes:
        pairs = (_pair(item, "error-probability") for item in changes["error_probability"])
        changes["error_probability"] = dict(pairs)
    if "error_statuses" in changes:
        changes["error_statuses"] = [part for part in changes["error_statuses"].split(",") if part]
    return config.merged(changes)


def _pair(item: str, flag: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not value:
        raise ConfigError(f"--{flag} expects NAME=VALUE, got {item!r}")
    return key.strip(), value


async def serve(config: SimConfig, host: str, port: int) -> None:
    """Listen until SIGINT or SIGTERM; print the address lines once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    from webex_bulk.simulator.harness import running_simulator  # the server: only when it runs

    async with running_simulator(config, host=host, port=port) as sim:
        lines = (
            f"base_url={sim.base_url}",
            f"root_url={sim.root_url}",
            f"token={sim.token}",
            f"org_id={sim.state.org.id}",
        )
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        await stop.wait()
