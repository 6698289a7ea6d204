"""The login's password check does the same scrypt work for every username (issue 15, finding 5):
a known account, an unknown name, a deactivated account and one not yet activated each cost one
scrypt at today's cost, so the answer's timing does not tell which usernames exist."""
from __future__ import annotations

import hashlib

from workflows.accounts import UNUSABLE_PASSWORD, hash_cost, hash_password
from workflows.login import dummy_hash, password_matches
from workflows.models import User


def test_every_username_costs_one_scrypt_of_todays_cost(monkeypatch):
    dummy_hash()                                  # made once, at the first need: not per attempt
    calls, real = [], hashlib.scrypt

    def counted(password, *, salt, n, r, p, **kwargs):
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, **kwargs)
    monkeypatch.setattr(hashlib, "scrypt", counted)
    stored = hash_password("right")
    calls.clear()
    known = User(username="known", password_hash=stored, active=True)
    gone = User(username="gone", password_hash=stored, active=False)
    invited = User(username="invited", password_hash=UNUSABLE_PASSWORD, active=True)
    for user, given, expected in ((known, "right", True), (known, "wrong", False), (None, "right", False),
                                  (gone, "right", False), (invited, "right", False), (invited, "", False)):
        calls.clear()
        assert password_matches(user, given) is expected, (user and user.username, given)
        assert calls == [hash_cost()], (user and user.username, calls)


def test_the_dummy_follows_the_cost_of_new_hashes(monkeypatch):
    import workflows.accounts
    first = dummy_hash()
    assert first.split("$")[1:4] == [str(v) for v in hash_cost()]
    monkeypatch.setattr(workflows.accounts, "_N", 2 ** 9)
    assert dummy_hash().split("$")[1:4] == ["512", "8", "1"]
    assert dummy_hash() == dummy_hash()           # once per cost
