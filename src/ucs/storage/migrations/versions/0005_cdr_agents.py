"""cdr.agents: every agent who was on a call (a transferred call has more than one)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cdr", sa.Column("agents", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("cdr", "agents")
