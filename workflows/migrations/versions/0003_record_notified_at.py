"""when the subject was notified of a record (告知); records already past confirmation count as notified

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa

# the statuses at or after confirmation (workflows/record_notice.STAGE): the subject already saw
# these records in the portal before this revision, so they stay visible
PAST_CONFIRMATION = ("confirmed", "sanctioned", "exempted", "published", "corrected", "revoked", "repaired",
                     "expired", "archived")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
    _backfill()


def _backfill() -> None:
    """notified_at of a record past confirmation: when its audit trail first shows it there, else
    its last change."""
    record = sa.table('record', sa.column('id', sa.Integer), sa.column('status', sa.String),
                      sa.column('updated_at', sa.DateTime(timezone=True)),
                      sa.column('notified_at', sa.DateTime(timezone=True)))
    event = sa.table('audit_event', sa.column('id', sa.Integer), sa.column('action', sa.String),
                     sa.column('record_id', sa.Integer), sa.column('at', sa.DateTime(timezone=True)),
                     sa.column('data', sa.JSON))
    conn = op.get_bind()
    records = dict(conn.execute(sa.select(record.c.id, record.c.updated_at)
                                .where(record.c.status.in_(PAST_CONFIRMATION))).all())
    if not records:
        return
    reached = {}
    for record_id, at, data in conn.execute(
            sa.select(event.c.record_id, event.c.at, event.c.data)
            .where(event.c.action == 'record.status', event.c.record_id.is_not(None)).order_by(event.c.id)):
        if record_id in records and record_id not in reached and (data or {}).get('new') in PAST_CONFIRMATION:
            reached[record_id] = at
    for record_id, updated in records.items():
        conn.execute(record.update().where(record.c.id == record_id)
                     .values(notified_at=reached.get(record_id, updated)))


def downgrade() -> None:
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_column('notified_at')
