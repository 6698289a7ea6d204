from alembic import context

from workflows.db import make_engine
from workflows.models import Base
import workflows.outbox.model  # noqa: E402,F401 -- the outbox table
import workflows.audit_checkpoints  # noqa: E402,F401 -- the audit_checkpoint table
import workflows.login  # noqa: E402,F401 -- the login_throttle table
import workflows.import_jobs  # noqa: E402,F401 -- the import_job table
import workflows.approvals.model  # noqa: E402,F401 -- the approval actions' tables
import workflows.complaints.model  # noqa: E402,F401 -- complaints
import workflows.lookups.model  # noqa: E402,F401 -- look-ups (逢办必查)
import workflows.commitments.model  # noqa: E402,F401 -- township commitments
import workflows.sharing.model  # noqa: E402,F401 -- sharing upward
import workflows.early_warning.model  # noqa: E402,F401 -- early warning
import workflows.evaluation.model  # noqa: E402,F401 -- the yearly integrity evaluation
import workflows.dashboard.model  # noqa: E402,F401 -- the dashboard's indexes

config = context.config


def _run_on(connection) -> None:
    """On SQLite a batch migration copies a table, drops the old one and renames the copy: with
    foreign keys enforced, dropping `user_account` would cascade and delete every row that points
    at it (roles, tokens, notifications). Foreign keys are off while migrating, and checked after."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.commit()   # the pragma is ignored inside a transaction: set it on the bare connection
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        connection.commit()
        raw = connection.connection.driver_connection
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        raw.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run_on(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run_on(connection)
    engine.dispose()


run_migrations()
