"""look-ups (逢办必查)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00

The tables of workflows/lookups/model.py: `lookup` keeps every look-up with a snapshot of what it
found; `user_account.department_id` says which department a staff member works for (look-ups are
counted per department); `ix_record_subject_status` serves a look-up's published records.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_department_id_subject'), 'subject',
                                    ['department_id'], ['id'])

    op.create_table('lookup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('checker_name', sa.String(length=120), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('via_api', sa.Boolean(), nullable=False),
    sa.Column('key_kind', sa.String(length=20), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('deal_kind', sa.String(length=20), nullable=False),
    sa.Column('deal_ref', sa.String(length=100), nullable=False),
    sa.Column('hit', sa.Boolean(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_reason', sa.Text(), nullable=True),
    sa.Column('outcome_by', sa.String(length=80), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['subject.id'], name=op.f('fk_lookup_department_id_subject')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_lookup_document_id_document')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_lookup_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup'))
    )
    with op.batch_alter_table('lookup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_lookup_department_created', ['department_id', 'created_at'], unique=False)
        batch_op.create_index('ix_lookup_created', ['created_at'], unique=False)

    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.create_index('ix_record_subject_status', ['subject_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_index('ix_record_subject_status')

    with op.batch_alter_table('lookup', schema=None) as batch_op:
        batch_op.drop_index('ix_lookup_created')
        batch_op.drop_index('ix_lookup_department_created')
        batch_op.drop_index(batch_op.f('ix_lookup_user_id'))

    op.drop_table('lookup')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_account_department_id_subject'), type_='foreignkey')
        batch_op.drop_column('department_id')
