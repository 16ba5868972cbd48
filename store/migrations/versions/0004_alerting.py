"""Alerting tables: Zabbix problems (were a JSON document in meta), alerts with their lifecycle and
history, silences, the notification outbox and its delivery log, notification group state, leases.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zabbix_problems",
        sa.Column("eventid", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False, default="zabbix"),
        sa.Column("clock", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("acknowledged", sa.Integer, nullable=False, default=0),
        sa.Column("host", sa.String(200), nullable=False, default=""),
        sa.Column("instance", sa.String(200)),
        sa.Column("tags", sa.Text, nullable=False, default="{}"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedup_key", sa.String(400), nullable=False),
        sa.Column("open_key", sa.String(400), unique=True),
        sa.Column("business", sa.String(200), nullable=False),
        sa.Column("product_line", sa.String(200), nullable=False, default=""),
        sa.Column("star", sa.Integer, nullable=False, default=3),
        sa.Column("cluster", sa.String(200)),
        sa.Column("instance", sa.String(200)),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("metric", sa.String(40), nullable=False, default=""),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("threshold", sa.Float),
        sa.Column("reason", sa.Text, nullable=False, default=""),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("fired_at", sa.BigInteger),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("acked_by", sa.String(200)),
        sa.Column("acked_at", sa.BigInteger),
        sa.Column("ack_comment", sa.Text),
        sa.Column("resolved_at", sa.BigInteger),
        sa.Column("escalated_at", sa.BigInteger),
        sa.Column("silenced_by", sa.Integer),
        sa.Column("inhibited", sa.Integer, nullable=False, default=0),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_business", "alerts", ["business"])
    op.create_index("ix_alerts_fired", "alerts", ["fired_at"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("who", sa.String(200), nullable=False, default=""),
        sa.Column("detail", sa.Text, nullable=False, default=""),
    )
    op.create_index("ix_alert_events_alert", "alert_events", ["alert_id"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("starts_at", sa.BigInteger, nullable=False),
        sa.Column("ends_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text, nullable=False, default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expired_at", sa.BigInteger),
    )
    op.create_index("ix_silences_ends", "silences", ["ends_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idem_key", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("gateway", sa.String(60), nullable=False),
        sa.Column("group_key", sa.String(400), nullable=False, default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("alert_ids", sa.Text, nullable=False, default="[]"),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("next_at", sa.BigInteger, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", sa.BigInteger),
        sa.Column("sent_at", sa.BigInteger),
        sa.Column("gateway_id", sa.String(200)),
        sa.Column("answer", sa.Text),
    )
    op.create_index("ix_outbox_state_next", "outbox", ["state", "next_at"])
    op.create_index("ix_outbox_recipient", "outbox", ["recipient", "created_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("gateway", sa.String(60), nullable=False),
        sa.Column("gateway_id", sa.String(200)),
        sa.Column("answer", sa.Text, nullable=False, default=""),
        sa.Column("elapsed_ms", sa.Float),
    )
    op.create_index("ix_deliveries_outbox", "deliveries", ["outbox_id"])
    op.create_table(
        "notify_state",
        sa.Column("group_key", sa.String(400), primary_key=True),
        sa.Column("recipient", sa.String(200), primary_key=True),
        sa.Column("first_at", sa.BigInteger, nullable=False),
        sa.Column("last_sent_at", sa.BigInteger),
        sa.Column("last_hash", sa.String(64), nullable=False, default=""),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("last_run", sa.BigInteger, nullable=False, default=0),
    )
    # the collector's old problem document is replaced by the zabbix_problems table (next pass fills it)
    op.execute("DELETE FROM meta WHERE key = 'zabbix.problems'")


def downgrade():
    op.drop_table("leases")
    op.drop_table("notify_state")
    op.drop_table("deliveries")
    op.drop_table("outbox")
    op.drop_table("silences")
    op.drop_table("alert_events")
    op.drop_table("alerts")
    op.drop_table("zabbix_problems")
