"""audit anchors: the audit head on documents, signed daily checkpoints

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DAILY = sa.text("kind = 'daily'")


def upgrade() -> None:
    # plain ADD COLUMN on SQLite too (nullable, no constraint): the table of PDFs is not copied.
    # Documents issued before this revision carry no anchor.
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor_event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('anchor_hash', sa.String(length=64), nullable=True))
    op.create_table(
        'audit_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('last_event_id', sa.Integer(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('event_count', sa.Integer(), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('made_by', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
    )
    # one daily checkpoint per date, whatever the number of workers; any number made by hand
    op.create_index('uq_audit_checkpoint_daily', 'audit_checkpoint', ['day'], unique=True,
                    sqlite_where=DAILY, postgresql_where=DAILY)


def downgrade() -> None:
    op.drop_index('uq_audit_checkpoint_daily', table_name='audit_checkpoint')
    op.drop_table('audit_checkpoint')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('anchor_hash')
        batch_op.drop_column('anchor_event_id')
