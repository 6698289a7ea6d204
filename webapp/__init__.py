"""The credflow web app."""
from __future__ import annotations

import os

from flask import Flask, render_template
from sqlalchemy import select

from workflows.db import default_database_url, instance_folder, make_engine, make_session_factory
from workflows.models import Record


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_folder()))
    app.config.update(SECRET_KEY=os.environ.get("CREDFLOW_SECRET_KEY", "dev-only-change-me"),
                      DATABASE_URL=None)
    app.config.update(config or {})
    url = app.config["DATABASE_URL"] or default_database_url()
    engine = make_engine(url)
    app.extensions["credflow.session_factory"] = make_session_factory(engine)

    @app.get("/")
    def index():
        with app.extensions["credflow.session_factory"]() as session:
            records = session.scalars(select(Record).order_by(Record.id)).all()
            return render_template("records.html", records=records)

    return app
