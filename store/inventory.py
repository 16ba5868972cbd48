"""Inventory upsert and inventory reads (product lines, businesses, clusters, instances, series)."""
from __future__ import annotations

import time

import pandas as pd
from sqlalchemy.engine import Connection

from core.errors import StoreInputError
from store.inventory_types import Inventory
from store.metrics import METRICS
from store.writer import _sql, upsert_rows

SERVICES = ("redis", "memcached", "twemproxy")
ROLES = ("master", "slave", "proxy")


def _ids(conn: Connection, table: str) -> dict[str, int]:
    return {name: i for i, name in conn.exec_driver_sql(f"SELECT id, name FROM {table}")}


def validate(inv: Inventory) -> None:
    """Reject inventory that would corrupt the store; name the item and the fix."""
    pls = {p.name for p in inv.product_lines}
    for b in inv.businesses:
        if b.product_line not in pls:
            raise StoreInputError(f"business {b.name!r} names product line {b.product_line!r} which is not "
                                  f"in the inventory; add it to product_lines.")
        if not 1 <= int(b.star) <= 5:
            raise StoreInputError(f"business {b.name!r} has star {b.star!r}; stars are 1 (minor) to 5 (core).")
    bs = {b.name for b in inv.businesses}
    for c in inv.clusters:
        if c.business not in bs:
            raise StoreInputError(f"cluster {c.name!r} names business {c.business!r} which is not in the inventory.")
        if c.service not in SERVICES:
            raise StoreInputError(f"cluster {c.name!r} has service {c.service!r}; use one of {', '.join(SERVICES)}.")
    cs = {c.name for c in inv.clusters}
    for i in inv.instances:
        if i.cluster not in cs:
            raise StoreInputError(f"instance {i.name!r} names cluster {i.cluster!r} which is not in the inventory.")
        if i.role not in ROLES:
            raise StoreInputError(f"instance {i.name!r} has role {i.role!r}; use one of {', '.join(ROLES)}.")
    inst = {i.name for i in inv.instances}
    keys = set()
    for s in inv.series:
        if s.metric not in METRICS:
            raise StoreInputError(f"series {s.key!r} has metric {s.metric!r}, which is not a canonical metric "
                                  f"(store/metrics.py); map the item to one of them.")
        if s.cluster not in cs or (s.instance is not None and s.instance not in inst):
            raise StoreInputError(f"series {s.key!r} names a cluster or instance that is not in the inventory.")
        if s.key in keys:
            raise StoreInputError(f"series key {s.key!r} appears twice; keys must be unique.")
        keys.add(s.key)


def upsert_inventory(conn: Connection, inv: Inventory, source: str, full: bool) -> dict[str, int]:
    validate(inv)
    _insert_names(conn, [p.name for p in inv.product_lines])
    pl = _ids(conn, "product_lines")
    upsert_rows(conn, "businesses", ("name", "product_line_id", "star", "oncall"), ("name",),
                [(b.name, pl[b.product_line], int(b.star), "\n".join(b.oncall)) for b in inv.businesses])
    bi = _ids(conn, "businesses")
    upsert_rows(conn, "clusters", ("name", "business_id", "service", "shard_count", "qps_per_instance",
                                   "mem_per_instance"), ("name",),
                [(c.name, bi[c.business], c.service, int(c.shard_count), float(c.qps_per_instance),
                  float(c.mem_per_instance)) for c in inv.clusters])
    ci = _ids(conn, "clusters")
    upsert_rows(conn, "instances", ("name", "cluster_id", "host", "port", "role", "shard", "zabbix_hostid",
                                    "source", "removed_at"), ("name",),
                [(i.name, ci[i.cluster], i.host, int(i.port), i.role, int(i.shard), i.zabbix_hostid, source, None)
                 for i in inv.instances])
    if full:
        names = {i.name for i in inv.instances}
        now = int(time.time())
        gone = [n for (n,) in conn.exec_driver_sql(
            _sql(conn, "SELECT name FROM instances WHERE source = ? AND removed_at IS NULL"), (source,))
            if n not in names]
        if gone:
            conn.exec_driver_sql(_sql(conn, "UPDATE instances SET removed_at = ? WHERE name = ?"),
                                 [(now, n) for n in gone])
    ii = _ids(conn, "instances")
    upsert_rows(conn, "series", ("key", "metric", "cluster_id", "instance_id", "units", "label", "zabbix_itemid"),
                ("key",),
                [(s.key, s.metric, ci[s.cluster], ii[s.instance] if s.instance else None,
                  s.units or METRICS[s.metric].units, s.label, s.zabbix_itemid) for s in inv.series])
    wanted = {s.key for s in inv.series}
    return {k: i for i, k in conn.exec_driver_sql("SELECT id, key FROM series") if k in wanted}


def _insert_names(conn: Connection, names: list[str]) -> None:
    if names:
        conn.exec_driver_sql(_sql(conn, "INSERT INTO product_lines (name) VALUES (?) ON CONFLICT (name) DO NOTHING"),
                             [(n,) for n in names])


def series_frame(conn: Connection) -> pd.DataFrame:
    sql = """
        SELECT s.id, s.key, s.metric, c.name AS cluster, b.name AS business, p.name AS product_line,
               i.name AS instance, s.units, s.label, s.zabbix_itemid, c.service, i.role, b.star,
               i.removed_at
        FROM series s JOIN clusters c ON c.id = s.cluster_id JOIN businesses b ON b.id = c.business_id
        JOIN product_lines p ON p.id = b.product_line_id LEFT JOIN instances i ON i.id = s.instance_id
        ORDER BY s.id"""
    return pd.DataFrame(conn.exec_driver_sql(sql).fetchall(),
                        columns=["id", "key", "metric", "cluster", "business", "product_line", "instance", "units",
                                 "label", "zabbix_itemid", "service", "role", "star", "removed_at"])


def businesses_frame(conn: Connection) -> pd.DataFrame:
    sql = """SELECT b.id, b.name, p.name, b.star, b.oncall FROM businesses b
             JOIN product_lines p ON p.id = b.product_line_id ORDER BY p.name, b.name"""
    return pd.DataFrame(conn.exec_driver_sql(sql).fetchall(), columns=["id", "name", "product_line", "star", "oncall"])


def clusters_frame(conn: Connection) -> pd.DataFrame:
    sql = """SELECT c.id, c.name, b.name, p.name, c.service, c.shard_count, c.qps_per_instance,
                    c.mem_per_instance, b.star
             FROM clusters c JOIN businesses b ON b.id = c.business_id
             JOIN product_lines p ON p.id = b.product_line_id ORDER BY c.name"""
    return pd.DataFrame(conn.exec_driver_sql(sql).fetchall(),
                        columns=["id", "name", "business", "product_line", "service", "shard_count",
                                 "qps_per_instance", "mem_per_instance", "star"])


def instances_frame(conn: Connection) -> pd.DataFrame:
    sql = """SELECT i.id, i.name, c.name, b.name, i.host, i.port, i.role, i.shard, i.zabbix_hostid, i.source,
                    i.removed_at
             FROM instances i JOIN clusters c ON c.id = i.cluster_id JOIN businesses b ON b.id = c.business_id
             ORDER BY i.name"""
    return pd.DataFrame(conn.exec_driver_sql(sql).fetchall(),
                        columns=["id", "name", "cluster", "business", "host", "port", "role", "shard",
                                 "zabbix_hostid", "source", "removed_at"])
