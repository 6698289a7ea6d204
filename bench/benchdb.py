"""The PostgreSQL chores every bench script shares: which database it may use, creating it,
resetting its schema, and telling whether its schema matches the models."""
from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from workflows.models import Base


def refuse_unless_bench(url: str, why: str) -> None:
    """Benches truncate or drop what they use: only a local PostgreSQL database named *bench*."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql" or "bench" not in (u.database or ""):
        raise SystemExit(f"refusing to run against {u.render_as_string()}: this benchmark {why}, so it wants a "
                         "PostgreSQL database whose name contains 'bench'")
    if u.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing a database on {u.host}: the benchmark runs against this machine only")


def pg_conninfo(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def create_database_if_missing(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(pg_conninfo(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", flush=True)


def drop_schema(url: str) -> None:
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def schema_problems(url: str) -> list[str]:
    """Where the tables, columns and indexes differ from the models (say, an older 0001 applied)."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        inspector = inspect(engine)
        have_tables = set(inspector.get_table_names())
        problems = []
        for table in Base.metadata.sorted_tables:
            if table.name not in have_tables:
                problems.append(f"table {table.name} missing")
                continue
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            problems += [f"column {table.name}.{c.name} missing" for c in table.columns if c.name not in columns]
            have = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                want = [c.name for c in index.columns]
                if have.get(index.name) != want:
                    problems.append(f"index {index.name}: {have.get(index.name)} instead of {want}")
        return problems
    finally:
        engine.dispose()
