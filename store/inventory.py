"""Inventory upsert and inventory reads (product lines, businesses, clusters, instances, series)."""
from __future__ import annotations

import time

import numpy as np
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
        if i.service is not None and i.service not in SERVICES:
            raise StoreInputError(f"instance {i.name!r} has service {i.service!r}; use one of {', '.join(SERVICES)}.")
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
    known = _ids(conn, "instances")
    upsert_rows(conn, "instances", ("name", "cluster_id", "host", "port", "role", "shard", "zabbix_hostid",
                                    "source", "removed_at", "service", "notes"), ("name",),
                [(i.name, ci[i.cluster], i.host, int(i.port), i.role, int(i.shard), i.zabbix_hostid, source, None,
                  i.service, i.notes or None) for i in inv.instances])
    now = int(time.time())
    _set_added_at(conn, inv, known, now)
    if full:
        names = {i.name for i in inv.instances}
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


def _set_added_at(conn: Connection, inv: Inventory, known: dict[str, int], now: int) -> None:
    """A source's own ``added_at`` wins; an instance seen for the first time without one joined now.
    An instance already in the store keeps its date (a later sync never moves it forward)."""
    rows = [(int(i.added_at), i.name) for i in inv.instances if i.added_at is not None]
    rows += [(now, i.name) for i in inv.instances if i.added_at is None and i.name not in known]
    if rows:
        conn.exec_driver_sql(_sql(conn, "UPDATE instances SET added_at = ? WHERE name = ?"), rows)


def backdate_instances(conn: Connection) -> int:
    """Move ``added_at`` back to the first day an instance's series hold data (trend backfills
    and upgraded stores know an instance longer than the inventory does); returns rows changed."""
    sql = """SELECT i.id, i.added_at, MIN(f.first) FROM instances i JOIN (
                 SELECT s.instance_id AS iid, (SELECT MIN(r.day) FROM rollup_days r WHERE r.series_id = s.id) AS first
                 FROM series s WHERE s.instance_id IS NOT NULL) f ON f.iid = i.id
             GROUP BY i.id, i.added_at"""
    rows = [(int(first), int(iid)) for iid, added, first in conn.exec_driver_sql(sql)
            if first is not None and (added is None or first < added)]
    if rows:
        conn.exec_driver_sql(_sql(conn, "UPDATE instances SET added_at = ? WHERE id = ?"), rows)
    return len(rows)


def _insert_names(conn: Connection, names: list[str]) -> None:
    if names:
        conn.exec_driver_sql(_sql(conn, "INSERT INTO product_lines (name) VALUES (?) ON CONFLICT (name) DO NOTHING"),
                             [(n,) for n in names])


#: an instance's service: its own, else Twemproxy for a proxy, else its cluster's
INSTANCE_SERVICE = "COALESCE(i.service, CASE WHEN i.role = 'proxy' THEN 'twemproxy' ELSE c.service END)"


def series_frame(conn: Connection) -> pd.DataFrame:
    """One row per series; ``service`` is the instance's own (a proxy in a Redis cluster is
    twemproxy), ``cluster_service`` its cluster's (what its shards are)."""
    sql = f"""
        SELECT s.id, s.key, s.metric, c.name AS cluster, b.name AS business, p.name AS product_line,
               i.name AS instance, s.units, s.label, s.zabbix_itemid,
               CASE WHEN i.id IS NULL THEN c.service ELSE {INSTANCE_SERVICE} END, c.service, i.role, b.star,
               i.removed_at
        FROM series s JOIN clusters c ON c.id = s.cluster_id JOIN businesses b ON b.id = c.business_id
        JOIN product_lines p ON p.id = b.product_line_id LEFT JOIN instances i ON i.id = s.instance_id
        ORDER BY s.id"""
    return pd.DataFrame(conn.exec_driver_sql(sql).fetchall(),
                        columns=["id", "key", "metric", "cluster", "business", "product_line", "instance", "units",
                                 "label", "zabbix_itemid", "service", "cluster_service", "role", "star",
                                 "removed_at"])


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
    sql = f"""SELECT i.id, i.name, c.name, b.name, i.host, i.port, i.role, i.shard, i.zabbix_hostid, i.source,
                    i.removed_at, i.added_at, {INSTANCE_SERVICE}, COALESCE(i.notes, '')
             FROM instances i JOIN clusters c ON c.id = i.cluster_id JOIN businesses b ON b.id = c.business_id
             ORDER BY i.name"""
    return pd.DataFrame(conn.exec_driver_sql(sql).fetchall(),
                        columns=["id", "name", "cluster", "business", "host", "port", "role", "shard",
                                 "zabbix_hostid", "source", "removed_at", "added_at", "service", "notes"])


def instance_counts(conn: Connection, day_ends) -> pd.DataFrame:
    """[ts, product_line, service, instances]: instances in the fleet at each of ``day_ends``
    (joined at or before it, not removed by then; an unknown join date counts as always there)."""
    sql = f"""SELECT p.name, {INSTANCE_SERVICE}, i.added_at, i.removed_at
             FROM instances i JOIN clusters c ON c.id = i.cluster_id JOIN businesses b ON b.id = c.business_id
             JOIN product_lines p ON p.id = b.product_line_id"""
    df = pd.DataFrame(conn.exec_driver_sql(sql).fetchall(), columns=["product_line", "service", "added", "removed"])
    ends = np.asarray(day_ends, dtype=np.int64)
    if df.empty or not ends.size:
        return pd.DataFrame({"ts": pd.Series(dtype="int64"), "product_line": pd.Series(dtype="object"),
                             "service": pd.Series(dtype="object"), "instances": pd.Series(dtype="int64")})
    added = pd.to_numeric(df["added"]).to_numpy(np.float64, na_value=-np.inf)
    removed = pd.to_numeric(df["removed"]).to_numpy(np.float64, na_value=np.inf)
    group, keys = pd.factorize(pd.MultiIndex.from_frame(df[["product_line", "service"]]))
    # alive at t: added <= t < removed; per group, count by sorted event times
    counts = np.zeros((len(keys), len(ends)), np.int64)
    for g in range(len(keys)):
        sel = group == g
        counts[g] = np.searchsorted(np.sort(added[sel]), ends, side="right") \
            - np.searchsorted(np.sort(removed[sel]), ends, side="right")
    out = pd.DataFrame({"ts": np.tile(ends, len(keys)),
                        "product_line": np.repeat(keys.get_level_values(0).to_numpy(object), len(ends)),
                        "service": np.repeat(keys.get_level_values(1).to_numpy(object), len(ends)),
                        "instances": counts.ravel()})
    return out
