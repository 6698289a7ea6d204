"""Engine and session factory. The database comes from a URL; SQLite gets WAL and foreign keys."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker, Session


def instance_folder() -> Path:
    """Where local state lives (the SQLite file, uploads, keys): $CREDFLOW_INSTANCE or ./instance."""
    folder = Path(os.environ.get("CREDFLOW_INSTANCE", "instance")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_database_url() -> str:
    """$DATABASE_URL, or the SQLite file in the instance folder."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_folder() / 'credflow.sqlite3'}"


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Take the write lock at BEGIN so concurrent writers queue instead of deadlocking.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the lock at BEGIN; readers (see make_read_session_factory) read a snapshot.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("credflow_read") else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work (on SQLite they take the write lock when they begin)."""
    return sessionmaker(engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for pages that only read: on SQLite they never wait for or block a writer."""
    return sessionmaker(engine.execution_options(credflow_read=True), expire_on_commit=False)
