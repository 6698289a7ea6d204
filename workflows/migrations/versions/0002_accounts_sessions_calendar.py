"""accounts, server-side sessions, activation codes, token expiry, who entered calendar days

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 18:00:00
"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

OLD_TOKEN_DAYS = 90


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=40), nullable=True))
    _expire_old_tokens()
    with op.batch_alter_table('workday_override', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_by', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('calendar_year', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_by', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('covered_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_user_session_token_sha256'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('activation_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_activation_code_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_code')),
    sa.UniqueConstraint('code_sha256', name=op.f('uq_activation_code_code_sha256'))
    )
    with op.batch_alter_table('activation_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activation_code_user_id'), ['user_id'], unique=False)


def _expire_old_tokens() -> None:
    """Tokens made before expiry existed get the default lifetime from their creation (90 days)."""
    tokens = sa.table('api_token', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)),
                      sa.column('expires_at', sa.DateTime(timezone=True)))
    conn = op.get_bind()
    for token_id, created in conn.execute(sa.select(tokens.c.id, tokens.c.created_at)
                                          .where(tokens.c.expires_at.is_(None))).fetchall():
        conn.execute(tokens.update().where(tokens.c.id == token_id)
                     .values(expires_at=created + timedelta(days=OLD_TOKEN_DAYS)))


def downgrade() -> None:
    op.drop_table('activation_code')
    op.drop_table('user_session')
    with op.batch_alter_table('calendar_year', schema=None) as batch_op:
        batch_op.drop_column('covered_at')
        batch_op.drop_column('covered_by')
    with op.batch_alter_table('workday_override', schema=None) as batch_op:
        batch_op.drop_column('entered_at')
        batch_op.drop_column('entered_by')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('phone')
