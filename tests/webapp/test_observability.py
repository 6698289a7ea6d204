"""The health endpoint and request ids, as a load balancer and a log reader see them."""
import json
import logging


def test_health_answers_ok_with_the_database_up(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_gone(app):
    from sqlalchemy import create_engine
    from workflows.db import make_read_session_factory
    app.extensions["credflow.read_session_factory"] = make_read_session_factory(
        create_engine("sqlite:////nonexistent-dir/credflow.sqlite3"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_every_response_carries_a_request_id_and_logs_it_as_json(app, caplog):
    from webapp.observability import JsonFormatter
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="credflow.access"):
        given = client.get("/login", headers={"X-Request-ID": "req-42"})
        made = client.get("/login")
    assert given.headers["X-Request-ID"] == "req-42"
    assert len(made.headers["X-Request-ID"]) == 32
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "credflow.access"]
    assert {"request_id": "req-42", "method": "GET", "path": "/login", "status": 200}.items() <= lines[0].items()
    assert lines[1]["request_id"] == made.headers["X-Request-ID"]
