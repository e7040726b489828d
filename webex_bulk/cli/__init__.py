"""The ``webex-bulk`` command line: thin click commands and their reports."""

from webex_bulk.cli.commands import main

__all__ = ["main"]
