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

