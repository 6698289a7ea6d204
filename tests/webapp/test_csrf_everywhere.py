"""Every state-changing route of the browser app refuses a request without a valid CSRF token,
whoever sends it. The routes come from the app's URL map, so a new form cannot be forgotten.
The JSON API is exempt because it takes bearer tokens only: a browser's session cookie does
not authenticate it, which this file checks too."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from credflow_web import Page
from workflows.models import AuditEvent

CSRF_MESSAGE = "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _unsafe_browser_routes(app):
    """(method, url) for every state-changing rule outside the API, path arguments filled with 1."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api.") or rule.rule.startswith("/api/"):
            continue
        values = {arg: sorted(conv.items)[0] if hasattr(conv, "items") else 1
                  for arg, conv in rule._converters.items()}
        for method in sorted(rule.methods & UNSAFE):
            found.append((method, adapter.build(rule.endpoint, values, method=method)))
    return found


def _audit_count(world):
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def test_the_url_map_has_the_forms_we_expect(app):
    routes = _unsafe_browser_routes(app)
    assert ("POST", "/login") in routes and ("POST", "/tasks/1") in routes and ("POST", "/tasks/next") in routes
    assert len(routes) >= 25


@pytest.mark.parametrize("who", [None, "clerk", "reviewer", "leader", "subject", "manager"])
def test_every_state_change_without_a_token_is_refused(web, world, app, who):
    world.open_record()
    b = web(who) if who else web()
    before = _audit_count(world)
    refused = []
    for method, url in _unsafe_browser_routes(app):
        response = b.client.open(url, method=method, data={"body": "x", "user_id": "1"})
        page = Page(response)
        if page.status != 400 or page.text_of("error-message") != CSRF_MESSAGE:
            refused.append(f"{method} {url} -> {response.status_code}")
    assert refused == [], "state changes that did not demand a CSRF token:\n" + "\n".join(refused)
    assert _audit_count(world) == before
    if who:   # still signed in: the refusals did not disturb the session
        assert "/login" not in b.get("/").headers.get("Location", "")


def test_the_api_ignores_the_browser_session(web, world):
    b = web("clerk")
    response = b.client.post("/api/v1/records", json={"subject_id": world.subjects[0]})
    assert response.status_code == 401
    assert response.get_json()["error"].startswith("需要 API 令牌")
