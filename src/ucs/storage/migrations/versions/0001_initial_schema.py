"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "agent_state",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("firstname", sa.String(length=128), nullable=False),
        sa.Column("lastname", sa.String(length=128), nullable=False),
        sa.Column("displayname", sa.String(length=256), nullable=False),
        sa.Column("email", sa.String(length=256), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("superuser", sa.Boolean(), nullable=False),
        sa.Column("primary_extension", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "aux_reasons",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "cdr",
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("call", sa.JSON(), nullable=False),
        sa.Column("account_codes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("uniqueid"),
    )
    with op.batch_alter_table("cdr", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cdr_created"), ["created"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdr_live"), ["live"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdr_queue_id"), ["queue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdr_seq"), ["seq"], unique=False)

    op.create_table(
        "lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("extension"),
        sa.UniqueConstraint("identifier"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("ring_timeout", sa.Float(), nullable=False),
        sa.Column("wrapup", sa.Float(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sessions",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("last_identifier", sa.String(length=128), nullable=True),
        sa.Column("ringing_sound", sa.String(length=32), nullable=False),
        sa.Column("theme", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "status_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_log_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_status_log_at"), ["at"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("token", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "agent_lines",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "line_id"),
    )
    op.create_table(
        "memberships",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("supervisor", sa.Boolean(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "queue_id"),
    )


def downgrade() -> None:

    op.drop_table("memberships")
    op.drop_table("agent_lines")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_agent_id"))

    op.drop_table("tokens")
    with op.batch_alter_table("status_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_log_at"))
        batch_op.drop_index(batch_op.f("ix_status_log_agent_id"))

    op.drop_table("status_log")
    op.drop_table("settings")
    op.drop_table("sessions")
    op.drop_table("queues")
    op.drop_table("lines")
    with op.batch_alter_table("cdr", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdr_seq"))
        batch_op.drop_index(batch_op.f("ix_cdr_queue_id"))
        batch_op.drop_index(batch_op.f("ix_cdr_live"))
        batch_op.drop_index(batch_op.f("ix_cdr_created"))

    op.drop_table("cdr")
    op.drop_table("aux_reasons")
    op.drop_table("agents")
    op.drop_table("agent_state")
