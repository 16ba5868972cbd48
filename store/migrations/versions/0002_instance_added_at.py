"""instances.added_at: when an instance joined the fleet (the fleet page's instance counts over time).

Existing instances get the first day their series hold data (NULL when they hold none: counted as
present since before the data began).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("instances", sa.Column("added_at", sa.BigInteger))
    from store.inventory import backdate_instances
    backdate_instances(op.get_bind())


def downgrade():
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("added_at")
