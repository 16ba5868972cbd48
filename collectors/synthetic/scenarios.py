"""A small seeded fleet with hand-placed special cases, written through the store's public write
path: the dashboard tests' fleet (``tests/dashboard/fleetdata.py`` re-exports it) and
benchmarks/dashboard_bench.py's (a benchmark imports nothing from tests/).

Every business owns one cluster; services rotate redis / memcached / twemproxy. Special cases a
viewer must notice are placed on purpose: ``CRIT`` (star 5, one shard at 97 % memory), ``STALE``
(its collector went silent an hour ago), ``EMPTY`` (a business with no series at all),
``HOT`` (a 16-shard redis cluster with one shard taking 5x the traffic).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from collectors.synthetic.fleet import SERVICE_METRICS
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec

LINES = ("trade", "payment", "search", "recommend", "marketing", "logistics", "member", "coupon",
         "content", "ads", "risk", "im", "finance", "local", "infra")
CRIT, STALE, EMPTY, HOT = "pay-core", "feed-archive", "new-launch", "cart-hot"
METRICS = SERVICE_METRICS  # the metrics the synthetic fleet keeps per (service, role)
GB = 1 << 30
READ_SHARE = 0.8
SCALE_OUT_DAYS = 10   # HOT's upper half of shards joined this many days before ``now``


@dataclass
class Fleet:
    inventory: Inventory
    ids: dict[str, int]
    now: int
    businesses: list[str]


def build_inventory(n_instances: int = 120, seed: int = 0, hot_shards: int = 16) -> Inventory:
    rng = np.random.default_rng(seed)
    n_biz = max(6, n_instances // 10)
    inv = Inventory(product_lines=[ProductLine(p) for p in LINES])
    names = [CRIT, STALE, EMPTY, HOT] + [f"{LINES[i % len(LINES)][:4]}-svc{i:04d}" for i in range(4, n_biz)]
    for i, name in enumerate(names):
        star = 5 if name == CRIT else int(rng.choice([1, 2, 3, 4], p=[0.3, 0.3, 0.3, 0.1]))
        line = LINES[1] if name == CRIT else LINES[i % len(LINES)]
        inv.businesses.append(Business(name, line, star, (f"Li Wei <+86138{i:08d}>",)))
        if name == EMPTY:
            continue
        service = "redis" if name in (CRIT, HOT) else ("redis", "memcached", "twemproxy")[i % 3]
        shards = hot_shards if name == HOT else 4
        _cluster(inv, name, f"{name}-{service[:2]}01", service, shards, i)
    return inv


def _cluster(inv: Inventory, business: str, cluster: str, service: str, shards: int, k: int) -> None:
    inv.clusters.append(Cluster(cluster, business, service, shards, 80_000.0, 8 * GB))
    members: list[tuple[str, int]] = []
    if service == "redis":
        members = [(r, s) for s in range(shards) for r in ("master", "slave")]
    elif service == "memcached":
        members = [("master", s) for s in range(shards)]
    else:
        members = [("proxy", s) for s in range(2)] + [("master", s) for s in range(shards)]
    port = {"redis": 6379, "memcached": 11211, "twemproxy": 22121}[service]
    for j, (role, shard) in enumerate(members):
        host = f"10.{k // 250 % 250}.{k % 250}.{j + 1}"
        p = port if not (service == "twemproxy" and role == "master") else 11211
        name = f"{host}:{p}"
        inv.instances.append(Instance(name, cluster, host, p, role, shard, zabbix_hostid=str(10000 + 50 * k + j)))
        for m in METRICS[(service, role)]:     # item ids as a Zabbix-collected store has them
            inv.series.append(SeriesSpec(f"{name}/{m}", m, cluster, name, zabbix_itemid=str(30000 + len(inv.series))))
    front = "proxy_qps" if service == "twemproxy" else "qps"
    for m in (front, "mem_used", "conns", "reads", "writes"):
        inv.series.append(SeriesSpec(f"cluster:{cluster}/{m}", m, cluster))


def diurnal(ts: np.ndarray) -> np.ndarray:
    """Beijing-time day shape: quiet night, 10:00 and 21:00 peaks (1.0 at the evening peak)."""
    h = ((ts + 8 * 3600) % 86400) / 3600.0
    return 0.25 + 0.45 * np.exp(-((h - 10) ** 2) / 4) + 0.75 * np.exp(-((h - 21) ** 2) / 6)


def instance_value(metric: str, base_qps: float, ts: np.ndarray, rng, mem_util: float) -> np.ndarray:
    q = base_qps * diurnal(ts) * (1 + 0.03 * rng.standard_normal(len(ts)))
    value = {
        "qps": q, "proxy_qps": q, "conns": 200 + q / 50, "mem_max": np.full(len(ts), 8.0 * GB),
        "mem_used": np.full(len(ts), mem_util / 100 * 8 * GB), "mem_util": np.full(len(ts), mem_util),
        "hit_ratio": 96 + rng.standard_normal(len(ts)) * 0.3, "evictions": np.zeros(len(ts)),
        "net_in": q * 120, "net_out": q * 900, "cpu": 5 + 40 * q / 80_000, "repl_ok": np.ones(len(ts)),
        "proxy_timeouts": np.zeros(len(ts)), "server_ejects": np.zeros(len(ts)),
        "reads": q * READ_SHARE, "writes": q * (1 - READ_SHARE),
    }[metric]
    return np.round(value, 2)


def write_fleet(store, inv: Inventory, now: int, raw_hours: float = 3, history_days: int = 0,
                seed: int = 0, step: int = 60, instance_raw_hours: float | None = None) -> Fleet:
    """Write the fleet: ``raw_hours`` of 1-minute samples up to ``now`` (cluster series) and
    ``instance_raw_hours`` (default the same) for instance series, a 10-minute window a week ago,
    and ``history_days`` of hourly rollups before the raw window."""
    joined = now - SCALE_OUT_DAYS * 86400
    hot_shards = next((c.shard_count for c in inv.clusters if c.business == HOT), 0)
    inv.instances[:] = [dataclasses.replace(i, added_at=joined) if i.cluster.startswith(HOT) and
                        i.shard >= hot_shards // 2 and i.role != "proxy" else i for i in inv.instances]
    ids = store.upsert_inventory(inv)
    rng = np.random.default_rng(seed)
    cl_biz = {c.name: c.business for c in inv.clusters}
    cl_shards = {c.name: c.shard_count for c in inv.clusters}
    inst = {i.name: i for i in inv.instances}
    now = now - now % step
    inst_hours = raw_hours if instance_raw_hours is None else instance_raw_hours
    week = now - 7 * 86400
    sids, tss, vals = [], [], []
    for spec in inv.series:
        biz = cl_biz[spec.cluster]
        end = now - 3600 if biz == STALE else now
        hours = raw_hours if spec.instance is None else inst_hours
        ts = np.arange(end - int(hours * 3600) + step, end + 1, step, dtype=np.int64)
        if spec.instance is None or spec.metric in ("qps", "proxy_qps"):   # what "vs last week" reads
            ts = np.concatenate([np.arange(week - 600, week + 1, step, dtype=np.int64), ts])
        base, util = _base(spec, inst, cl_shards, biz)
        v = instance_value(spec.metric, base, ts, rng, util)
        sids.append(np.full(len(ts), ids[spec.key])), tss.append(ts), vals.append(v)
        if len(sids) >= 4000:
            store.write_samples(np.concatenate(sids), np.concatenate(tss), np.concatenate(vals))
            sids, tss, vals = [], [], []
    if sids:
        store.write_samples(np.concatenate(sids), np.concatenate(tss), np.concatenate(vals))
    if history_days:
        write_history(store, inv, ids, now - int(raw_hours * 3600), history_days, rng)
    return Fleet(inv, ids, now, [b.name for b in inv.businesses])


def _base(spec: SeriesSpec, inst: dict, cl_shards: dict, biz: str) -> tuple[float, float]:
    shards = cl_shards[spec.cluster]
    per_shard = 20_000.0
    if spec.instance is None:
        return per_shard * shards * (1 + 4 / shards if biz == HOT else 1), 50.0
    i = inst[spec.instance]
    base = per_shard * (5 if biz == HOT and i.shard == 3 else 1) * (0.3 if i.role == "slave" else 1)
    util = 97.0 if biz == CRIT and i.shard == 1 and i.role == "master" else 40.0 + 3 * i.shard % 20
    return base, util


def write_history(store, inv: Inventory, ids: dict, until: int, days: int, rng) -> None:
    """Hourly rollups for ``days`` before ``until`` (the rollup tier, as trend.get would give)."""
    until -= until % 3600
    hours = np.arange(until - days * 86400, until, 3600, dtype=np.int64)
    growth = np.exp(np.log(3.0) * (hours - until) / (365 * 86400))
    inst = {i.name: i for i in inv.instances}
    cl_shards = {c.name: c.shard_count for c in inv.clusters}
    cl_biz = {c.name: c.business for c in inv.clusters}
    for spec in inv.series:
        if spec.metric not in ("qps", "proxy_qps", "mem_util", "mem_used", "conns", "reads", "writes"):
            continue
        base, util = _base(spec, inst, cl_shards, cl_biz[spec.cluster])
        traffic = "qps" in spec.metric or spec.metric in ("reads", "writes")
        avg = instance_value(spec.metric, base, hours, rng, util) * (growth if traffic else 1)
        joined = inst[spec.instance].added_at if spec.instance else None
        keep = hours >= (joined or 0)                   # no data before an instance joined
        n = int(keep.sum())
        store.write_rollups(np.full(n, ids[spec.key]), hours[keep], avg[keep] * 0.8, avg[keep], avg[keep] * 1.2,
                            np.full(n, 60))
    store.backdate_instances()       # as a trend backfill does: instances are as old as their data
