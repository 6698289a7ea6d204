"""A local SMTP server (aiosmtpd) that records what it accepted, for bench/faults.py and the
outbox tests: each message it answered 250 to, by Message-ID, with the sender's EHLO name.

`on_message(sink, helo, message_id)` may replace the 250 with another answer (a string such as
"451 4.3.0 try later"), and may act first (kill the process that sent it): the message then
counts as refused, never as accepted, whatever the client saw.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class MailSink:
    def __init__(self, on_message=None, host: str = "127.0.0.1"):
        self.on_message = on_message
        self.host = host
        self.cond = threading.Condition()
        self.accepted: list[tuple[str, str]] = []      # (message_id, helo) answered 250
        self.refused: list[tuple[str, str, str]] = []  # (message_id, helo, answer)
        self.seen = 0                                   # DATA commands received
        self._controller = Controller(self, hostname=host, port=free_port(host), ready_timeout=10)

    # -- aiosmtpd handler --------------------------------------------------------------------
    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        message_id, helo = str(headers.get("Message-ID", "")), session.host_name or ""
        with self.cond:
            self.seen += 1
        answer = None
        if self.on_message:   # in a thread: the hook may wait for other sessions, which this loop serves
            answer = await asyncio.get_running_loop().run_in_executor(None, self.on_message, self, helo, message_id)
        with self.cond:
            if answer:
                self.refused.append((message_id, helo, answer))
            else:
                self.accepted.append((message_id, helo))
            self.cond.notify_all()
        return answer or "250 2.0.0 OK"

    # -- control -----------------------------------------------------------------------------
    def start(self) -> "MailSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    def __enter__(self) -> "MailSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def counts(self) -> Counter:
        with self.cond:
            return Counter(mid for mid, _ in self.accepted)

    def wait_accepted(self, n: int, timeout: float) -> bool:
        """Until `n` messages were accepted (an observed event); False after `timeout` seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.accepted) < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True
