"""Tables (SQLAlchemy Core). The migrations in store/migrations create exactly these; a test
compares the migrated database with this metadata."""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text)

metadata = MetaData()

product_lines = Table(
    "product_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
)

businesses = Table(
    "businesses", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("product_line_id", Integer, ForeignKey("product_lines.id"), nullable=False),
    Column("star", Integer, nullable=False),
    Column("oncall", Text, nullable=False, default=""),
)

clusters = Table(
    "clusters", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("business_id", Integer, ForeignKey("businesses.id"), nullable=False),
    Column("service", String(20), nullable=False),
    Column("shard_count", Integer, nullable=False),
    Column("qps_per_instance", Float, nullable=False, default=0.0),
    Column("mem_per_instance", Float, nullable=False, default=0.0),
)

instances = Table(
    "instances", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("cluster_id", Integer, ForeignKey("clusters.id"), nullable=False),
    Column("host", String(200), nullable=False),
    Column("port", Integer, nullable=False),
    Column("role", String(20), nullable=False),
    Column("shard", Integer, nullable=False, default=0),
    Column("zabbix_hostid", String(40)),
    Column("source", String(40), nullable=False, default="synthetic"),
    Column("removed_at", BigInteger),
    Column("added_at", BigInteger),
    Column("service", String(20)),         # NULL: the cluster's (a proxy role: twemproxy)
    Column("notes", Text),                 # what the source assumed for it (malformed tags)
)

series = Table(
    "series", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("metric", String(40), nullable=False),
    Column("cluster_id", Integer, ForeignKey("clusters.id"), nullable=False),
    Column("instance_id", Integer, ForeignKey("instances.id")),
    Column("units", String(20), nullable=False, default=""),
    Column("label", String(200), nullable=False, default=""),
    Column("zabbix_itemid", String(40)),
    Index("ix_series_metric", "metric"),
    Index("ix_series_cluster", "cluster_id"),
)

raw_chunks = Table(
    "raw_chunks", metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_raw_chunks_hour", "hour"),
    sqlite_with_rowid=False,
)

rollup_days = Table(
    "rollup_days", metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("day", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

latest_blocks = Table(
    "latest_blocks", metadata,
    Column("block", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

watermarks = Table(
    "watermarks", metadata,
    Column("source", String(40), primary_key=True),
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("ts", BigInteger, nullable=False),
)

promotions = Table(
    "promotions", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger, nullable=False),
    Column("preheat_days", Integer, nullable=False, default=0),
    Column("tz", String(60), nullable=False, default="Asia/Shanghai"),
    Column("origin", String(20), nullable=False, server_default="user"),
    Column("skipped", Integer, nullable=False, server_default="0"),
)

promotion_kinds = Table(
    "promotion_kinds", metadata,
    Column("kind", String(40), primary_key=True),
    Column("month", Integer, nullable=False),
    Column("day", Integer, nullable=False),
    Column("preheat_days", Integer, nullable=False),
    Column("length_days", Integer, nullable=False),
    Column("tz", String(60), nullable=False),
    Column("enabled", Integer, nullable=False),
)

meta = Table(
    "meta", metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)


# ------------------------------------------------------------------------------ alerting (0004)
zabbix_problems = Table(
    "zabbix_problems", metadata,
    Column("eventid", String(40), primary_key=True),
    Column("source", String(40), nullable=False, default="zabbix"),
    Column("clock", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("severity", String(20), nullable=False),        # store.alerts.PROBLEM_SEVERITIES
    Column("acknowledged", Integer, nullable=False, default=0),
    Column("host", String(200), nullable=False, default=""),
    Column("instance", String(200)),
    Column("tags", Text, nullable=False, default="{}"),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("dedup_key", String(400), nullable=False),
    Column("open_key", String(400), unique=True),          # dedup_key while open, NULL once resolved
    Column("business", String(200), nullable=False),
    Column("product_line", String(200), nullable=False, default=""),
    Column("star", Integer, nullable=False, default=3),
    Column("cluster", String(200)),
    Column("instance", String(200)),
    Column("rule", String(100), nullable=False),
    Column("metric", String(40), nullable=False, default=""),
    Column("severity", String(10), nullable=False),
    Column("state", String(20), nullable=False),           # pending, firing, acknowledged, resolved
    Column("value", Float),
    Column("threshold", Float),
    Column("reason", Text, nullable=False, default=""),
    Column("started_at", BigInteger, nullable=False),
    Column("fired_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Column("acked_by", String(200)),
    Column("acked_at", BigInteger),
    Column("ack_comment", Text),
    Column("resolved_at", BigInteger),
    Column("escalated_at", BigInteger),
    Column("silenced_by", Integer),
    Column("inhibited", Integer, nullable=False, default=0),
    Index("ix_alerts_state", "state"),
    Index("ix_alerts_business", "business"),
    Index("ix_alerts_fired", "fired_at"),
)

alert_events = Table(
    "alert_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("who", String(200), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_alert_events_alert", "alert_id"),
)

silences = Table(
    "silences", metadata,
    Column("id", Integer, primary_key=True),
    Column("matchers", Text, nullable=False),              # JSON {"business": "...", "rule": "..."}
    Column("starts_at", BigInteger, nullable=False),
    Column("ends_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("expired_at", BigInteger),
    Index("ix_silences_ends", "ends_at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("idem_key", String(200), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),            # firing, resolved, escalation, digest, test
    Column("recipient", String(200), nullable=False),
    Column("gateway", String(60), nullable=False),
    Column("group_key", String(400), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("alert_ids", Text, nullable=False, default="[]"),
    Column("state", String(20), nullable=False),           # queued, sending, retry, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", BigInteger, nullable=False),
    Column("claimed_by", String(100)),
    Column("claimed_until", BigInteger),
    Column("sent_at", BigInteger),
    Column("gateway_id", String(200)),
    Column("answer", Text),
    Index("ix_outbox_state_next", "state", "next_at"),
    Index("ix_outbox_recipient", "recipient", "created_at"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(20), nullable=False),          # queued, sent, retried, failed
    Column("gateway", String(60), nullable=False),
    Column("gateway_id", String(200)),
    Column("answer", Text, nullable=False, default=""),
    Column("elapsed_ms", Float),
    Index("ix_deliveries_outbox", "outbox_id"),
)

notify_state = Table(
    "notify_state", metadata,
    Column("group_key", String(400), primary_key=True),
    Column("recipient", String(200), primary_key=True),
    Column("first_at", BigInteger, nullable=False),
    Column("last_sent_at", BigInteger),
    Column("last_hash", String(64), nullable=False, default=""),
)

leases = Table(
    "leases", metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_run", BigInteger, nullable=False, default=0),
)


# ------------------------------------------------------------------------------ accounts (0005)
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),         # argon2id, from accounts.passwords
    Column("role", String(20), nullable=False),            # viewer, operator, admin
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
    Column("last_login_at", BigInteger),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False, default=""),
    Column("token_hash", String(64), nullable=False, unique=True),   # SHA-256 hex; the token is shown once
    Column("prefix", String(16), nullable=False),                     # first characters, to tell tokens apart
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
    Index("ix_api_tokens_user", "user_id"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", BigInteger, nullable=False),
    Column("who", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", String(400), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("via", String(20), nullable=False, default=""),            # web, api, cli
    Index("ix_audit_log_ts", "ts"),
)
