"""queues: dispositions, the account codes their calls may be given, and free text besides

Revision ID: 0012
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0017"
branch_labels = None
depends_on = None

# Existing queues get no list (any code, as before the list existed).
_COLUMNS = (
    sa.Column("dispositions", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("free_text_codes", sa.Boolean, nullable=False, server_default=sa.false()),
)


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases: SQLite must not rebuild ``queues``, whose
    # memberships would go with the old table (ON DELETE CASCADE).
    for column in _COLUMNS:
        op.add_column("queues", column)


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_column("queues", column.name)
