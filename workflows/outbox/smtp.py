"""Sending an outbox row through SMTP, and what the server's answer means for it.

`SmtpTransport(settings.smtp).open()` gives a connection (a context manager) whose `send(row)`
returns once the server has answered 250 to the message's data, or raises:
- `RetryLater`: a 4xx answer, a lost or refused connection, a timeout (`broken` when the
  connection cannot be used for the next message);
- `GiveUp`: a 5xx answer (the server will never take this message as it is).
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import format_datetime

from ..settings import SmtpSettings


class RetryLater(Exception):
    def __init__(self, reason: str, broken: bool = False):
        super().__init__(reason)
        self.broken = broken


class GiveUp(Exception):
    pass


def email_of(row, sender: str) -> EmailMessage:
    """The message exactly as every attempt sends it (same Message-ID and Date)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, row.recipient, row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message.set_content(row.body)
    return message


def _answer(code: int, text) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


class SmtpConnection:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        try:
            self.smtp = smtplib.SMTP(settings.host, settings.port, local_hostname=settings.helo_name,
                                     timeout=settings.timeout)
            if settings.user:
                self.smtp.starttls()
                self.smtp.login(settings.user, settings.password)
        except smtplib.SMTPResponseException as exc:
            self._close()
            # a refused greeting or login is the server's state, not the message's: try again later
            raise RetryLater("connect: " + _answer(exc.smtp_code, exc.smtp_error), broken=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            raise RetryLater(f"connect to {settings.host}:{settings.port}: {type(exc).__name__}: {exc}",
                             broken=True) from None

    def send(self, row) -> None:
        try:
            self.smtp.send_message(email_of(row, self.settings.sender))
        except smtplib.SMTPRecipientsRefused as exc:
            answers = list(exc.recipients.values())
            text = "; ".join(_answer(code, msg) for code, msg in answers)
            if all(code >= 500 for code, _ in answers):
                raise GiveUp(text) from None
            raise RetryLater(text) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise RetryLater(f"connection lost: {exc}", broken=True) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise GiveUp(_answer(exc.smtp_code, exc.smtp_error)) from None
            # 421 means the server is closing the connection
            raise RetryLater(_answer(exc.smtp_code, exc.smtp_error), broken=exc.smtp_code == 421) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryLater(f"{type(exc).__name__}: {exc}", broken=True) from None

    def _close(self) -> None:
        smtp = getattr(self, "smtp", None)
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def __enter__(self) -> "SmtpConnection":
        return self

    def __exit__(self, *exc) -> None:
        self._close()


class SmtpTransport:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def open(self) -> SmtpConnection:
        return SmtpConnection(self.settings)
