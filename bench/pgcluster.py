"""A PostgreSQL cluster of a bench's own (initdb into a temporary folder, a free port), so that a
bench can restart or kill it without disturbing anyone else's database."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import psycopg

from bench.webclient import free_port

DATABASE = "credflow_bench_faults"


class PrivatePostgres:
    """initdb + pg_ctl in a temporary folder of its own (removed by `stop`); as root the server
    runs as the `postgres` account, which owns the folder."""

    def __init__(self):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not versions:
            raise SystemExit("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are not installed")
        self.bin = versions[-1].parent
        self.folder = Path(tempfile.mkdtemp(prefix="credflow-pg-"))
        self.data, self.port, self.log = self.folder / "data", free_port(), self.folder / "postgresql.log"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def start(self) -> "PrivatePostgres":
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._ctl("start")
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, *extra)

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except RuntimeError:
            pass   # it was not running
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def started_at(self) -> datetime:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
