"""`credflow calendar ...`: the working-day calendar from the command line."""
from __future__ import annotations

import click


@click.group(help="The working-day calendar: import a year, show a year.")
def calendar() -> None:
    pass
