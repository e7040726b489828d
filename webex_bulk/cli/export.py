"""``export``'s own options, its request and its closing report (the command is registered with
the others in ``commands``, which stacks the shared options on it)."""

from __future__ import annotations

from pathlib import Path

import click

from webex_bulk import engine
from webex_bulk.config import Settings
from webex_bulk.credentials import Credentials

out_file_option = click.option(
    "--out",
    "out_file",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the file here [default: standard output].",
)
location_option = click.option(
    "--location",
    default=None,
    metavar="NAME",
    help="Only the objects of this location [default: every location].",
)

with_settings_option = click.option(
    "--with-settings",
    is_flag=True,
    default=False,
    help="Also write users' and workspaces' calling settings (voicemail, forwarding, do not "
    "disturb, call waiting, caller id): one more request per user or workspace and settings "
    "group.",
)


def export_request(
    out_file: Path,
    location: str | None,
    only: str | None,
    settings: Settings,
    credentials: Credentials,
    *,
    with_settings: bool = False,
) -> engine.ExportRequest:
    """The request of one export; a bad ``--only`` is a usage error naming the flag."""
    try:
        types = engine.parse_only(only)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--only") from None
    return engine.ExportRequest(
        settings=settings,
        credentials=credentials,
        out=None if str(out_file) == "-" else out_file,
        only=types,
        location=location,
        with_settings=with_settings,
    )


def render_export(result: engine.ExportResult) -> str:
    """The closing report on stderr: rows per type, what was left out, requests and time."""
    rows = ", ".join(f"{kind} {count}" for kind, count in result.rows.items())
    lines = [f"export of {result.org}: {rows}"]
    if result.skipped:
        left = ", ".join(f"{kind} {count}" for kind, count in sorted(result.skipped.items()))
        lines.append(f"  left out (not provisioned by webex-bulk, see docs/export.md): {left}")
    rate = sum(result.rows.values()) / result.seconds if result.seconds else 0.0
    lines.append(f"  {result.requests} requests, {result.seconds} s, {rate:.0f} rows/s")
    lines.append(f"  written to {result.path or 'standard output'}")
    return "\n".join(lines)
