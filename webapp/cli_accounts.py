"""`credflow user ...` and `credflow api-token ...`: accounts and tokens from the command line."""
from __future__ import annotations

import click


@click.group(help="Accounts: add, edit, roles, deactivate, reset-password.")
def user() -> None:
    pass
