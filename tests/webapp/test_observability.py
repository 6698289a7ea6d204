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


def _database_goes_away(app):
    """Point both session factories at a PostgreSQL port nobody listens on: the driver's real
    connection error, as during a database restart."""
    from workflows.db import make_engine, make_read_session_factory, make_session_factory
    gone = make_engine("postgresql://postgres@127.0.0.1:9/credflow_gone", connect_args={"connect_timeout": 2})
    app.extensions["credflow.session_factory"] = make_session_factory(gone)
    app.extensions["credflow.read_session_factory"] = make_read_session_factory(gone)


def test_a_signed_in_page_says_the_database_is_unavailable_with_503(web, world, app):
    from credflow_web import Page
    b = web("reviewer")
    assert b.get("/inbox").status_code == 200
    _database_goes_away(app)
    response = b.get("/inbox")
    page = Page(response)
    assert page.status == 503
    assert response.headers["Retry-After"] == "5"
    assert page.text_of("error-message") == "数据库暂时不可用，请稍后重试；重试前可刷新页面，查看刚才的操作是否已生效。"
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_post_while_the_database_is_gone_is_refused_with_503_and_saves_nothing(web, world, app):
    from credflow_web import Page
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    b = web("reviewer")
    b.get("/inbox")
    real = (app.extensions["credflow.session_factory"], app.extensions["credflow.read_session_factory"])
    _database_goes_away(app)
    page = Page(b.post(f"/tasks/{row.id}/claim"))
    assert page.status == 503
    assert "数据库暂时不可用" in page.text_of("error-message")
    # the database comes back: the same request now works, and it was not half-done before
    app.extensions["credflow.session_factory"], app.extensions["credflow.read_session_factory"] = real
    assert world.task(case_id, "legality_review").assignee_id is None
    assert b.post(f"/tasks/{row.id}/claim").status_code == 302
    assert world.task(case_id, "legality_review").assignee_id == world.user_ids["reviewer"]


def test_the_api_answers_503_in_json_when_the_database_is_gone(app, world):
    from workflows.accounts import create_api_token
    with world.uow("reviewer") as uow:
        token = create_api_token(uow, world.user_ids["reviewer"], "faults")
        uow.commit()
    _database_goes_away(app)
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "数据库暂时不可用" in response.get_json()["error"]


def test_a_page_that_has_read_what_it_needs_survives_the_database_dropping_the_connection(web, world, app):
    """A restart between the page's last query and the end of its read transaction: the ROLLBACK
    fails, yet the reader gets the page (it wrote nothing), and the dead connection is discarded."""
    from sqlalchemy.exc import OperationalError
    factory = app.extensions["credflow.read_session_factory"]
    closed = []

    def dying_session():
        session = factory()
        real_close = session.close

        def close():
            real_close()
            closed.append(session)
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection due to administrator command"))
        session.close = close
        return session

    b = web("reviewer")
    app.extensions["credflow.read_session_factory"] = dying_session
    response = b.get("/inbox")
    assert response.status_code == 200 and "待办任务" in response.get_data(as_text=True)
    assert closed


def test_the_access_log_names_the_signed_in_user_and_costs_an_anonymous_request_no_query(web, world, app, caplog):
    from sqlalchemy import event
    from webapp.observability import JsonFormatter
    b = web("reviewer")
    engine = app.extensions["credflow.read_session_factory"].kw["bind"]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    with caplog.at_level(logging.INFO, logger="credflow.access"):
        b.get("/inbox")
        event.listen(engine, "before_cursor_execute", listener)
        try:
            b.get("/healthz")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "credflow.access"]
    assert [(line["path"], line["user"]) for line in lines] == [("/inbox", "reviewer"), ("/healthz", None)]
    assert [s for s in statements if s != "BEGIN"] == ["SELECT 1"]   # the health check's own query only


def test_an_error_page_goes_out_without_the_notice_badge_when_the_database_fails_meanwhile(web, world, monkeypatch):
    """A case error (here: a task that does not exist) answered while the database drops: the
    page still says what went wrong instead of failing on the unread-notices badge."""
    import workflows.notifications
    from sqlalchemy.exc import OperationalError
    b = web("reviewer")

    def gone(*args, **kwargs):
        raise OperationalError("SELECT count(*)", {}, Exception("terminating connection"))
    monkeypatch.setattr(workflows.notifications, "unread_count", gone)
    from credflow_web import Page
    page = Page(b.get("/tasks/999999"))
    assert page.status == 404
    assert "任务不存在" in page.text_of("error-message")
