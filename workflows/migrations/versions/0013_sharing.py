"""sharing upward

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:00:00

The tables of workflows/sharing/model.py. `sharing_item` (0001, until now only a repair's result,
never sent) gets its platform, change type, state, batch, attempts, sent / acknowledged times and
rejection reason; `kind` becomes `change` ('repair' -> 'repaired'), `shared_at` becomes `sent_at`;
its deadline may be unknown (a year the working-day calendar does not cover). Rows made before
this migration belong to the provincial platform and stay queued. `sharing_batch` holds the
exported files, `sharing_batch_entry` which item went in which batch and what the ack said.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sharing_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ack_imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_batch')),
    sa.UniqueConstraint('number', name=op.f('uq_sharing_batch_number'))
    )
    with op.batch_alter_table('sharing_item', schema=None) as batch_op:
        batch_op.alter_column('kind', new_column_name='change', existing_type=sa.String(length=30),
                              existing_nullable=False)
        batch_op.alter_column('shared_at', new_column_name='sent_at', existing_type=sa.DateTime(timezone=True),
                              existing_nullable=True)
        batch_op.alter_column('due_at', existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.add_column(sa.Column('platform', sa.String(length=20), server_default='provincial', nullable=False))
        batch_op.add_column(sa.Column('state', sa.String(length=20), server_default='queued', nullable=False))
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejection_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sharing_item_batch_id_sharing_batch'), 'sharing_batch',
                                    ['batch_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_sharing_item_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_sharing_item_platform_state', ['platform', 'state', 'id'], unique=False)
    op.execute("UPDATE sharing_item SET change = 'repaired' WHERE change = 'repair'")

    op.create_table('sharing_batch_entry',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['sharing_batch.id'], name=op.f('fk_sharing_batch_entry_batch_id_sharing_batch'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['sharing_item.id'], name=op.f('fk_sharing_batch_entry_item_id_sharing_item'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('batch_id', 'item_id', name=op.f('pk_sharing_batch_entry'))
    )
    with op.batch_alter_table('sharing_batch_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_batch_entry_item_id'), ['item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sharing_batch_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_batch_entry_item_id'))
    op.drop_table('sharing_batch_entry')
    op.execute("UPDATE sharing_item SET change = 'repair' WHERE change = 'repaired'")
    op.execute("DELETE FROM sharing_item WHERE due_at IS NULL")
    with op.batch_alter_table('sharing_item', schema=None) as batch_op:
        batch_op.drop_index('ix_sharing_item_platform_state')
        batch_op.drop_index(batch_op.f('ix_sharing_item_batch_id'))
        batch_op.drop_constraint(batch_op.f('fk_sharing_item_batch_id_sharing_batch'), type_='foreignkey')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('batch_id')
        batch_op.drop_column('state')
        batch_op.drop_column('platform')
        batch_op.alter_column('due_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('sent_at', new_column_name='shared_at', existing_type=sa.DateTime(timezone=True),
                              existing_nullable=True)
        batch_op.alter_column('change', new_column_name='kind', existing_type=sa.String(length=30),
                              existing_nullable=False)
    op.drop_table('sharing_batch')
