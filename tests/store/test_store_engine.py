"""Opening a store: corrupt, locked and unreachable databases give one-line errors and write
nothing; migrations build exactly store/schema.py and keep data."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from storekit import T0, dump, make_inventory, minutes

from core.errors import StoreCorrupt, StoreError, StoreLocked, StoreUnavailable
from store import Store
from store import engine as eng
from store.schema import metadata


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and len(text) < 400
    return text


@pytest.mark.parametrize("content", [b"this is a CSV export, not a database\n" * 200,
                                     b"SQLite format 3\x00" + bytes(range(256)) * 64])
def test_a_corrupt_file_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "store.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreCorrupt) as info:
        Store.open(f"sqlite:///{path}")
    assert str(path) in one_line(info.value) and "another file" in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]


def test_a_locked_file_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "store.sqlite"
    url = f"sqlite:///{path}"
    with Store.open(url) as store:
        ids = store.upsert_inventory(make_inventory())
        sid = ids["pay-cache-0:6379/qps"]
        store.write_samples(np.full(10, sid), minutes(T0, 10), np.arange(10.0))
        before = dump(store)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store.open(url, busy_timeout_s=0.2) as store, pytest.raises(StoreLocked) as info:
            store.write_samples(np.full(10, sid), minutes(T0 + 600, 10), np.arange(10.0))
        assert "locked by another process" in one_line(info.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store.open(url) as store:
        assert dump(store) == before


def test_a_new_store_locked_while_being_created_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreLocked) as info:
            Store.open(f"sqlite:///{path}", busy_timeout_s=0.2)
        one_line(info.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


@pytest.mark.parametrize("url, words", [
    ("postgresql+psycopg://postgres@127.0.0.1:1/test", "does not answer"),
    ("postgresql+psycopg://postgres@nonexistent.invalid:5432/test", "does not answer"),
    ("mysql://root@127.0.0.1/x", r"supports sqlite:/// and postgresql\+psycopg://"),
    ("not a url", "is not a database URL"),
])
def test_an_unreachable_or_unsupported_url_is_one_line_naming_the_fix(url, words):
    with pytest.raises(StoreUnavailable, match=words) as info:
        Store.open(url)
    one_line(info.value)


def test_the_migrated_schema_is_exactly_store_schema(db_url):
    Store.open(db_url).close()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert eng.current_revision(engine) == eng.head_revision()
    finally:
        engine.dispose()
    assert diff == []


def test_an_upgrade_from_the_first_revision_keeps_the_data(db_url):
    from alembic import command

    engine = eng.make_engine(db_url)
    cfg = eng.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    with Store.open(db_url, migrate=False) if eng.head_revision() == "0001" else Store.open(db_url) as store:
        ids = store.upsert_inventory(make_inventory())
        store.write_samples(np.full(60, ids["pay-cache-0:6379/qps"]), minutes(T0, 60), np.arange(60.0))
        before = dump(store)
    with Store.open(db_url) as store:   # migrates to head
        assert dump(store) == before
        assert eng.current_revision(store.engine) == eng.head_revision()
        assert store.read_raw([ids["pay-cache-0:6379/qps"]], T0, T0 + 3600)["value"].sum() == sum(range(60))


def test_an_unmigrated_store_opened_without_migrating_names_the_command(db_url):
    engine = eng.make_engine(db_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    engine.dispose()
    with pytest.raises(StoreError, match="store migrate") as info:
        Store.open(db_url, migrate=False)
    one_line(info.value)


def test_upgrade_to_0002_dates_existing_instances_by_their_first_day_of_data(db_url):
    from alembic import command

    engine = eng.make_engine(db_url)
    cfg = eng.alembic_config()
    day = T0 - T0 % 86400 - 30 * 86400
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        for sql in ("INSERT INTO product_lines (id, name) VALUES (1, 'trade')",
                    "INSERT INTO businesses (id, name, product_line_id, star, oncall) VALUES (1, 'pay', 1, 5, '')",
                    "INSERT INTO clusters (id, name, business_id, service, shard_count, qps_per_instance, "
                    "mem_per_instance) VALUES (1, 'pay-cache', 1, 'redis', 2, 0, 0)",
                    "INSERT INTO instances (id, name, cluster_id, host, port, role, shard, source) VALUES "
                    "(1, 'a:6379', 1, 'a', 6379, 'master', 0, 'zabbix'), (2, 'b:6379', 1, 'b', 6379, 'master', 1, 'zabbix')",
                    "INSERT INTO series (id, key, metric, cluster_id, instance_id, units, label) VALUES "
                    "(1, 'a:6379/qps', 'qps', 1, 1, 'ops/s', '')"):
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql(f"INSERT INTO rollup_days (series_id, day, data) VALUES (1, {day}, '') ".replace(
            "''", "X''" if db_url.startswith("sqlite") else "'\\x'::bytea"))
    engine.dispose()
    with Store.open(db_url) as store:   # migrates to head
        added = store.instances().set_index("name")["added_at"]
        # 0003: where the data begins (the calendar's yearly promotions start there); a proxy role is Twemproxy
        assert store.data_start() == day
        assert set(store.instances()["service"]) == {"redis"} and set(store.instances()["notes"]) == {""}
    assert added["a:6379"] == day and added.isna()["b:6379"]      # no data: unknown, counted as always there
