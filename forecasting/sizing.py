"""Sizing a new business: shards, proxies and memory per shard for its expected traffic.

The reference platform sizes a new application from Zabbix history; here from the store:

1. The expected QPS (the normal daily peak) is raised by the promotions' lift of *similar*
   businesses (the same product line, else the fleet): the median of their measured lifts for the
   promotion kind planned for (default: the kind that lifts them most), so the cluster is sized
   for its first big promotion, not for a normal day.
2. Capacity per instance is the fleet's own for that service: the median per-instance QPS limit and
   memory of its clusters of that service (the settings when the fleet has none).
3. The star level's headroom (``capacity_headroom``) is kept free at that peak, as the capacity
   plan does for existing clusters; replicas per shard follow the fleet's clusters of the same
   service and star; a Twemproxy pool gets proxies for the peak (at least two).

``size_business`` is pure; ``fleet_profile`` reads the store.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ForecastError
from forecasting.capacity import CapacityLimits
from forecasting.compare import lift_table
from forecasting.fleet import last_data_ts, load_history, store_events

GIB = float(2**30)
SERVICES = ("redis", "memcached", "twemproxy")
MAX_SIMILAR = 30          # businesses whose lifts are measured (the largest by peak)
MIN_PROXIES = 2           # a proxy pool survives losing one proxy


@dataclass(frozen=True)
class FleetProfile:
    """What the fleet says about sizing: per-instance capacity, replicas, similar businesses' lifts."""

    service: str
    qps_per_instance: float
    mem_per_instance: float          # bytes
    instances_per_shard: int         # master + replicas
    kind: str | None                 # promotion kind the lift is for
    lift: float                      # median lift of the similar businesses (1.0: none measured)
    similar: tuple[str, ...] = ()    # businesses whose lifts were used
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sizing:
    qps: float                       # expected normal daily peak
    memory: float                    # expected data size, bytes
    star: int
    peak_qps: float                  # qps x lift: what the cluster must carry
    max_util: float                  # share of capacity the star level may use
    shards: int
    mem_per_shard: float             # bytes: maxmemory of each shard
    proxies: int
    instances: int                   # shards x instances per shard + proxies
    profile: FleetProfile
    why: tuple[str, ...] = field(default_factory=tuple)
    by_qps: int = 0                  # shards the peak's QPS needs
    by_mem: int = 0                  # shards the memory needs
    proxy_qps: float = 0.0           # what one proxy carries (the limits')

    def as_row(self) -> dict:
        p = self.profile
        return {"service": p.service, "star": self.star, "qps": self.qps, "lift": p.lift, "kind": p.kind or "",
                "peak_qps": self.peak_qps, "shards": self.shards, "mem_per_shard_gib": round(self.mem_per_shard / GIB, 2),
                "proxies": self.proxies, "instances": self.instances, "instances_per_shard": p.instances_per_shard,
                "qps_per_instance": p.qps_per_instance, "mem_per_instance_gib": round(p.mem_per_instance / GIB, 2),
                "similar": ", ".join(p.similar), "why": "; ".join(self.why + p.notes)}


def _check(qps, memory, star, service) -> None:
    bad = []
    if not (isinstance(qps, (int, float)) and math.isfinite(qps) and qps > 0):
        bad.append(f"expected QPS {qps!r} must be a positive number (the normal daily peak, e.g. 20000)")
    if not (isinstance(memory, (int, float)) and math.isfinite(memory) and memory > 0):
        bad.append(f"memory {memory!r} must be a positive size (e.g. 64 GiB)")
    if star not in (1, 2, 3, 4, 5):
        bad.append(f"star {star!r} must be 1..5")
    if service not in SERVICES:
        bad.append(f"service {service!r} must be one of {', '.join(SERVICES)}")
    if bad:
        raise ForecastError("cannot size the business: " + "; ".join(bad) + ".")


def size_business(qps: float, memory: float, star: int, profile: FleetProfile,
                  limits: CapacityLimits = CapacityLimits()) -> Sizing:
    """Shards, memory per shard and proxies for a new business (see the module docstring).

    Args:
        qps: expected normal daily peak QPS.
        memory: expected data size in bytes.
        star: importance 1..5 (its headroom is kept free at the peak).
        profile: :func:`fleet_profile` for the business's service (and product line).
    Raises:
        ForecastError: a non-positive QPS or memory, a star outside 1..5, an unknown service.
    """
    _check(qps, memory, star, profile.service)
    max_util = limits.max_util(star)
    peak = qps * profile.lift
    by_qps = math.ceil(peak / (profile.qps_per_instance * max_util) - 1e-9)
    need_mem = memory / max_util
    by_mem = math.ceil(need_mem / profile.mem_per_instance - 1e-9)
    shards = max(1, by_qps, by_mem)
    mem_per_shard = math.ceil(need_mem / shards / (GIB / 2)) * (GIB / 2)      # maxmemory in half-GiB steps
    proxies = max(MIN_PROXIES, math.ceil(peak / (limits.proxy_qps * max_util) - 1e-9)) \
        if profile.service == "twemproxy" else 0
    why = [f"peak {peak:,.0f} QPS = {qps:,.0f} x lift {profile.lift:.2f}"
           + (f" ({profile.kind} of {len(profile.similar)} similar businesses)" if profile.similar else ""),
           f"a {star}-star business may use {max_util:.0%} of capacity",
           f"{by_qps} shard(s) for QPS at {profile.qps_per_instance:,.0f} per instance, {by_mem} for memory at "
           f"{profile.mem_per_instance / GIB:.0f} GiB per instance"]
    if proxies:
        why.append(f"{proxies} proxies at {limits.proxy_qps:,.0f} QPS each (at least {MIN_PROXIES})")
    return Sizing(qps=float(qps), memory=float(memory), star=star, peak_qps=peak, max_util=max_util, shards=shards,
                  mem_per_shard=mem_per_shard, proxies=proxies, instances=shards * profile.instances_per_shard + proxies,
                  profile=profile, why=tuple(why), by_qps=by_qps, by_mem=by_mem,
                  proxy_qps=limits.proxy_qps)


# ---------------------------------------------------------------------------------- store reads

def _median(values: pd.Series, fallback: float) -> float:
    values = values[values > 0].dropna()
    return float(values.median()) if len(values) else fallback


def fleet_profile(store, service: str, star: int, product_line: str | None = None, kind: str | None = None,
                  limits: CapacityLimits = CapacityLimits()) -> FleetProfile:
    """Per-instance capacity and replicas of the fleet's ``service`` clusters, and the lift of
    similar businesses (``product_line``'s, else the fleet's) for ``kind`` (default: their biggest)."""
    _check(1.0, 1.0, star, service)
    clusters = store.clusters()
    notes = []
    same = clusters[clusters["service"] == service]
    if same.empty:
        notes.append(f"the fleet has no {service} cluster: per-instance capacity from the settings")
    qps_inst = _median(same["qps_per_instance"], limits.qps_per_instance(service, 0))
    mem_inst = _median(same["mem_per_instance"], 8 * GIB)
    per_shard = _instances_per_shard(store, same[same["star"] == star] if (same["star"] == star).any() else same)
    kind, lift, similar, more = _similar_lift(store, product_line, kind)
    return FleetProfile(service=service, qps_per_instance=qps_inst, mem_per_instance=mem_inst,
                        instances_per_shard=per_shard, kind=kind, lift=lift, similar=similar, notes=tuple(notes + more))


def _instances_per_shard(store, clusters: pd.DataFrame) -> int:
    if clusters.empty:
        return 2                         # a master and a replica
    inst = store.instances()
    live = inst[inst["removed_at"].isna() & (inst["role"] != "proxy") & inst["cluster"].isin(clusters["name"])]
    ratio = live.groupby("cluster").size() / clusters.set_index("name")["shard_count"].clip(lower=1)
    return max(1, int(round(float(ratio.dropna().median())))) if ratio.notna().any() else 2


def _similar_lift(store, product_line, kind):
    """(kind, median lift, businesses used, notes) from the similar businesses' past promotions."""
    biz = store.businesses()
    pool = biz[biz["product_line"] == product_line] if product_line else biz
    notes = []
    if product_line and pool.empty:
        notes.append(f"no business in product line {product_line!r}: the fleet's lifts are used")
        pool = biz
    end = last_data_ts(store)
    events = [e for e in store_events(store) if e.end.value <= end * 10**9]
    history = load_history(store, "business", "qps", end, groups=list(pool["name"]))
    if not events or not history:
        return kind, 1.0, (), notes + ["no past promotion measured: no lift applied (size for the peak you expect)"]
    biggest = sorted(history, key=lambda g: -float(history[g].max()))[:MAX_SIMILAR]
    lifts = pd.concat([lift_table(history[g], events).assign(business=g) for g in biggest], ignore_index=True)
    lifts = lifts[np.isfinite(lifts["lift"])]
    if kind is None and len(lifts):
        kind = str(lifts.groupby("kind")["lift"].median().idxmax())
    mine = lifts[lifts["kind"] == kind] if kind else lifts.iloc[0:0]
    if mine.empty:
        return kind, 1.0, (), notes + [f"no past {kind!r} promotion measured: no lift applied"]
    per_business = mine.groupby("business")["lift"].median()
    return kind, float(per_business.median()), tuple(sorted(per_business.index)), notes


_UNITS = {"": GIB, "b": 1.0, "k": 2.0**10, "kb": 2.0**10, "kib": 2.0**10, "m": 2.0**20, "mb": 2.0**20, "mib": 2.0**20,
          "g": GIB, "gb": GIB, "gib": GIB, "t": 2.0**40, "tb": 2.0**40, "tib": 2.0**40}


def parse_size(text) -> float:
    """``"64GiB"``, ``"512 MiB"``, ``"1.5T"`` or a bare number of GiB -> bytes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = m.group(2).lower() if m else None
    if not m or unit not in _UNITS:
        raise ForecastError(f"memory {text!r} is not a size; write it like 64GiB, 512MiB or 1.5TiB (a bare number is GiB).")
    return float(m.group(1)) * _UNITS[unit]
