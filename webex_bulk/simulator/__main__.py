"""``python -m webex_bulk.simulator``: the ``webex-bulk simulator`` command on its own."""

from webex_bulk.simulator.cli import simulator_command

simulator_command()
