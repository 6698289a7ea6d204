"""The `credflow` command."""
from __future__ import annotations

import logging
import sys

import click

from workflows.db import default_database_url, make_engine, make_session_factory
from workflows.engine.bundle import InvalidBundle
from workflows.messages import Message, N_
from workflows.settings import load_settings


def _factory():
    return make_session_factory(make_engine(default_database_url()))


@click.group(help="credflow: BPMN case management for government integrity records")
@click.option("-v", "--verbose", is_flag=True, help="INFO logs on the console too (they always go to "
                                                    "credflow.log in the instance folder)")
def main(verbose) -> None:
    from webapp.observability import configure_cli_logging
    configure_cli_logging(verbose)   # the console: the command's own lines and warnings; INFO: the log file


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
        click.echo(Message(N_("未部署任何流程：%(files)s 个文件中有 %(count)s 个问题"), files=files,
                           count=len(exc.problems)), err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 -- a person reads this: one line, never a traceback
        logging.getLogger("credflow.deploy").debug("deploy failed", exc_info=True)
        click.echo(Message(N_("部署失败，未部署任何流程：%(error)s"), error=f"{type(exc).__name__}: {exc}"), err=True)
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


@main.command(help="Send the outbox's due e-mail in a loop (--once: until none is due); `credflow worker` "
                   "sends it too. Needs CREDFLOW_SMTP_HOST.")
@click.option("--once", is_flag=True)
@click.option("--interval", default=5.0, show_default=True)
def outbox(once, interval) -> None:
    from workflows.outbox.sender import run_forever, send_outbox
    settings = load_settings()
    if not settings.smtp.configured:
        click.echo("CREDFLOW_SMTP_HOST is not set: nothing to send to", err=True)
        sys.exit(2)
    if once:
        click.echo(send_outbox(_factory(), settings))
    else:
        run_forever(_factory(), settings, interval=interval)


@main.command(help="Load demo subjects, users and records (once).")
def demo() -> None:
    from workflows.demo import load_demo
    logins = load_demo(_factory(), settings=load_settings())
    click.echo("demo logins: " + ", ".join(logins))


@main.command(help="Serve the web app (development server), with the worker's loop in a thread "
                   "(timers, e-mail, imports).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--interval", default=2.0, show_default=True, help="seconds between two worker passes")
def serve(host, port, interval) -> None:
    import threading
    from webapp import create_app
    from webapp.observability import serve_until_stopped
    from webapp.startup import serving_settings
    from workflows.worker import run_forever
    app = create_app({"SETTINGS": serving_settings(host, port), "WARM_DOCUMENTS": True})
    warming = app.extensions.get("credflow.warmup")
    if warming is not None:
        warming.join()          # fonts, templates, seal, key: the first decision after start-up is not the slow one
    stop = threading.Event()
    threading.Thread(target=run_forever, name="credflow-worker", daemon=True,
                     kwargs={"session_factory": app.extensions["credflow.session_factory"], "interval": interval,
                             "settings": app.config["SETTINGS"], "stop": stop}).start()
    try:
        serve_until_stopped(app, host, port)   # one line once it listens; request lines go to the log
    finally:
        stop.set()


from .cli_accounts import api_token, user  # noqa: E402
from .cli_calendar import calendar  # noqa: E402
from .cli_audit import audit_checkpoint, verify_audit  # noqa: E402

main.add_command(user)
main.add_command(api_token)
main.add_command(calendar)
main.add_command(verify_audit)
main.add_command(audit_checkpoint)
from .cli_sharing import sharing  # noqa: E402 -- credflow sharing export|import-ack
main.add_command(sharing)

if __name__ == "__main__":
    main()
