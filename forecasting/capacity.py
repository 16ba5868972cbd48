"""Capacity at the predicted peak, and what to add to each cluster before the promotion.

Capacity per cluster:

- QPS: shards x per-instance limit (the cluster's ``qps_per_instance``, else the setting for its
  service: ``capacity_redis_qps``, ``capacity_memcached_qps``);
- Twemproxy: proxies x ``capacity_proxy_qps`` for ``proxy_qps``, for every cluster with proxies
  (a Twemproxy pool, or proxies that carry the tag of the Redis cluster they front);
- memory: the summed ``maxmemory``/``limit_maxbytes`` of the shards that have a limit, against the
  share of the forecast memory those shards hold (:func:`memory_by_cluster`). A shard with
  ``maxmemory 0`` has no limit: it is not sized, and the row says how many shards are so.

A cluster may use at most ``1 - headroom`` of any capacity at the predicted peak, the headroom
depending on its business's star level (``capacity_headroom``: star 1..5). Status: ``over``
when the point forecast already exceeds it, ``watch`` when the upper bound does, else ``ok``.
The recommendation brings the upper bound back under the limit: shards (for QPS or memory),
proxies, and memory to add. Rows are ranked by risk = worst utilisation at the upper bound over
the allowed utilisation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import ConfigError

PLAN_COLUMNS = [
    "rank", "cluster", "business", "product_line", "star", "service", "status", "risk", "max_util",
    "shards", "add_shards", "proxies", "add_proxies", "mem_max", "add_mem_bytes",
    "qps_point", "qps_upper", "qps_capacity", "qps_util_point", "qps_util_upper",
    "proxy_qps_point", "proxy_qps_upper", "proxy_capacity", "proxy_util_point", "proxy_util_upper",
    "mem_point", "mem_upper", "mem_util_point", "mem_util_upper", "reason",
    "method", "past_mdape", "low_confidence", "confidence_note", "unlimited_shards", "action",
]


@dataclass(frozen=True)
class CapacityLimits:
    redis_qps: float = 80_000
    memcached_qps: float = 100_000
    proxy_qps: float = 50_000
    #: share of capacity kept free, star 1..5
    headroom: tuple[float, float, float, float, float] = (0.15, 0.20, 0.25, 0.30, 0.40)

    @classmethod
    def from_settings(cls, settings) -> "CapacityLimits":
        return cls(redis_qps=float(settings["capacity_redis_qps"]),
                   memcached_qps=float(settings["capacity_memcached_qps"]),
                   proxy_qps=float(settings["capacity_proxy_qps"]),
                   headroom=parse_headroom(settings["capacity_headroom"]))

    def max_util(self, star) -> float:
        star = int(min(5, max(1, int(star) if pd.notna(star) else 3)))
        return 1.0 - self.headroom[star - 1]

    def qps_per_instance(self, service: str, configured: float) -> float:
        if configured and configured > 0:
            return float(configured)
        return self.memcached_qps if service in ("memcached", "twemproxy") else self.redis_qps


def parse_headroom(text: str) -> tuple[float, ...]:
    """``"0.15,0.20,0.25,0.30,0.40"`` -> five fractions (star 1..5), each in [0, 0.9]."""
    try:
        values = tuple(float(x) for x in str(text).split(","))
    except ValueError:
        values = ()
    if len(values) != 5 or not all(0 <= v <= 0.9 for v in values):
        raise ConfigError(f"setting 'capacity_headroom': {text!r} is not five fractions for stars 1..5; "
                          f"use e.g. '0.15,0.20,0.25,0.30,0.40' (each between 0 and 0.9).")
    return values


STATS = ("point", "upper", "method", "past_mdape", "low_confidence", "reasons")


def _forecast_columns(forecasts: pd.DataFrame) -> pd.DataFrame:
    """[group, metric, point, upper, (method, past_mdape, low_confidence, reasons)] -> one row per
    cluster with <metric>_point/_upper/...."""
    forecasts = forecasts.copy()
    for col, default in (("method", ""), ("past_mdape", np.nan), ("low_confidence", False), ("reasons", "")):
        if col not in forecasts:
            forecasts[col] = default
    wide = forecasts.set_index(["group", "metric"])[list(STATS)].unstack("metric")
    wide.columns = [f"{metric}_{stat}" for stat, metric in wide.columns]
    for metric in ("qps", "proxy_qps", "mem_used"):
        for stat in STATS:
            if f"{metric}_{stat}" not in wide:
                wide[f"{metric}_{stat}"] = np.nan
    return wide.rename(columns=lambda c: c.replace("mem_used_", "mem_"))


def _need(upper: float, per_unit: float, max_util: float, have: int) -> int:
    if not (upper > 0 and per_unit > 0):
        return 0
    return max(0, math.ceil(upper / (per_unit * max_util) - 1e-9) - int(have))


def memory_by_cluster(latest: pd.DataFrame) -> pd.DataFrame:
    """Per cluster, from the shards' latest memory [cluster, instance, mem_used, mem_max] (masters):
    ``limit`` (summed limits of the shards that have one; NaN when none has), ``share`` (their
    part of the cluster's used memory), ``unlimited`` (shards with ``maxmemory 0``) and ``shards``."""
    if latest.empty:
        return pd.DataFrame(columns=["limit", "share", "unlimited", "shards"])
    m = latest.assign(limited=latest["mem_max"] > 0, unlimited=latest["mem_max"] == 0)
    g = m.groupby("cluster")
    used = g["mem_used"].sum(min_count=1)
    limited_used = m[m["limited"]].groupby("cluster")["mem_used"].sum(min_count=1).reindex(used.index)
    limit = m[m["limited"]].groupby("cluster")["mem_max"].sum().reindex(used.index)
    share = (limited_used / used).where(used > 0).fillna(1.0)
    return pd.DataFrame({"limit": limit, "share": share.where(limit.notna()),
                         "unlimited": g["unlimited"].sum().astype(int), "shards": g.size()})


def plan(forecasts: pd.DataFrame, clusters: pd.DataFrame, businesses: pd.DataFrame,
         proxies: pd.Series, mem_max, limits: CapacityLimits = CapacityLimits()) -> pd.DataFrame:
    """Capacity plan per cluster, ranked by risk.

    Args:
        forecasts: cluster forecasts [group, metric, point, upper] (metric qps, proxy_qps, mem_used).
        clusters: ``store.clusters()`` frame.
        businesses: ``store.businesses()`` frame (for the star level).
        proxies: number of Twemproxy proxies per cluster name (missing = 0).
        mem_max: :func:`memory_by_cluster` per cluster name, or a Series of memory limits in bytes
            (every shard limited; missing = unknown).
        limits: per-instance limits and headroom, usually ``CapacityLimits.from_settings``.
    """
    wide = _forecast_columns(forecasts) if not forecasts.empty else pd.DataFrame()
    star = dict(zip(businesses["name"], businesses["star"]))
    memory = mem_max if isinstance(mem_max, pd.DataFrame) else \
        pd.DataFrame({"limit": mem_max, "share": 1.0, "unlimited": 0}, index=mem_max.index)
    rows = [_plan_row(c, wide.loc[c["name"]] if c["name"] in wide.index else None,
                      star.get(c["business"], 3), int(proxies.get(c["name"], 0)),
                      memory.loc[c["name"]] if c["name"] in memory.index else None, limits)
            for c in clusters.to_dict("records")]
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    order = {"over": 0, "watch": 1, "ok": 2, "no forecast": 3}
    out = out.sort_values(["risk", "star"], ascending=[False, False], na_position="last", kind="stable")
    out = out.sort_values("status", key=lambda s: s.map(order), kind="stable")
    out["rank"] = np.arange(1, len(out) + 1)
    return out[PLAN_COLUMNS].reset_index(drop=True)


def _util(value: float, capacity: float) -> float:
    return value / capacity if capacity and capacity > 0 and pd.notna(value) else np.nan


def _plan_row(c: dict, f, star, proxies: int, memory, limits: CapacityLimits) -> dict:
    get = (lambda k: float(f.get(k, np.nan))) if f is not None else (lambda k: np.nan)
    max_util = limits.max_util(star)
    per_inst = limits.qps_per_instance(c["service"], c.get("qps_per_instance") or 0)
    shards = int(c["shard_count"])
    mem_max = float(memory["limit"]) if memory is not None and pd.notna(memory["limit"]) else np.nan
    share = float(memory["share"]) if memory is not None and pd.notna(memory["share"]) else 1.0
    unlimited = int(memory["unlimited"]) if memory is not None and pd.notna(memory["unlimited"]) else 0
    fronted = proxies > 0 or c["service"] == "twemproxy"
    row = dict(cluster=c["name"], business=c["business"], product_line=c.get("product_line"), star=star,
               service=c["service"], max_util=max_util, shards=shards, proxies=proxies, mem_max=mem_max,
               qps_point=get("qps_point"), qps_upper=get("qps_upper"), qps_capacity=shards * per_inst,
               proxy_qps_point=get("proxy_qps_point"), proxy_qps_upper=get("proxy_qps_upper"),
               proxy_capacity=proxies * limits.proxy_qps if fronted else np.nan,
               # the memory of the limited shards only: a shard with no limit is not sized
               mem_point=get("mem_point") * share, mem_upper=get("mem_upper") * share)
    for k in ("qps", "proxy", "mem"):
        cap = {"qps": row["qps_capacity"], "proxy": row["proxy_capacity"], "mem": mem_max}[k]
        src = "proxy_qps" if k == "proxy" else k
        row[f"{k}_util_point"] = _util(row[f"{src}_point"], cap)
        row[f"{k}_util_upper"] = _util(row[f"{src}_upper"], cap)
    mem_per_shard = mem_max / shards if shards and pd.notna(mem_max) else np.nan
    row["add_shards"] = max(_need(row["qps_upper"], per_inst, max_util, shards),
                            _need(row["mem_upper"], mem_per_shard, max_util, shards))
    row["add_proxies"] = _need(row["proxy_qps_upper"], limits.proxy_qps, max_util, proxies) if fronted else 0
    row["add_mem_bytes"] = max(0.0, row["mem_upper"] / max_util - mem_max) \
        if pd.notna(row["mem_upper"]) and pd.notna(mem_max) else 0.0
    row = _confidence(_status(row), f)
    row["unlimited_shards"] = unlimited
    row["action"] = action_text(action(row))
    if unlimited:
        row["reason"] += (f"; {unlimited} of {int(memory['shards'])} shards have no memory limit (maxmemory 0): "
                          f"their memory is not sized")
    return row


def _confidence(row: dict, f) -> dict:
    """Which method forecast the cluster (its qps, else memory), its past error, and whether any
    forecast behind the row is low-confidence: a recommendation never rests on one silently."""
    get = (lambda k: f.get(k)) if f is not None else (lambda k: None)
    src = next((m for m in ("qps", "proxy_qps", "mem") if isinstance(get(f"{m}_method"), str) and get(f"{m}_method")), None)
    row["method"] = get(f"{src}_method") if src else ""
    row["past_mdape"] = float(get(f"{src}_past_mdape")) if src and pd.notna(get(f"{src}_past_mdape")) else np.nan
    weak = [(m, get(f"{m}_reasons")) for m in ("qps", "proxy_qps", "mem") if get(f"{m}_low_confidence") is True]
    row["low_confidence"] = bool(weak)
    row["confidence_note"] = "; ".join(f"{m}: {r}" for m, r in weak if r)
    if weak and row["status"] in ("over", "watch"):
        row["reason"] += " (rests on a low-confidence forecast: check confidence_note before acting)"
    return row


def _status(row: dict) -> dict:
    ups = {k: row[f"{k}_util_upper"] for k in ("qps", "proxy", "mem")}
    pts = {k: row[f"{k}_util_point"] for k in ("qps", "proxy", "mem")}
    known = {k: v for k, v in ups.items() if pd.notna(v)}
    if not known:
        row.update(status="no forecast", risk=np.nan, reason="no forecast for qps, proxy_qps or mem_used")
        return row
    worst = max(known, key=known.get)
    row["risk"] = known[worst] / row["max_util"]
    limit = f"{row['max_util']:.0%} allowed for a {row['star']}-star business"
    if any(pd.notna(v) and v > row["max_util"] for v in pts.values()):
        worst_pt = max((k for k in pts if pd.notna(pts[k])), key=lambda k: pts[k])
        row.update(status="over", reason=f"{worst_pt} at {pts[worst_pt]:.0%} at the predicted peak; {limit}")
    elif known[worst] > row["max_util"]:
        row.update(status="watch", reason=f"{worst} up to {known[worst]:.0%} at the upper bound; {limit}")
    else:
        row.update(status="ok", reason=f"worst {worst} {known[worst]:.0%} at the upper bound; {limit}")
    return row


@dataclass(frozen=True)
class Action:
    """What to change on one cluster before the promotion (all zero: nothing).

    ``shards_to`` is the shard count after the split (each new shard with the same maxmemory, so
    it covers the memory the forecast needs too); ``mem_per_shard_to`` is the alternative for a
    cluster short of memory only: raise every shard's maxmemory to it, keeping the shard count."""
    shards: int
    shards_to: int
    proxies: int
    proxies_to: int
    mem_per_shard: float      # bytes each shard's maxmemory must grow by (the alternative to a split)
    mem_per_shard_to: float   # bytes of maxmemory per shard after that change

    @property
    def none(self) -> bool:
        return not (self.shards_to > self.shards or self.proxies_to > self.proxies or self.mem_per_shard > 0)


def action(row) -> Action:
    """The plan row's recommendation as counts: current and target shards and proxies, and the
    maxmemory per shard that would avoid a split when only memory is short."""
    get = row.get if isinstance(row, dict) else (lambda k, d=None: getattr(row, k, d))
    shards, add = int(get("shards", 0) or 0), int(get("add_shards", 0) or 0)
    proxies, add_p = int(get("proxies", 0) or 0), int(get("add_proxies", 0) or 0)
    add_mem, mem_max = float(get("add_mem_bytes", 0) or 0), get("mem_max", np.nan)
    qps_short = _need(get("qps_upper", np.nan), get("qps_capacity", np.nan) / shards if shards else np.nan,
                      get("max_util", 1.0), shards) > 0
    per_shard = per_shard_to = 0.0
    if add_mem > 0 and shards and pd.notna(mem_max) and not qps_short:
        per_shard = add_mem / shards
        per_shard_to = (float(mem_max) + add_mem) / shards
    return Action(shards, shards + add, proxies, proxies + add_p, per_shard, per_shard_to)


def _gib(x: float) -> str:
    return f"{x / 2**30:.1f} GiB"


def action_text(a: Action) -> str:
    """One line for the CLI and the CSV, e.g. ``split 5 -> 6 shards (+1); proxies 2 -> 3 (+1)``."""
    if a.none:
        return "no change"
    parts = []
    if a.shards_to > a.shards and a.mem_per_shard > 0:
        parts.append(f"raise maxmemory to {_gib(a.mem_per_shard_to)} per shard (+{_gib(a.mem_per_shard)} each) "
                     f"or split {a.shards} -> {a.shards_to} shards (+{a.shards_to - a.shards})")
    elif a.shards_to > a.shards:
        parts.append(f"split {a.shards} -> {a.shards_to} shards (+{a.shards_to - a.shards})")
    elif a.mem_per_shard > 0:
        parts.append(f"raise maxmemory to {_gib(a.mem_per_shard_to)} per shard (+{_gib(a.mem_per_shard)} each)")
    if a.proxies_to > a.proxies:
        parts.append(f"proxies {a.proxies} -> {a.proxies_to} (+{a.proxies_to - a.proxies})")
    return "; ".join(parts)


def act_by(start: pd.Timestamp, lead_days: int) -> pd.Timestamp:
    """The last day to finish the changes: the promotion's start minus the lead time the changes
    need (``capacity_lead_days``: ordering, change review, the freeze before a big promotion)."""
    return start - pd.Timedelta(days=int(lead_days))


def export_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the plan for a change ticket (utilisations as %, bytes as GiB, one row per cluster)."""
    out = frame.copy()
    for col in [c for c in out.columns if "_util_" in c or c in ("max_util",)]:
        out[col] = (out[col] * 100).round(1)
    for col in ("mem_max", "add_mem_bytes", "mem_point", "mem_upper"):
        if col in out:
            out[col] = (out[col] / 2**30).round(2)
    out = out.rename(columns={"mem_max": "mem_max_gib", "add_mem_bytes": "add_mem_gib",
                              "mem_point": "mem_point_gib", "mem_upper": "mem_upper_gib",
                              "risk": "risk_ratio"})
    out = out.rename(columns=lambda c: c.replace("_util_", "_util_pct_") if "_util_" in c else c)
    out = out.rename(columns={"max_util": "max_util_pct"})
    if "past_mdape" in out:      # the chosen method's median error on the cluster's past promotions
        out["past_mdape"] = (out["past_mdape"] * 100).round(1)
        out = out.rename(columns={"past_mdape": "past_error_pct"})
    path = Path(path)
    neutralise_formulas(out.round(3)).to_csv(path, index=False)
    return path


#: a spreadsheet runs a cell starting with one of these as a formula (names come from Zabbix tags)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP's
    CSV-injection advice); numbers, negative ones included, are left as numbers."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind in "biufcmM":
            continue
        out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v)
    return out
