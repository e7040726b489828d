"""``webex-bulk unlock RUN_DIR --lock-id ID``: remove a lock whose holder is gone, by its id.

Like a force-unlock: the id shown in the lock error proves which lock the operator means.
"""

from __future__ import annotations

from pathlib import Path

import click

from webex_bulk.state import force_unlock


@click.command("unlock")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--lock-id",
    required=True,
    metavar="ID",
    help="The lock id shown in the 'is locked by' error (or by status).",
)
def unlock_command(run_dir: Path, lock_id: str) -> None:
    """Remove RUN_DIR's lock left by a run that is gone (a killed container, a lost host).

    Refuses when the id does not match the lock, or a process of this host still holds it.
    Exit 0 removed, 1 refused.
    """
    holder = force_unlock(run_dir, lock_id)
    click.echo(f"removed the lock of {holder.describe()}; the next run may start")
