"""Store benchmark: ingest against bare sqlite3, bytes per raw sample, and the three reads the wall
and the forecaster depend on, at 3,000 and 30,000 instances.

    python benchmarks/store_bench.py            # 3,000 and 30,000 instances (a few minutes)
    python benchmarks/store_bench.py --quick    # 300 instances, smoke test (seconds)

Synthetic fleet (numpy, seeded): 10 series per instance (integer-ish qps with noise, byte counts,
ratios with 2 decimals, ...) plus a cluster-level qps series per cluster, as the fleet keeps.

- ingest: ``--hours`` (default 2) hours of 1-minute samples for every series through ``Store.write_samples``,
  one call per hour per block of series (what a collector catching up or the synthetic fleet
  does), against ``sqlite3.executemany`` of the same (series, ts, value) rows into a plain table
  in the same batches and transactions, same pragmas (WAL, synchronous=NORMAL).
- bytes_per_sample: pages of the raw tier (``raw_chunks`` and its index, from SQLite's dbstat) per
  raw sample; ``file_growth_per_sample`` is the whole file's growth during ingest (raw chunks plus
  the new hourly rollup rows and latest values), which is higher for short ingests because each
  series' first rollup row of the day is created.
- rollup_year_ms: ``Store.aggregate('business', 'qps', ...)`` over 365 days of hourly rollups.
- cluster_day_ms: ``Store.read_range`` of 24 h of 1-minute qps for a 128-shard cluster, <= 2,000
  points per line.
- latest_all_ms: ``Store.latest()`` of every series.

Reads are timed warm (median of several runs; the inventory cache is loaded once, as in a running
dashboard worker). The last line printed is one JSON object with the figures at the largest size.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store import Store  # noqa: E402
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec  # noqa: E402

T_END = 1_767_225_600           # 2026-01-01 00:00 UTC: raw data ends here
METRICS = ("qps", "mem_used", "mem_max", "mem_util", "conns", "hit_ratio", "evictions", "net_in", "net_out", "cpu")
SHARDS = (2, 4, 8, 8, 16, 4, 32, 8)   # cycled cluster sizes; one extra cluster has 128 shards
BIG = "big-128"
BATCH_SERIES = 40_000            # series per write call
TARGETS = {"ingest_ratio_vs_sqlite3": (">=", 0.8), "ingest_samples_per_s": (">=", 1_000_000),
           "bytes_per_sample": ("<=", 4.0), "rollup_year_ms": ("<=", 50.0), "cluster_day_ms": ("<=", 200.0),
           "latest_all_ms": ("<=", 100.0)}


def build_inventory(n_instances: int) -> tuple[Inventory, str]:
    """Product lines > businesses (about 10 clusters each) > clusters > instances; returns the
    inventory and the name of the business whose year of rollups is read."""
    inv = Inventory(product_lines=[ProductLine(f"pl-{i:02d}") for i in range(15)])
    sizes, left, k = [], n_instances - 128, 0
    while left > 0:
        sizes.append(min(SHARDS[k % len(SHARDS)], left))
        left -= sizes[-1]
        k += 1
    names = [BIG] + [f"c{i:05d}" for i in range(len(sizes))]
    sizes = [128] + sizes
    for c, (name, shards) in enumerate(zip(names, sizes)):
        b = f"b{c // 10:04d}"
        if c % 10 == 0:
            inv.businesses.append(Business(b, f"pl-{(c // 10) % 15:02d}", 1 + (c // 10) % 5))
        inv.clusters.append(Cluster(name, b, "redis", shards, 60_000.0, 8e9))
        inv.series.append(SeriesSpec(f"cluster:{name}/qps", "qps", name))
        for s in range(shards):
            inst = f"{name}-{s}:6379"
            inv.instances.append(Instance(inst, name, f"{name}-{s}", 6379, "master", s))
            inv.series.extend(SeriesSpec(f"{inst}/{m}", m, name, inst) for m in METRICS)
    return inv, "b0001"


class Fleet:
    """Per-series parameters, so every hour of samples continues the previous one."""

    def __init__(self, store: Store, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        s = store.series(fresh=True)
        inst = s[s["instance"].notna()].sort_values("id")
        self.ids = inst["id"].to_numpy(np.int64)
        self.metric = inst["metric"].to_numpy()
        names, self.cluster_codes = np.unique(inst["cluster"].to_numpy(), return_inverse=True)
        cl = s[s["instance"].isna()].set_index("cluster")["id"]
        self.cluster_series = cl.loc[names].to_numpy(np.int64)
        n_inst = int((self.metric == "qps").sum())
        qps_level = self.rng.lognormal(8.5, 0.6, n_inst)
        mem_max = self.rng.choice([4, 8, 16], n_inst) * 2.0**30
        self.state = {"qps": qps_level, "mem_max": mem_max, "mem_used": mem_max * self.rng.uniform(0.3, 0.8, n_inst),
                      "conns": self.rng.uniform(200, 3000, n_inst), "hit": self.rng.uniform(90, 99.5, n_inst),
                      "cpu": self.rng.uniform(5, 40, n_inst)}
        self.n_inst = n_inst

    def hour(self, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """60 one-minute samples of every series from ``start`` -> (series_id, ts, value) sorted by series."""
        r, st, n = self.rng, self.state, self.n_inst
        minute = start + 60 * np.arange(60)
        day = 0.6 + 0.4 * np.sin((minute % 86400) / 86400 * 2 * np.pi - 2.0)
        noise = lambda scale: r.normal(0, scale, (n, 60))  # noqa: E731
        qps = np.round(st["qps"][:, None] * day[None, :] * (1 + noise(0.02)))
        used = st["mem_used"][:, None] + np.cumsum(np.round(noise(2e5)), axis=1)
        st["mem_used"] = used[:, -1]
        by_metric = {
            "qps": qps,
            "mem_used": np.round(used),
            "mem_max": np.repeat(st["mem_max"][:, None], 60, axis=1),
            "mem_util": np.round(used / st["mem_max"][:, None] * 100, 2),
            "conns": np.round(st["conns"][:, None] * day[None, :] + noise(5)),
            "hit_ratio": np.round(np.clip(st["hit"][:, None] + noise(0.2), 0, 100), 2),
            "evictions": np.where(r.random((n, 60)) < 0.05, r.integers(1, 50, (n, 60)), 0).astype(float),
            "net_in": np.round(qps * 120 * (1 + noise(0.05))),
            "net_out": np.round(qps * 900 * (1 + noise(0.05))),
            "cpu": np.round(np.clip(st["cpu"][:, None] * day[None, :] + noise(1.0), 0, 100), 2),
        }
        values = np.empty((len(self.ids), 60))
        for m, arr in by_metric.items():
            values[self.metric == m] = arr
        cluster_qps = np.zeros((len(self.cluster_series), 60))
        np.add.at(cluster_qps, self.cluster_codes[self.metric == "qps"], qps)
        sid = np.concatenate([self.ids, self.cluster_series])
        values = np.concatenate([values, cluster_qps])
        order = np.argsort(sid, kind="stable")
        sid, values = sid[order], values[order]
        return np.repeat(sid, 60), np.tile(minute, len(sid)), values.ravel()


def batches(sid: np.ndarray, ts: np.ndarray, val: np.ndarray):
    """Split one hour (sorted by series) into blocks of BATCH_SERIES series."""
    step = BATCH_SERIES * 60
    for a in range(0, len(sid), step):
        yield sid[a:a + step], ts[a:a + step], val[a:a + step]


def sqlite3_baseline(path: Path, hours: list) -> float:
    """Seconds to executemany every sample as (series, ts, value) rows into a plain table."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE samples (series INTEGER, ts INTEGER, value REAL)")
    spent = 0.0
    for hour in hours:
        for sid, ts, val in batches(*hour):
            t0 = time.perf_counter()
            con.execute("BEGIN")
            con.executemany("INSERT INTO samples VALUES (?, ?, ?)", zip(sid.tolist(), ts.tolist(), val.tolist()))
            con.execute("COMMIT")
            spent += time.perf_counter() - t0
    con.close()
    return spent


def timed_ms(fn, runs: int = 7) -> tuple[float, float, object]:
    """(median wall ms, median CPU ms, result) over ``runs`` warm runs. CPU time is reported too
    because a shared machine inflates wall time; the targets are judged on wall time."""
    out = fn()  # warm-up (page cache, inventory cache)
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu), out


def raw_tier_bytes(path: Path) -> int | None:
    """Pages of the raw chunks table and its index (SQLite's dbstat), None when not compiled in."""
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT SUM(pgsize) FROM dbstat WHERE name IN ('raw_chunks', 'ix_raw_chunks_hour')"
                           ).fetchone()[0]
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def checkpoint_size(path: Path) -> int:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path.stat().st_size


def run(n_instances: int, hours: int, workdir: Path) -> dict:
    path = workdir / f"store-{n_instances}.sqlite"
    for p in workdir.glob(f"store-{n_instances}.sqlite*"):
        p.unlink()
    store = Store.open(f"sqlite:///{path}")
    inv, year_business = build_inventory(n_instances)
    store.upsert_inventory(inv)
    fleet = Fleet(store)
    data = [fleet.hour(T_END - (hours - h) * 3600) for h in range(hours)]
    samples = sum(len(d[0]) for d in data)

    base_path = workdir / f"sqlite3-{n_instances}.sqlite"
    for p in workdir.glob(f"sqlite3-{n_instances}.sqlite*"):
        p.unlink()
    base_s = sqlite3_baseline(base_path, data)

    size0 = checkpoint_size(path)
    t0, c0 = time.perf_counter(), time.process_time()
    for hour in data:
        for batch in batches(*hour):
            store.write_samples(*batch)
    ingest_s, ingest_cpu = time.perf_counter() - t0, time.process_time() - c0
    file_growth = (checkpoint_size(path) - size0) / samples
    raw_bytes = raw_tier_bytes(path)
    bytes_per_sample = file_growth if raw_bytes is None else raw_bytes / samples
    del data

    # 24 h of 1-minute qps for the 128-shard cluster, ending where the ingested hours start
    big = store.series(cluster=BIG, metric="qps")
    big_ids = big.loc[big["instance"].notna(), "id"].to_numpy(np.int64)
    day_end = T_END - hours * 3600
    minute = np.arange(day_end - 86400, day_end, 60)
    rng = np.random.default_rng(1)
    level = rng.lognormal(8.5, 0.3, len(big_ids))[:, None]
    store.write_samples(np.repeat(big_ids, len(minute)), np.tile(minute, len(big_ids)),
                        np.round(level * (1 + rng.normal(0, 0.02, (len(big_ids), len(minute))))).ravel())
    cluster_day_ms, cluster_day_cpu, frame = timed_ms(lambda: store.read_range(big_ids, day_end - 86400, day_end, max_points=2000))
    points_max = int(frame.groupby("series_id").size().max())

    # a year of hourly rollups for one business (its instances and its clusters' own series)
    chosen = store.series(business=year_business, metric="qps")
    hours_y = np.arange(T_END - 365 * 86400, T_END, 3600)
    for sid in chosen["id"].to_numpy(np.int64):
        avg = np.round(rng.lognormal(8, 0.5) * (1 + 0.3 * np.sin(hours_y / 86400 * 2 * np.pi)), 4)
        store.write_rollups(np.full(len(hours_y), sid), hours_y, np.round(avg * 0.9), avg, np.round(avg * 1.1),
                            np.full(len(hours_y), 60))
    rollup_year_ms, rollup_year_cpu, agg = timed_ms(lambda: store.aggregate("business", "qps", T_END - 365 * 86400, T_END,
                                                            groups=[year_business]))

    latest_all_ms, latest_all_cpu, latest = timed_ms(store.latest)
    n_series = len(store.series())
    store.close()
    for p in workdir.glob(f"sqlite3-{n_instances}.sqlite*"):
        p.unlink()
    return {
        "instances": n_instances, "series": n_series, "samples": samples, "load_avg_1m": os.getloadavg()[0],
        "ingest_samples_per_s": round(samples / ingest_s),
        "sqlite3_samples_per_s": round(samples / base_s),
        "ingest_ratio_vs_sqlite3": round(base_s / ingest_s, 3),
        "bytes_per_sample": round(bytes_per_sample, 3), "file_growth_per_sample": round(file_growth, 3),
        "rollup_year_ms": round(rollup_year_ms, 2), "rollup_year_points": len(agg),
        "cluster_day_ms": round(cluster_day_ms, 2), "cluster_day_points_max": points_max,
        "latest_all_ms": round(latest_all_ms, 2), "latest_series": len(latest),
        "cpu": {"ingest_samples_per_s": round(samples / ingest_cpu), "rollup_year_ms": round(rollup_year_cpu, 2),
                "cluster_day_ms": round(cluster_day_cpu, 2), "latest_all_ms": round(latest_all_cpu, 2)},
    }


def verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = value >= target if op == ">=" else value <= target
    return f"{'ok  ' if ok else 'MISS'} (target {op} {target:,})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, nargs="+", default=[3_000, 30_000])
    ap.add_argument("--hours", type=int, default=2, help="hours of 1-minute samples ingested per run")
    ap.add_argument("--quick", action="store_true", help="300 instances, 1 hour: a smoke test")
    ap.add_argument("--workdir", type=Path, default=None, help="where the database files go (default: a temp dir)")
    args = ap.parse_args(argv)
    if args.quick:
        args.instances, args.hours = [300], 1
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for n in args.instances:
            r = run(n, args.hours, workdir)
            results.append(r)
            print(f"\n{n:,} instances, {r['series']:,} series, {r['samples']:,} samples ingested")
            for key in TARGETS:
                print(f"  {key:26s} {r[key]:>14,} {verdict(key, r[key])}")
            print(f"  {'sqlite3_samples_per_s':26s} {r['sqlite3_samples_per_s']:>14,}")
            print(f"  {'file_growth_per_sample':26s} {r['file_growth_per_sample']:>14,}")
            print(f"  {'cluster_day_points_max':26s} {r['cluster_day_points_max']:>14,}")
            print(f"  CPU time (load average {r['load_avg_1m']:.1f} on {os.cpu_count()} CPUs): "
                  + ", ".join(f"{k} {v:,}" for k, v in r["cpu"].items()))
        print(json.dumps(results[-1]))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
