"""notifications keep their message in the reader's terms

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:00:00

`notification.message` holds the notification as a catalog id and its parameters
(workflows.messages.as_data), so the notifications page and menu show it in the reader's language.
`text` stays: the Chinese sentence, for the e-mail and for rows written before this revision
(their `message` is NULL and they show as written).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('message')
