"""Real fleets: an instance's own service and mapping notes; the user's promotion calendar.

- ``instances.service``: the service of the instance itself when it differs from its cluster's (a
  Twemproxy host that carries its Redis cluster's tag); NULL means the cluster's service (a proxy
  role is Twemproxy).
- ``instances.notes``: what the source had to assume for it (a malformed tag and the value used).
- ``promotion_kinds``: yearly promotions (built-in defaults overridden, disabled or added by the
  user); ``promotions.origin`` (user, import, suggestion, synthetic) and ``promotions.skipped``
  (a yearly occurrence the user removed).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("service", sa.String(20)))
        batch.add_column(sa.Column("notes", sa.Text))
    with op.batch_alter_table("promotions") as batch:
        batch.add_column(sa.Column("origin", sa.String(20), nullable=False, server_default="user"))
        batch.add_column(sa.Column("skipped", sa.Integer, nullable=False, server_default="0"))
    op.create_table("promotion_kinds",
                    sa.Column("kind", sa.String(40), primary_key=True),
                    sa.Column("month", sa.Integer, nullable=False),
                    sa.Column("day", sa.Integer, nullable=False),
                    sa.Column("preheat_days", sa.Integer, nullable=False),
                    sa.Column("length_days", sa.Integer, nullable=False),
                    sa.Column("tz", sa.String(60), nullable=False),
                    sa.Column("enabled", sa.Integer, nullable=False))
    # where the data begins (kept up to date by every write from now on): the yearly promotions
    # of the calendar start there
    bind = op.get_bind()
    first = [x for x in (bind.exec_driver_sql("SELECT MIN(day) FROM rollup_days").scalar(),
                         bind.exec_driver_sql("SELECT MIN(hour) FROM raw_chunks").scalar()) if x is not None]
    if first:
        bind.exec_driver_sql("DELETE FROM meta WHERE key = 'data.first_ts'")
        meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
        op.bulk_insert(meta, [{"key": "data.first_ts", "value": str(int(min(first)))}])


def downgrade():
    op.drop_table("promotion_kinds")
    with op.batch_alter_table("promotions") as batch:
        batch.drop_column("skipped")
        batch.drop_column("origin")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("notes")
        batch.drop_column("service")
