"""submission attempts, current attempt and progress

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("executor", sa.String(length=50), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("handle", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("submission_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_submission_attempts_submission_id", ["submission_id"], unique=False)
        batch_op.create_index("ix_submission_attempts_open", ["finished_at", "id"], unique=False)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_attempt_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("progress_done", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("progress_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("progress_total")
        batch_op.drop_column("progress_done")
        batch_op.drop_column("current_attempt_id")
    with op.batch_alter_table("submission_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_attempts_open")
        batch_op.drop_index("ix_submission_attempts_submission_id")
    op.drop_table("submission_attempts")
