"""The outbox: every side effect that leaves credflow (e-mail now; sharing upward can join as
another kind) is a row written in the same transaction as the action that caused it, and sent
afterwards by workers, each message once.

- model.py   the `outbox_message` table
- writer.py  queueing messages inside a unit of work (no network here)
- smtp.py    the SMTP transport, and which server answers mean "try again" or "give up"
- sender.py  claiming a batch (FOR UPDATE SKIP LOCKED, with a lease), sending, recording each
             message as sent in its own commit, backoff and the attempt cap
- admin.py   what an administrator sees and may do: counts, failed messages, retry
"""
from .model import OutboxMessage  # noqa: F401
