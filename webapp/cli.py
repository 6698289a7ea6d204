"""The `credflow` command."""
from __future__ import annotations

import logging
import sys

import click

from workflows.audit import verify_chain
from workflows.db import default_database_url, make_engine, make_session_factory
from workflows.engine.bundle import InvalidBundle
from workflows.settings import load_settings


def _factory():
    return make_session_factory(make_engine(default_database_url()))


@click.group(help="credflow: BPMN case management for government integrity records")
def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)


@main.command("init-db", help="Create or upgrade the database schema (DATABASE_URL).")
def init_db() -> None:
    from workflows.migrations import upgrade_database
    url = default_database_url()
    upgrade_database(url)
    click.echo(f"database ready: {url}")


@main.command(help="Deploy the processes in PATH (default: the shipped bpmn/ and forms/). Exits 1 listing "
                   "every problem when nothing deploys, 2 when the deploy itself failed.")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
def deploy(path) -> None:
    from pathlib import Path
    from workflows.definitions import deploy_folder
    from workflows.runtime import Actor, UnitOfWork
    try:
        with UnitOfWork(_factory(), Actor.system("cli"), settings=load_settings()) as uow:
            results = deploy_folder(uow, Path(path) if path else None)
            uow.commit()
    except InvalidBundle as exc:
        for problem in exc.problems:
            click.echo(f"refused: {problem}", err=True)
        files = len({p.file for p in exc.problems})
        click.echo(f"未部署任何流程：{files} 个文件中有 {len(exc.problems)} 个问题 / nothing deployed: "
                   f"{len(exc.problems)} problem(s) in {files} file(s)", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 -- a person reads this: one line, never a traceback
        logging.getLogger("credflow.deploy").debug("deploy failed", exc_info=True)
        click.echo(f"部署失败，未部署任何流程 / deploy failed, nothing deployed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    for r in results:
        click.echo(f"{r.key}: version {r.version}" + ("" if r.created else " (unchanged)"))


@main.command(help="Fire due timers in a loop (--once: one pass).")
@click.option("--once", is_flag=True)
@click.option("--interval", default=5.0, show_default=True)
@click.option("--batch", default=100, show_default=True)
def worker(once, interval, batch) -> None:
    from workflows.worker import run_forever, run_once
    if once:
        click.echo(run_once(_factory(), batch=batch, settings=load_settings()))
    else:
        run_forever(_factory(), interval=interval, batch=batch, settings=load_settings())


@main.command(help="Load demo subjects, users and records (once).")
def demo() -> None:
    from workflows.demo import load_demo
    logins = load_demo(_factory(), settings=load_settings())
    click.echo("demo logins: " + ", ".join(logins))


@main.command("verify-audit", help="Check the audit chain; exit 1 naming the first bad event.")
def verify_audit() -> None:
    with _factory()() as session:
        report = verify_chain(session)
    if report.ok:
        click.echo(f"audit chain intact: {report.checked} events")
        return
    where = f"event {report.bad_event_id}" if report.bad_event_id else "chain head"
    click.echo(f"audit chain BROKEN at {where}: {report.reason} ({report.checked} events verified before it)", err=True)
    sys.exit(1)


@main.command(help="Serve the web app (development server).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def serve(host, port) -> None:
    from webapp import create_app
    create_app().run(host=host, port=port)


from .cli_accounts import api_token, user  # noqa: E402
from .cli_calendar import calendar  # noqa: E402

main.add_command(user)
main.add_command(api_token)
main.add_command(calendar)

if __name__ == "__main__":
    main()
