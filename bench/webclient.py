"""The HTTP side of the benches: gunicorn serving credflow on a free loopback port, and a signed-in
browser-like client (its own cookie jar and connection, the CSRF token from the login form)."""
from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.procstat import tree_cpu

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving credflow on DATABASE_URL=url, in its own session (so it can be killed whole)."""

    def __init__(self, url: str, workers: int, threads: int, folder: Path, env: dict | None = None):
        self.port = free_port()
        self.log = folder / "gunicorn.log"
        env = {**os.environ, "DATABASE_URL": url, "CREDFLOW_INSTANCE": str(folder / "instance"),
               "CREDFLOW_SECRET_KEY": "bench-secret", **(env or {})}
        for key in ("CREDFLOW_SETTINGS", "CREDFLOW_TRUSTED_PROXIES", "CREDFLOW_SECURE_COOKIES"):
            env.pop(key, None)
        exe = Path(sys.executable).parent / "gunicorn"
        self.command = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "gunicorn"]),
                        "-w", str(workers), "-b", f"{HOST}:{self.port}", "--error-logfile", str(self.log),
                        "--log-level", "warning", "--timeout", "60"]
        if threads > 1:
            self.command += ["--threads", str(threads)]
        self.command.append("webapp:create_app()")
        # the app's own log lines (warnings, errors with their tracebacks) go to the same file
        self.app_log = folder / "app.log"
        with open(self.app_log, "ab") as app_log:
            self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                         stderr=app_log, start_new_session=True)
        self.workers = workers

    def wait_ready(self, timeout: float = 60.0) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/login")
                ok = conn.getresponse().status == 200
                conn.close()
                # every worker has imported the app once all of them answer; give them a moment
                if ok and len(tree_cpu(self.proc.pid)) >= self.workers + 1:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s: {self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return sorted(pid for pid in tree_cpu(self.proc.pid) if pid != self.proc.pid)

    def log_tail(self, n: int = 10) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)   # gunicorn's master stops its workers gracefully
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only gunicorn's processes
                self.proc.wait()


class WebUser:
    """One member of staff's browser: a cookie jar and a keep-alive connection to the server.
    `call` returns (status, body, Location) or None when the connection failed (it reconnects on
    the next call); `on_response` and `on_failure` let a bench count what it sees."""

    def __init__(self, username: str, password: str, port: int, timeout: float = 30.0):
        self.username, self.password, self.port = username, password, port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.token = ""

    def on_response(self, kind: str, status: int, elapsed: float) -> None:
        pass

    def on_failure(self, kind: str, exc: Exception) -> None:
        pass

    def call(self, kind: str, method: str, path: str, form: dict | None = None, json_body=None,
             bearer: str | None = None):
        headers = {"Host": f"{HOST}:{self.port}", "User-Agent": "credflow-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.on_failure(kind, exc)
            return None
        elapsed = time.perf_counter() - t0
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=thu, 01 jan 1970" not in header.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        if response.will_close:
            self.conn.close()
        self.on_response(kind, response.status, elapsed)
        text = data.decode("utf-8", "replace")
        found = TOKEN.search(text)
        if found:
            self.token = found.group(1)
        return response.status, text, response.getheader("Location")

    def login(self) -> None:
        page = self.call("login_page", "GET", "/login")
        if page is None or page[0] != 200:
            raise RuntimeError(f"GET /login: {page and page[0]}")
        result = self.call("login", "POST", "/login", {"csrf_token": self.token, "username": self.username,
                                                       "password": self.password})
        if result is None or result[0] != 302:
            raise RuntimeError(f"POST /login as {self.username}: {result and result[0]}")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
