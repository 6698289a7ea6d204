"""`credflow verify-audit` and `credflow audit-checkpoint`: the audit chain checked against its
anchors (workflows/audit_anchors.py), and a signed checkpoint of it made now. Thin: read, call,
print; exit 1 naming every anchor that no longer matches."""
from __future__ import annotations

import logging
import sys

import click

from workflows.settings import load_settings


def _factory():
    from .cli import _factory as factory
    return factory()


@click.command("verify-audit", help="Check the audit chain and its anchors (signed checkpoints, the audit head "
                                    "each decision document carries); exit 1 naming the first bad event or "
                                    "every anchor that no longer matches. --document and --checkpoint add "
                                    "anchors kept outside the database.")
@click.option("--document", "documents", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A signed decision PDF (repeatable).")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(exists=True),
              help="An exported checkpoint file, or a folder of them (repeatable).")
@click.option("--deep", is_flag=True, help="Also check every stored decision PDF's signature and the anchor it "
                                          "signed against its row (reads every PDF: 20-40 ms each).")
def verify_audit(documents, checkpoints, deep) -> None:
    from workflows.audit_anchors import verify_audit_trail
    for noisy in ("pyhanko", "pyhanko_certvalidator"):   # a forged file is reported below, in one line
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    settings = load_settings()
    sources = list(checkpoints)
    if settings.audit_checkpoint_folder and not sources:
        from pathlib import Path
        if Path(settings.audit_checkpoint_folder).is_dir():
            sources.append(settings.audit_checkpoint_folder)   # the exported copies, where they are kept
    with _factory()() as session:
        report = verify_audit_trail(session, settings.office_name, documents, sources, deep)
    chain = report.chain
    if not chain.ok:
        where = f"event {chain.bad_event_id}" if chain.bad_event_id else "chain head"
        click.echo(f"audit chain BROKEN at {where}: {chain.reason} ({chain.checked} events verified before it)",
                   err=True)
    for problem in report.problems:
        click.echo(f"audit anchor BROKEN: {problem}", err=True)
    if not report.ok:
        sys.exit(1)
    newest = report.newest_anchor
    click.echo(f"audit chain intact: {chain.checked} events; {len(report.anchors)} anchors match"
               + (f", the newest {newest}" if newest else " (none yet)"))


@click.command("audit-checkpoint", help="Sign the audit chain's head now (a checkpoint in the database; also "
                                        "written to CREDFLOW_AUDIT_CHECKPOINT_DIR or --export FOLDER).")
@click.option("--export", "folder", type=click.Path(file_okay=False), help="Also write it to this folder.")
def audit_checkpoint(folder) -> None:
    from workflows.audit_checkpoints import export_checkpoint, make_checkpoint
    from workflows.clock import SYSTEM_CLOCK
    settings = load_settings()
    checkpoint = make_checkpoint(_factory(), SYSTEM_CLOCK, settings, kind="manual", made_by="cli")
    if checkpoint is None:
        click.echo("the audit chain has no event yet: nothing to sign", err=True)
        sys.exit(1)
    click.echo(f"{checkpoint.label}: event #{checkpoint.last_event_id} {checkpoint.last_hash}, "
               f"{checkpoint.event_count} events")
    folder = folder or settings.audit_checkpoint_folder
    if folder:
        click.echo(f"written to {export_checkpoint(checkpoint, folder)}")
