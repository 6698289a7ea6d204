"""A quiet start: `credflow init-db`, `deploy`, `demo` and `serve`, run as `make run` runs them
(subprocesses on a fresh instance folder), print what a person needs -- the database, the
processes, the demo logins, the address served -- and no library's INFO log line; those (Alembic,
WeasyPrint, werkzeug's request lines) are in credflow.log in the instance folder. Warnings still
reach the console."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timers import cli_command  # noqa: E402
from bench.webclient import free_port  # noqa: E402

LIBRARY_LOG = re.compile(r"\bINFO\b|alembic|weasyprint|fontTools|werkzeug|\* Serving Flask|Running on", re.I)


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quiet-instance")
    env = {**os.environ, "CREDFLOW_INSTANCE": str(folder), "CREDFLOW_PUBLIC_URL": "http://127.0.0.1:5000"}
    for key in ("DATABASE_URL", "CREDFLOW_SETTINGS", "CREDFLOW_SIGNING_P12", "CREDFLOW_SECRET_KEY",
                "CREDFLOW_LOG_JSON"):
        env.pop(key, None)
    console = {}
    for step in ("init-db", "deploy", "demo"):
        done = subprocess.run(cli_command(step), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"credflow {step}:\n{done.stdout}\n{done.stderr}"
        console[step] = done.stdout + done.stderr
    port = free_port()
    out, err = folder / "serve.out", folder / "serve.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        server = subprocess.Popen(cli_command("serve", "--port", str(port)), cwd=ROOT, env=env, stdout=stdout,
                                  stderr=stderr, start_new_session=True)
    try:
        for _ in range(600):                     # until it listens: its documents are warmed first
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                    assert page.status == 200
                break
            except OSError:
                assert server.poll() is None, err.read_text(errors="replace")
                time.sleep(0.2)
        else:
            pytest.fail("credflow serve did not answer")
    finally:
        server.send_signal(signal.SIGINT)        # Ctrl+C
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    console["serve"] = out.read_text() + err.read_text()
    return {"console": console, "port": port, "log": folder / "credflow.log"}


def test_each_step_prints_its_line_and_no_library_log(started):
    console = started["console"]
    assert re.search(r"^database ready: sqlite:///", console["init-db"], re.M)
    assert "accountability: version 1" in console["deploy"]
    assert "demo logins: clerk / credflow-demo" in console["demo"]
    assert f"serving at http://127.0.0.1:{started['port']} " in console["serve"]
    for step, text in console.items():
        noisy = [line for line in text.splitlines() if LIBRARY_LOG.search(line)]
        assert noisy == [], f"credflow {step} printed library logs:\n" + "\n".join(noisy[:10])
    assert sum(len(text.splitlines()) for text in console.values()) <= 20, console


def test_the_library_logs_are_in_the_instance_log_file(started):
    log = started["log"].read_text(encoding="utf-8")
    assert re.search(r"alembic\S* INFO Running upgrade", log)         # init-db
    assert re.search(r"werkzeug INFO .*\"GET /login HTTP/1.1\" 200", log)  # a request, while serving


def test_warnings_still_reach_the_console_and_verbose_shows_info(tmp_path):
    script = ("import logging, sys; from webapp.observability import configure_cli_logging; "
              "configure_cli_logging(len(sys.argv) > 1); logging.getLogger('somelib').info('an info line'); "
              "logging.getLogger('somelib').warning('a warning line')")
    env = {**os.environ, "CREDFLOW_INSTANCE": str(tmp_path)}
    env.pop("CREDFLOW_LOG_JSON", None)
    quiet = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert quiet.stderr.splitlines() == ["WARNING somelib: a warning line"] and quiet.stdout == ""
    loud = subprocess.run([sys.executable, "-c", script, "verbose"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert loud.stderr.splitlines() == ["INFO somelib: an info line", "WARNING somelib: a warning line"]
    logged = (tmp_path / "credflow.log").read_text(encoding="utf-8")
    assert logged.count("somelib INFO an info line") == 2 and logged.count("somelib WARNING a warning line") == 2
