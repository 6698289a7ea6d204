"""complaints

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:00:00

The tables of workflows/complaints/model.py: `complaint` (the complaint, the only place its
complainant's identity is kept), `complaint_throttle` (public posts per address) and
`complaint_challenge` (challenges already answered).
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('concerned', sa.String(length=200), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('contact_email', sa.String(length=200), nullable=True),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('reply_document_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_complaint_case_id_case')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_complaint_record_id_record')),
    sa.ForeignKeyConstraint(['reply_document_id'], ['document.id'], name=op.f('fk_complaint_reply_document_id_document')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_complaint_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('code_sha256', name=op.f('uq_complaint_code_sha256'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_subject_id'), ['subject_id'], unique=False)

    op.create_table('complaint_throttle',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_complaint_throttle'))
    )
    with op.batch_alter_table('complaint_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_throttle_window_start'), ['window_start'], unique=False)

    op.create_table('complaint_challenge',
    sa.Column('nonce_sha256', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce_sha256', name=op.f('pk_complaint_challenge'))
    )
    with op.batch_alter_table('complaint_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_challenge_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_challenge_expires_at'))
    op.drop_table('complaint_challenge')
    with op.batch_alter_table('complaint_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_throttle_window_start'))
    op.drop_table('complaint_throttle')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_subject_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_record_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_case_id'))
    op.drop_table('complaint')
