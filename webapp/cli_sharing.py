"""`credflow sharing ...`: sharing upward for a scheduled job. `export` writes one batch file per
platform with queued items and prints each path (nothing queued: prints nothing, exit 0);
`import-ack FILE` imports a platform's acknowledgement and prints the counts (a bad file: every
problem on stderr, exit 1, nothing changed). Thin: workflows.sharing as the actor "cli"."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from workflows.runtime import Actor, UnitOfWork
from workflows.settings import load_settings
from workflows.sharing.access import SharingError
from workflows.sharing.exchange import FILE_FORMATS, MAX_ACK_BYTES, export_batch, file_bytes, import_ack

CLI_ACTOR = Actor("cli", roles=frozenset({"admin"}))


def _factory():
    from .cli import _factory as factory
    return factory()


def _fail(exc: SharingError) -> None:
    click.echo(f"refused: {exc}", err=True)
    for problem in exc.problems[:200]:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@click.group(help="Sharing upward: export batch files for the platforms, import their acknowledgements.")
def sharing() -> None:
    pass


@sharing.command(help="Export the queued items as a batch file per platform; prints each file's path.")
@click.option("--platform", help="one platform (default: every platform of the settings)")
@click.option("--format", "file_format", type=click.Choice(FILE_FORMATS), default="json", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="the folder the files are written to")
def export(platform, file_format, out_dir) -> None:
    settings = load_settings()
    platforms = [platform] if platform else list(settings.sharing_platforms)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    factory = _factory()
    for name in platforms:
        try:
            with UnitOfWork(factory, CLI_ACTOR, settings=settings) as uow:
                batch = export_batch(uow, name, file_format)
                if batch is None:
                    continue
                path = folder / batch.file_name
                path.write_bytes(file_bytes(batch))     # written before the commit: no sent batch without its file
                try:
                    uow.commit()
                except BaseException:
                    path.unlink(missing_ok=True)
                    raise
        except SharingError as exc:
            _fail(exc)
        click.echo(str(path.resolve()))


@sharing.command("import-ack", help="Import a platform's acknowledgement file (JSON or CSV); prints the counts.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_ack_command(file) -> None:
    data = Path(file).read_bytes()[:MAX_ACK_BYTES + 1]
    try:
        with UnitOfWork(_factory(), CLI_ACTOR, settings=load_settings()) as uow:
            result = import_ack(uow, data)
            uow.commit()
    except SharingError as exc:
        _fail(exc)
    click.echo(f"batch {result.batch}: {result.accepted} accepted, {result.rejected} rejected, "
               f"{result.unchanged} already imported")
