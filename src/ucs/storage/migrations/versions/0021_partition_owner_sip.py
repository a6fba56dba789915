"""partition_owner.sip: where the owner of a partition takes SIP requests (HOST:PORT)

Revision ID: 0021
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("partition_owner", sa.Column("sip", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("partition_owner", "sip")
