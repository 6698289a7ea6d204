"""A test's database, quickly (tests/conftest.py and the `world` fixtures use these).

- A seeded world (the shipped processes deployed, the subjects and accounts created; or a module's
  own objects on top) is built once per session and kind, then copied into each test's database
  while that is still empty: on SQLite with the backup API (the whole file, sqlite_sequence
  included); on PostgreSQL from a schema of its own (`test_seed_<kind>`) with INSERT ... SELECT,
  the rows in the order they were written, and the sequences set to where the seeding left them.
  Seeding is the same code at the same time (SEEDED_AT, the `clock` fixture's start), so a test
  sees the rows, ids and audit chain it would have made itself, without deploying and parsing
  every process again.
- PostgreSQL: each worker has two databases and takes them in turn; the one a test has used is
  emptied (TRUNCATE, as before) in a background thread while the next test runs on the other.
"""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest

from workflows.clock import CST, FixedClock

SEEDED_AT = datetime(2026, 6, 1, 9, 0, tzinfo=CST)
SEED_SCHEMA = "test_seed_"


def _build(url: str, build, instance: Path):
    """`build(session_factory, clock)` on the database at `url`, at SEEDED_AT, with the tests'
    password cost and an instance folder of its own, the engine's caches left empty; what it returns."""
    import workflows.accounts
    from workflows.db import make_engine, make_session_factory
    from workflows.engine.bundle import clear_spec_cache
    from workflows.runtime import WORKFLOWS
    engine = make_engine(url)
    WORKFLOWS.clear()
    clear_spec_cache()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CREDFLOW_INSTANCE", str(instance))
            mp.setattr(workflows.accounts, "_N", 2 ** 8)
            return build(make_session_factory(engine), FixedClock(SEEDED_AT))
    finally:
        WORKFLOWS.clear()
        clear_spec_cache()
        engine.dispose()


class Seeder:
    """`seeder(kind, build)`: the test's database, if still empty and the test's clock at
    SEEDED_AT, made what `build(session_factory, clock)` makes of an empty database -- a copy of
    that, built once per session, database and kind. True if so; `made` is then what the build
    returned. False and nothing done otherwise: the caller builds it itself, as before."""

    def __init__(self, url: str, clock, sqlite_seeds, postgres):
        self.url, self.clock, self.sqlite_seeds, self.postgres = url, clock, sqlite_seeds, postgres
        self.restored, self.made = None, None

    def __call__(self, kind: str, build) -> bool:
        if self.clock.now() != SEEDED_AT or self.restored is not None:
            return False
        if self.url.startswith("sqlite"):
            done, made = self.sqlite_seeds.restore(self.url, kind, build)
        else:
            done, made = self.postgres().restore(kind, build)
        if done:
            self.restored, self.made = kind, made
        return done


def _parents_first(tables: list[str], references: list[tuple[str, str]]) -> list[str]:
    """The tables ordered so that a table comes after every table it references (self-references
    aside: one statement inserts or deletes all of a table's rows)."""
    needs = {t: {parent for child, parent in references if child == t and parent != t and parent in tables}
             for t in tables}
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if parents <= set(ordered))
        assert ready, f"foreign keys in a cycle: {needs}"
        ordered += ready
        for t in ready:
            del needs[t]
    return ordered


class SqliteSeeds:
    """Seeded SQLite databases, one per kind, in this session's temporary folder."""

    def __init__(self, folder: Path):
        self.folder, self.templates = folder, {}

    @staticmethod
    def _is_empty(conn) -> bool:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'")]
        probes = [f'EXISTS (SELECT 1 FROM "{t}")' for t in tables]
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            probes.append("EXISTS (SELECT 1 FROM sqlite_sequence WHERE seq > 0)")   # a migration leaves 0s
        return not conn.execute(f"SELECT {' OR '.join(probes)}").fetchone()[0]

    def restore(self, url: str, kind: str, build):
        path = url[len("sqlite:///"):]
        conn = sqlite3.connect(path, timeout=30)
        try:
            if not self._is_empty(conn):
                return False, None
            if kind not in self.templates:
                template = self.folder / f"{kind}.sqlite3"
                copy = sqlite3.connect(template)
                conn.backup(copy)                     # the empty, migrated database
                copy.close()
                self.templates[kind] = template, _build(f"sqlite:///{template}", build, self.folder / kind)
            template, made = self.templates[kind]
            source = sqlite3.connect(template)
            try:
                source.backup(conn)
            finally:
                source.close()
            return True, made
        finally:
            conn.close()


class PostgresDatabase:
    """One worker's migrated PostgreSQL database: emptied before each test, seeded from copies."""

    def __init__(self, url: str, folder: Path):
        import psycopg
        self.url, self.folder, self.seeds = url, folder, {}
        self.emptied, self.failure = None, None
        with psycopg.connect(url, autocommit=True) as conn:
            for (schema,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                          (SEED_SCHEMA + "%",)).fetchall():
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')     # a copy from an earlier run
            tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                                 "AND tablename <> 'alembic_version'")]
            references = conn.execute(
                "SELECT child.relname, parent.relname FROM pg_constraint c "
                "JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid "
                "JOIN pg_namespace n ON n.oid = child.relnamespace "
                "WHERE c.contype = 'f' AND n.nspname = 'public'").fetchall()
            self.sequences = conn.execute("SELECT sequencename, start_value FROM pg_sequences "
                                          "WHERE schemaname = 'public'").fetchall()
        self.tables = _parents_first(tables, references)

    def _run(self, sql: str):
        """Statements in one transaction and one round trip; the last one's rows."""
        import psycopg
        with psycopg.connect(self.url) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description is not None else []

    def empty(self) -> None:
        """Every table emptied, every sequence at its start. TRUNCATE rather than DELETE: a table
        starts with no pages, so rows come back from a scan in the order they were written, as
        some tests' queries without ORDER BY expect."""
        self._run("TRUNCATE " + ", ".join(f'public."{t}"' for t in self.tables) + " RESTART IDENTITY CASCADE")

    def empty_later(self) -> None:
        """empty() in a thread of its own: TRUNCATE mostly waits for the disk (new files, a WAL
        flush), which the next test need not wait for while it uses the other database."""
        self.emptied = threading.Thread(target=self._empty_noting_failure, name=f"empty {self.url}", daemon=True)
        self.emptied.start()

    def _empty_noting_failure(self) -> None:
        try:
            self.empty()
        except BaseException as exc:  # noqa: BLE001 -- said by ready(), in the test that needs the database
            self.failure = exc

    def ready(self) -> str:
        """The database's URL, once an empty_later() has emptied it."""
        if self.emptied is not None:
            self.emptied.join()
            self.emptied = None
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise RuntimeError(f"emptying {self.url} after the last test failed: {failure!r}") from failure
        return self.url

    def _is_empty(self) -> bool:
        probes = [f'EXISTS (SELECT 1 FROM public."{t}")' for t in self.tables]
        probes.append("EXISTS (SELECT 1 FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL)")
        return not self._run(f"SELECT {' OR '.join(probes)}")[0][0]

    def restore(self, kind: str, build):
        if not self._is_empty():
            return False, None
        if kind not in self.seeds:
            made = _build(self.url, build, self.folder / kind)
            self.seeds[kind] = self._keep(SEED_SCHEMA + kind) + (made,)
            return True, made
        schema, tables, sequences, made = self.seeds[kind]
        sql = [f'INSERT INTO public."{t}" OVERRIDING SYSTEM VALUE SELECT * FROM "{schema}"."{t}"' for t in tables]
        sql.append("SELECT " + ", ".join(f"setval('public.\"{s}\"', {value}, {called})"
                                         for s, value, called in sequences))
        self._run("; ".join(sql))
        return True, made

    def _keep(self, schema: str):
        """A copy of what the database holds now: its tables with rows, in a schema of its own, and
        where each sequence stands."""
        counts = self._run("SELECT " + ", ".join(f'EXISTS (SELECT 1 FROM public."{t}")' for t in self.tables))[0]
        tables = [t for t, has_rows in zip(self.tables, counts) if has_rows]
        stands = self._run(" UNION ALL ".join(f"SELECT '{s}', last_value, is_called FROM public.\"{s}\""
                                              for s, _ in self.sequences))
        self._run("; ".join([f'CREATE SCHEMA "{schema}"']
                            + [f'CREATE TABLE "{schema}"."{t}" AS SELECT * FROM public."{t}"' for t in tables]))
        return schema, tables, [(s, value, "true" if called else "false") for s, value, called in stands]


class PostgresPair:
    """Two databases per worker, taken in turn: a test uses one while the other, used by the test
    before, is emptied in the background (PostgresDatabase.empty_later)."""

    def __init__(self, first: PostgresDatabase, second: PostgresDatabase):
        self.databases = [first, second]
        for database in self.databases:
            database.empty_later()

    def take(self) -> PostgresDatabase:
        self.databases.reverse()
        database = self.databases[0]
        database.ready()
        return database

    def of(self, url: str) -> PostgresDatabase:
        return next(d for d in self.databases if d.url == url)

    def close(self) -> None:
        for database in self.databases:
            database.ready()
