"""Sessions that end: a copy of a browser's session cookie (taken while it worked) stops claiming
and completing tasks as soon as the session is ended -- by logout, a password change, the admin's
deactivation or role change -- and an API token stops at deactivation, role change, password
change, revocation and expiry. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from credflow_web import Browser, location, password
from workflows.accounts import create_api_token
from workflows.models import HumanTask, UserSession
from workflows.users import change_password

NEW_PASSWORD = "Kq7-tower-maple-88"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}


def copy_of(browser: Browser, app) -> Browser:
    """A second browser carrying the same session cookie (as a thief with a copy would)."""
    thief = Browser(app, "198.51.100.23")
    thief.client.set_cookie("session", browser.client.get_cookie("session").value)
    return thief


def assignee(world, row_id):
    with world.factory() as session:
        return session.get(HumanTask, row_id).assignee_id


def sent_to_login(response) -> bool:
    return response.status_code == 302 and location(response).startswith("/login")


def logout(web, reviewer, world):
    assert reviewer.post("/logout").status_code == 302


def password_change(web, reviewer, world):
    reviewer.get("/account/")
    response = reviewer.post("/account/password", {"current_password": password("reviewer"),
                                                   "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    # the browser that changed the password stays signed in; only its copies are out
    assert reviewer.get("/inbox").status_code == 200


def deactivation(web, reviewer, world):
    admin = web("admin")
    admin.get(f"/system/users/{world.user_ids['reviewer']}")
    assert admin.post(f"/system/users/{world.user_ids['reviewer']}/deactivate").status_code == 302
    assert sent_to_login(reviewer.get("/inbox"))


def role_change(web, reviewer, world):
    admin = web("admin")
    admin.get(f"/system/users/{world.user_ids['reviewer']}")
    response = admin.post(f"/system/users/{world.user_ids['reviewer']}/roles",
                          [("roles", "reviewer"), ("roles", "leader")])
    assert response.status_code == 302
    assert sent_to_login(reviewer.get("/inbox"))    # logs in again to get the new roles


@pytest.mark.parametrize("event", [logout, password_change, deactivation, role_change])
def test_a_copied_session_cookie_neither_claims_nor_completes_after(event, app, web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review").id
    reviewer = web("reviewer")
    thief = copy_of(reviewer, app)
    assert thief.get("/inbox").status_code == 200          # the copy works while the session lives

    event(web, reviewer, world)

    response = thief.post(f"/tasks/{row}/claim")
    assert sent_to_login(response), response.status_code
    assert assignee(world, row) is None
    response = thief.post(f"/tasks/{row}", APPROVE)
    assert sent_to_login(response), response.status_code
    assert world.task(case_id, "legality_review").id == row    # still open
    assert sent_to_login(thief.get("/inbox"))


def test_logout_ends_the_session_row_and_login_opens_one(web, world):
    reviewer = web("reviewer")
    with world.factory() as session:
        rows = session.scalars(select(UserSession).where(UserSession.user_id == world.user_ids["reviewer"])).all()
    assert len(rows) == 1 and rows[0].ended_at is None and rows[0].ip == "127.0.0.1"
    reviewer.post("/logout")
    with world.factory() as session:
        row = session.get(UserSession, rows[0].id)
    assert row.ended_at == world.clock.now() and row.end_reason == "logout"


def test_log_out_everywhere_ends_every_browser_of_the_user(app, web, world):
    office, home = web("reviewer"), web("reviewer")
    clerk = web("clerk")
    office.get("/account/")
    response = office.post("/account/logout-everywhere")
    assert sent_to_login(response)
    assert sent_to_login(office.get("/inbox")) and sent_to_login(home.get("/inbox"))
    assert clerk.get("/inbox").status_code == 200           # another user's session is untouched


def test_last_seen_is_written_at_most_once_a_minute(web, world, clock):
    reviewer = web("reviewer")

    def last_seen():
        with world.factory() as session:
            return session.scalars(select(UserSession.last_seen_at)
                                   .where(UserSession.user_id == world.user_ids["reviewer"])).one()
    start = last_seen()
    clock.advance(seconds=30)
    reviewer.get("/inbox")
    assert last_seen() == start
    clock.advance(seconds=31)
    reviewer.get("/inbox")
    assert last_seen() == clock.now()


# -- API tokens ----------------------------------------------------------------------------------

def token_deactivation(world, app, token_id):
    admin = _admin(app, world)
    admin.post(f"/system/users/{world.user_ids['reviewer']}/deactivate")


def token_role_change(world, app, token_id):
    admin = _admin(app, world)
    admin.post(f"/system/users/{world.user_ids['reviewer']}/roles", [("roles", "reviewer"), ("roles", "leader")])


def token_password_change(world, app, token_id):
    world.run("reviewer", change_password, password("reviewer"), NEW_PASSWORD, NEW_PASSWORD)


def token_revocation(world, app, token_id):
    reviewer = Browser(app)
    reviewer.login("reviewer")
    page = reviewer.get("/account/").get_data(as_text=True)
    assert f'data-token="{token_id}" data-state="active"' in page
    assert reviewer.post("/account/tokens/revoke", {"token_id": token_id}).status_code == 302


def token_expiry(world, app, token_id):
    world.clock.advance(days=91)


def _admin(app, world) -> Browser:
    admin = Browser(app)
    assert admin.login("admin").status_code == 302
    admin.get(f"/system/users/{world.user_ids['reviewer']}")
    return admin


@pytest.mark.parametrize("event", [token_deactivation, token_role_change, token_password_change, token_revocation,
                                   token_expiry])
def test_an_api_token_stops_working_after(event, app, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review").id
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["reviewer"], "integration")
        uow.commit()
    from workflows.models import ApiToken
    with world.factory() as session:
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.user_id == world.user_ids["reviewer"])).one()
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tasks", headers=bearer).status_code == 200
    world.clock.advance(days=89)
    assert client.get("/api/v1/tasks", headers=bearer).status_code == 200    # still within its 90 days
    world.clock.advance(days=-89)

    event(world, app, token_id)

    assert client.get("/api/v1/tasks", headers=bearer).status_code == 401
    response = client.post(f"/api/v1/tasks/{row}/claim", headers=bearer)
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert assignee(world, row) is None
    response = client.post(f"/api/v1/tasks/{row}/complete", headers=bearer, json=APPROVE)
    assert response.status_code == 401
    assert world.task(case_id, "legality_review").id == row
