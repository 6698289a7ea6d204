"""approval actions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 11:24:22

The approval actions (workflows/approvals): `approval_action` records each 退回, 撤回, 转办,
委派, 加签, 抄送 and 催办 with its reason; `case_copy` who a case was copied to and when they read
it; `standing_delegation` who stands in for whom on leave; `approval_policy` who may take which
action per process and task. A task row says what kind it is (a workflow task or an added
signer's approval), on whose behalf it is held and what its holder must know first.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('approval_policy',
    sa.Column('process_key', sa.String(length=100), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('allowed', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('process_key', 'task', 'action', name=op.f('pk_approval_policy'))
    )
    op.create_table('standing_delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deputy_id'], ['user_account.id'], name=op.f('fk_standing_delegation_deputy_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_standing_delegation_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_delegation'))
    )
    with op.batch_alter_table('standing_delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_delegation_user_id'), ['user_id'], unique=False)

    op.create_table('approval_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('task_row_id', sa.Integer(), nullable=True),
    sa.Column('bpmn_id', sa.String(length=100), nullable=True),
    sa.Column('task_name', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('target_user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_approval_action_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_approval_action_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_user_id'], ['user_account.id'], name=op.f('fk_approval_action_target_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_action'))
    )
    with op.batch_alter_table('approval_action', schema=None) as batch_op:
        batch_op.create_index('ix_approval_action_case_task', ['case_id', 'task_id'], unique=False)

    op.create_table('case_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['approval_action.id'], name=op.f('fk_case_copy_action_id_approval_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_copy_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_case_copy_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_copy'))
    )
    with op.batch_alter_table('case_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_copy_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_copy_user', ['user_id', 'created_at'], unique=False)

    # SQLite copies the table: it must keep AUTOINCREMENT (a task row id is never reused)
    with op.batch_alter_table('human_task', schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='task', nullable=False))
        batch_op.add_column(sa.Column('parent_task_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notice', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_human_task_owner_id_user_account'), 'user_account', ['owner_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('human_task', schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_human_task_owner_id_user_account'), type_='foreignkey')
        batch_op.drop_column('notice')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('parent_task_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('case_copy', schema=None) as batch_op:
        batch_op.drop_index('ix_case_copy_user')
        batch_op.drop_index(batch_op.f('ix_case_copy_case_id'))

    op.drop_table('case_copy')
    with op.batch_alter_table('approval_action', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_action_case_task')

    op.drop_table('approval_action')
    with op.batch_alter_table('standing_delegation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_delegation_user_id'))

    op.drop_table('standing_delegation')
    op.drop_table('approval_policy')

