"""Initial schema: inventory, raw chunks, rollup days, latest blocks, watermarks, promotions.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("product_lines",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True))
    op.create_table("businesses",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("product_line_id", sa.Integer, sa.ForeignKey("product_lines.id"), nullable=False),
                    sa.Column("star", sa.Integer, nullable=False),
                    sa.Column("oncall", sa.Text, nullable=False))
    op.create_table("clusters",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("business_id", sa.Integer, sa.ForeignKey("businesses.id"), nullable=False),
                    sa.Column("service", sa.String(20), nullable=False),
                    sa.Column("shard_count", sa.Integer, nullable=False),
                    sa.Column("qps_per_instance", sa.Float, nullable=False),
                    sa.Column("mem_per_instance", sa.Float, nullable=False))
    op.create_table("instances",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("cluster_id", sa.Integer, sa.ForeignKey("clusters.id"), nullable=False),
                    sa.Column("host", sa.String(200), nullable=False),
                    sa.Column("port", sa.Integer, nullable=False),
                    sa.Column("role", sa.String(20), nullable=False),
                    sa.Column("shard", sa.Integer, nullable=False),
                    sa.Column("zabbix_hostid", sa.String(40)),
                    sa.Column("source", sa.String(40), nullable=False),
                    sa.Column("removed_at", sa.BigInteger))
    op.create_table("series",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("key", sa.String(400), nullable=False, unique=True),
                    sa.Column("metric", sa.String(40), nullable=False),
                    sa.Column("cluster_id", sa.Integer, sa.ForeignKey("clusters.id"), nullable=False),
                    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id")),
                    sa.Column("units", sa.String(20), nullable=False),
                    sa.Column("label", sa.String(200), nullable=False),
                    sa.Column("zabbix_itemid", sa.String(40)))
    op.create_index("ix_series_metric", "series", ["metric"])
    op.create_index("ix_series_cluster", "series", ["cluster_id"])
    op.create_table("raw_chunks",
                    sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("n", sa.Integer, nullable=False),
                    sa.Column("data", sa.LargeBinary, nullable=False),
                    sqlite_with_rowid=False)
    op.create_index("ix_raw_chunks_hour", "raw_chunks", ["hour"])
    op.create_table("rollup_days",
                    sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("data", sa.LargeBinary, nullable=False),
                    sqlite_with_rowid=False)
    op.create_table("latest_blocks",
                    sa.Column("block", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("data", sa.LargeBinary, nullable=False))
    op.create_table("watermarks",
                    sa.Column("source", sa.String(40), primary_key=True),
                    sa.Column("series_id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("ts", sa.BigInteger, nullable=False))
    op.create_table("promotions",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("kind", sa.String(40), nullable=False),
                    sa.Column("start", sa.BigInteger, nullable=False),
                    sa.Column("end", sa.BigInteger, nullable=False),
                    sa.Column("preheat_days", sa.Integer, nullable=False),
                    sa.Column("tz", sa.String(60), nullable=False))
    op.create_table("meta",
                    sa.Column("key", sa.String(200), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))


def downgrade():
    for name in ("meta", "promotions", "watermarks", "latest_blocks", "rollup_days", "raw_chunks",
                 "series", "instances", "clusters", "businesses", "product_lines"):
        op.drop_table(name)
