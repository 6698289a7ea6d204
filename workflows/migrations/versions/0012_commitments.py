"""township commitments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:00:00

The tables of workflows/commitments/model.py: `commitment`, a township's public commitment with
its deadline, person responsible, status, case and (when failed) the dishonesty record it opened.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('commitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('responsible_name', sa.String(length=100), nullable=False),
    sa.Column('responsible_post', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('registered_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('concluded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_commitment_case_id_case')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_commitment_record_id_record')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_commitment_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment'))
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('ix_commitment_status_deadline', ['status', 'deadline'], unique=False)


def downgrade() -> None:

    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_status_deadline')
        batch_op.drop_index(batch_op.f('ix_commitment_subject_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_record_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_case_id'))

    op.drop_table('commitment')
