"""Helpers for the store tests: a small fleet inventory, time grids, table dumps.

Kept beside the synthetic fleet (which the other packages' tests use) because the store's tests
need what the fleet cannot give: a handful of series whose every expected aggregate is computed
by hand in the test (four clusters, one with a cluster-level series beside its instances, and
instances left out on purpose to check removal)."""
from __future__ import annotations

import numpy as np

from store import Store
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec

T0 = 1_735_689_600  # 2025-01-01 00:00 UTC, a day start
HOUR = 3600
DAY = 86400

#: cluster -> (business, service, shards); "pay-sessions" also keeps a cluster-level qps series
CLUSTERS = {
    "pay-cache": ("pay", "redis", 4),
    "pay-sessions": ("pay", "redis", 2),
    "cart-cache": ("cart", "memcached", 2),
    "query-cache": ("query", "redis", 3),
}
BUSINESSES = {"pay": ("trade", 5), "cart": ("trade", 4), "query": ("search", 2)}


def make_inventory(clusters: dict = CLUSTERS, drop: tuple[str, ...] = ()) -> Inventory:
    """Instances ``<cluster>-<shard>:6379`` with qps and mem_util series; ``drop`` leaves instances out."""
    inv = Inventory(product_lines=[ProductLine(p) for p in sorted({p for p, _ in BUSINESSES.values()})],
                    businesses=[Business(b, p, s, (f"oncall-{b}",)) for b, (p, s) in BUSINESSES.items()])
    for name, (business, service, shards) in clusters.items():
        inv.clusters.append(Cluster(name, business, service, shards, 50_000.0, 8e9))
        for shard in range(shards):
            inst = f"{name}-{shard}:6379"
            if inst in drop:
                continue
            inv.instances.append(Instance(inst, name, f"{name}-{shard}", 6379, "master", shard, f"h{shard}"))
            for metric in ("qps", "mem_util"):
                inv.series.append(SeriesSpec(f"{inst}/{metric}", metric, name, inst))
    if "pay-sessions" in clusters:
        inv.series.append(SeriesSpec("cluster:pay-sessions/qps", "qps", "pay-sessions"))
    return inv


def minutes(start: int, n: int, step: int = 60) -> np.ndarray:
    return start + step * np.arange(n, dtype=np.int64)


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every data row of the time-series tables, bytes included, in key order."""
    out = {}
    with store.engine.connect() as conn:
        for table, key in (("raw_chunks", "series_id, hour"), ("rollup_days", "series_id, day"),
                           ("latest_blocks", "block")):
            rows = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
            out[table] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    return out


def wipe(store: Store) -> None:
    """Empty the time-series tables (hypothesis examples share one store)."""
    with store.engine.begin() as conn:
        for table in ("raw_chunks", "rollup_days", "latest_blocks"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
