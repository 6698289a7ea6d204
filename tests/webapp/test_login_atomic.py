"""Login (issue 15, finding 5), through the login page on SQLite and PostgreSQL: a burst of
parallel wrong passwords runs at most LOGIN_FAILURE_LIMIT password checks (each attempt is
reserved before its password is checked), and every attempt costs the same scrypt work whether
the username names an account, a deactivated one, one not yet activated, or nobody."""
from __future__ import annotations

import hashlib
import threading

import pytest

from credflow_web import password
from workflows.accounts import UNUSABLE_PASSWORD, create_user
from workflows.models import User

PARALLEL = 16


@pytest.fixture
def scrypt_calls(monkeypatch):
    """Every scrypt the app runs, as (n, r, p), from the moment the test asks for it."""
    calls, real = [], hashlib.scrypt

    def counted(password, *, salt, n, r, p, **kwargs):
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, **kwargs)
    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


def test_parallel_wrong_passwords_reach_the_password_check_at_most_the_limit(app, web, monkeypatch):
    limit = app.config["LOGIN_FAILURE_LIMIT"]
    browsers = [web(ip=f"10.1.0.{n + 1}") for n in range(PARALLEL)]     # the account's limit, not the address's
    for browser in browsers:
        browser.get("/login")                                           # each has its CSRF token
    state = threading.Condition()
    checked, answered = [], []
    release = threading.Event()
    real = hashlib.scrypt

    def held_check(password, **kwargs):
        """A password check that waits until every attempt has either reached a check or been
        answered without one: all 16 are in flight together, whatever the order they run in."""
        with state:
            checked.append(1)
            state.notify_all()
        release.wait(60)
        return real(password, **kwargs)
    monkeypatch.setattr(hashlib, "scrypt", held_check)
    start = threading.Barrier(PARALLEL)

    def attempt(browser):
        start.wait()
        response = browser.post("/login", {"username": "reviewer", "password": "wrong"})
        with state:
            answered.append(response.status_code)
            state.notify_all()

    threads = [threading.Thread(target=attempt, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    with state:
        all_in = state.wait_for(lambda: len(checked) + len(answered) >= PARALLEL, timeout=60)
        reached = len(checked)
    release.set()
    for thread in threads:
        thread.join(60)
    assert all_in, f"{len(checked)} attempts at the check and {len(answered)} answered: some never got there"
    assert reached <= limit, f"{reached} of {PARALLEL} parallel attempts reached the password check (limit {limit})"
    assert sorted(answered) == [401] * reached + [429] * (PARALLEL - reached)
    # the account stays throttled, the right password included; another account is not
    assert web(ip="10.1.1.1").login("reviewer").status_code == 429
    assert web(ip="10.1.1.1").login("clerk").status_code == 302


def test_a_success_clears_the_accounts_count(web):
    b = web()
    for _ in range(4):
        assert b.login("reviewer", "wrong").status_code == 401
    assert web().login("reviewer").status_code == 302
    for _ in range(5):                       # a fresh count: five more failures before the throttle
        assert b.login("reviewer", "wrong").status_code == 401
    assert b.login("reviewer").status_code == 429


def test_every_attempt_costs_one_scrypt_of_the_same_cost(web, world, scrypt_calls):
    with world.uow() as uow:
        create_user(uow, "gone", password("gone"), "离职者", ["clerk"]).active = False
        create_user(uow, "invited", password("invited"), "新同事", ["clerk"]).password_hash = UNUSABLE_PASSWORD
        uow.commit()
    with world.factory() as session:
        known = tuple(int(x) for x in session.query(User).filter_by(username="reviewer").one()
                      .password_hash.split("$")[1:4])
    web().login("nobody", "warm-up")             # the dummy hash is made at the first need
    attempts = (("reviewer", "wrong", 401), ("nobody", "wrong", 401), ("gone", password("gone"), 401),
                ("invited", "anything", 401), ("reviewer", password("reviewer"), 302))
    for username, pw, status in attempts:
        scrypt_calls.clear()
        assert web().login(username, pw).status_code == status, username
        assert scrypt_calls == [known], (username, scrypt_calls)


def test_a_name_no_column_can_hold_is_nobody_and_still_counted(world, clock, scrypt_calls):
    """The service itself (the web's boundary refuses such a form with a 400 before it): a name
    with NUL or a lone surrogate finds no account, costs the same scrypt, and counts to the limit."""
    from workflows.login import LoginLimits, dummy_hash, log_in
    dummy_hash()                                   # made once, at the first need
    limits = LoginLimits(per_account=2)
    for name in ("revie\x00wer", "revie\udc80wer"):
        outcomes = []
        for _ in range(3):
            scrypt_calls.clear()
            with world.factory() as reader:
                attempt = log_in(reader, world.factory, name, password("reviewer"), "10.2.0.1", "", clock.now(), limits)
            outcomes.append((attempt.user, attempt.throttled, len(scrypt_calls)))
        assert outcomes == [(None, False, 1), (None, False, 1), (None, True, 0)], name
