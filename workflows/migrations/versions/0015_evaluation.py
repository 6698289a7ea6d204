"""integrity evaluation

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:00:00

The tables of workflows/evaluation/model.py: a round per year with its indicators and weights,
the departments' third-party survey scores, their computed scores, and their objections; an
index on the records a year's evaluation counts.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluation_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('computations', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('objection_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_evaluation_round_case_id_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_round')),
    sa.UniqueConstraint('year', name=op.f('uq_evaluation_round_year'))
    )
    with op.batch_alter_table('evaluation_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_round_case_id'), ['case_id'], unique=False)

    op.create_table('evaluation_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('imported_by', sa.String(length=80), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_round.id'], name=op.f('fk_evaluation_survey_round_id_evaluation_round'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_evaluation_survey_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_survey')),
    sa.UniqueConstraint('round_id', 'subject_id', name=op.f('uq_evaluation_survey_round_id'))
    )
    with op.batch_alter_table('evaluation_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_survey_round_id'), ['round_id'], unique=False)

    op.create_table('evaluation_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('computed_score', sa.Float(), nullable=False),
    sa.Column('final_score', sa.Float(), nullable=False),
    sa.Column('adjustment_reason', sa.Text(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_evaluation_score_document_id_document')),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_round.id'], name=op.f('fk_evaluation_score_round_id_evaluation_round'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_evaluation_score_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_score')),
    sa.UniqueConstraint('round_id', 'subject_id', name=op.f('uq_evaluation_score_round_id'))
    )
    with op.batch_alter_table('evaluation_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_score_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_score_subject_id'), ['subject_id'], unique=False)

    op.create_table('evaluation_objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('filed_by', sa.String(length=80), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('adjusted_score', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_round.id'], name=op.f('fk_evaluation_objection_round_id_evaluation_round'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_evaluation_objection_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_objection')),
    sa.UniqueConstraint('round_id', 'subject_id', name=op.f('uq_evaluation_objection_round_id'))
    )
    with op.batch_alter_table('evaluation_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_objection_round_id'), ['round_id'], unique=False)
    # a year's records counted per department from the index alone (bench/evaluation.py)
    op.create_index('ix_record_evaluation', 'record', ['decision_date', 'status', 'severity', 'subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_record_evaluation', table_name='record')
    op.drop_table('evaluation_objection')
    op.drop_table('evaluation_score')
    op.drop_table('evaluation_survey')
    op.drop_table('evaluation_round')
