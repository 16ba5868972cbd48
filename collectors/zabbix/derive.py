"""Counters -> rates, hits/misses -> hit ratio, used/max -> memory utilisation: once, here.

Every function takes per-item arrays ``{itemid: (ts int64[], value float64[])}`` (sorted by ts)
and returns ``(ts, value)`` for one output series. Points that cannot be derived are dropped and
counted in a :class:`Problems` tally (counter resets, no traffic, missing limit), never raised.
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping

import numpy as np

from collectors.zabbix.inventory import Output

Arrays = tuple[np.ndarray, np.ndarray]
EMPTY: Arrays = (np.zeros(0, np.int64), np.zeros(0, np.float64))


class Problems(Counter):
    """Counts of skipped points by reason, e.g. ``{"counter reset": 2}``."""


def _get(data: Mapping[str, Arrays], itemid: str) -> Arrays:
    return data.get(itemid, EMPTY)


def _count(problems: Problems | None, reason: str, bad: np.ndarray, ts: np.ndarray, since: int | None) -> None:
    """Count the ``bad`` points at or after ``since`` (points before it were counted by the window
    that wrote them: a window re-reads a little of the previous one)."""
    if problems is None or not bad.any():
        return
    if since is not None:
        bad = bad & (ts >= since)
    n = int(bad.sum())
    if n:
        problems[reason] += n


def rate(ts: np.ndarray, v: np.ndarray, problems: Problems | None = None, since: int | None = None) -> Arrays:
    """Per-second rate of a counter; a decrease (reset, restart) yields no point for that step."""
    if len(ts) < 2:
        return EMPTY
    dt = np.diff(ts).astype(np.float64)
    dv = np.diff(v)
    ok = (dt > 0) & (dv >= 0)
    _count(problems, "counter reset", dv < 0, ts[1:], since)
    return ts[1:][ok], dv[ok] / dt[ok]


def join(*series: Arrays) -> tuple[np.ndarray, list[np.ndarray]]:
    """Inner join of several series on their timestamps."""
    ts = series[0][0]
    for other in series[1:]:
        ts = np.intersect1d(ts, other[0], assume_unique=False)
    vals = [s[1][np.searchsorted(s[0], ts)] for s in series]
    return ts, vals


def hit_ratio(hits: Arrays, misses: Arrays, problems: Problems | None = None, since: int | None = None) -> Arrays:
    """hits / (hits + misses) in %; no traffic gives no value (not 0, not 100)."""
    ts, (h, m) = join(hits, misses)
    total = h + m
    ok = total > 0
    _count(problems, "no traffic (no hit ratio)", ~ok, ts, since)
    return ts[ok], h[ok] / total[ok] * 100.0


def prev_fill(grid: np.ndarray, ts: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The latest value at or before each grid time (the first value before the series starts)."""
    if not len(ts):
        return np.full(len(grid), np.nan)
    idx = np.clip(np.searchsorted(ts, grid, side="right") - 1, 0, len(ts) - 1)
    return v[idx]


def mem_limit(out: Output, data: Mapping[str, Arrays]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ts, limit bytes, source code) on the mem_used grid. Source codes: 1 maxmemory/limit_maxbytes,
    2 cluster capacity (maxmemory 0 = no limit), 3 host memory, 4 no limit (maxmemory 0 and neither
    of those: the limit is 0, as Redis says it), 0 unknown (no value)."""
    used = _get(data, out.items[0].itemid)
    ts = used[0]
    limit = np.full(len(ts), np.nan)
    source = np.zeros(len(ts), np.int8)
    refs = {r.rule.metric: r for r in out.items[1:]}
    if "_mem_max" in refs:
        mx = prev_fill(ts, *_get(data, refs["_mem_max"].itemid))
        ok = mx > 0
        limit[ok], source[ok] = mx[ok], 1
    todo = np.isnan(limit)
    if out.capacity > 0 and todo.any():
        limit[todo], source[todo] = out.capacity, 2
    todo = np.isnan(limit)
    if "_host_mem" in refs and todo.any():
        hm = prev_fill(ts, *_get(data, refs["_host_mem"].itemid))
        ok = todo & (hm > 0)
        limit[ok], source[ok] = hm[ok], 3
    todo = np.isnan(limit)
    if "_mem_max" in refs and todo.any():
        unlimited = todo & (mx == 0)
        limit[unlimited], source[unlimited] = 0.0, 4
    return ts, limit, source


LIMIT_SOURCES = {1: "configured limit", 2: "cluster capacity", 3: "host memory", 4: "no limit (maxmemory 0)",
                 0: "unknown"}


def mem_source(out: Output, data: Mapping[str, Arrays]) -> str:
    """Which limit the newest mem_util point used (for the report and the log)."""
    _, _, source = mem_limit(out, data)
    return LIMIT_SOURCES[int(source[-1])] if len(source) else "no data"


def compute(out: Output, data: Mapping[str, Arrays], problems: Problems | None = None,
            since: int | None = None) -> Arrays:
    """The (ts, value) of one output from its items' arrays; skipped points at or after ``since``
    (all when None) are counted in ``problems``."""
    how = out.how
    refs = out.items
    if how == "gauge":
        ts, v = _get(data, refs[0].itemid)
        return ts, v
    if how == "rate":
        return rate(*_get(data, refs[0].itemid), problems, since)
    if how == "hit_ratio_counters":
        return hit_ratio(rate(*_get(data, refs[0].itemid), problems, since),
                         rate(*_get(data, refs[1].itemid), problems, since), problems, since)
    if how == "hit_ratio_rates":
        return hit_ratio(_get(data, refs[0].itemid), _get(data, refs[1].itemid), problems, since)
    if how == "sum":
        ts, vals = join(*[_get(data, r.itemid) for r in refs])
        return ts, np.sum(vals, axis=0) if vals else np.zeros(0)
    if how == "minus":      # a replica's client commands: its ops less the writes it replays
        ts, (a, b) = join(_get(data, refs[0].itemid), _get(data, refs[1].itemid))
        return ts, np.maximum(a - b, 0.0)
    if how == "cpu":
        ts, vals = join(*[rate(*_get(data, r.itemid), problems, since) for r in refs])
        return ts, np.sum(vals, axis=0) * 100.0 if vals else np.zeros(0)
    if how in ("mem_max", "mem_util"):
        ts, limit, _ = mem_limit(out, data)
        # mem_max 0 is "no limit" (stored: the pages say so); utilisation against no limit is no value
        ok = ~np.isnan(limit) if how == "mem_max" else limit > 0
        if how == "mem_util":
            _count(problems, "no memory limit (maxmemory 0, no capacity tag): no utilisation", ~ok, ts, since)
        if how == "mem_max":
            return ts[ok], limit[ok]
        used = _get(data, refs[0].itemid)[1]
        return ts[ok], used[ok] / limit[ok] * 100.0
    raise ValueError(f"unknown derivation {how!r} for {out.key}")


def compute_rollups(out: Output, trends: Mapping[str, dict[str, np.ndarray]],
                    problems: Problems | None = None, since: int | None = None) -> dict[str, np.ndarray]:
    """Hourly (ts, min, avg, max, count) of one output from ``trend.get`` arrays per item.

    Gauges keep Zabbix's min/avg/max; memory utilisation divides each by the limit; other
    derivations (rates, ratios, sums) are computed on the hourly averages, so min = avg = max.
    """
    def col(name: str) -> dict[str, Arrays]:
        return {i: (t["ts"], t[name]) for i, t in trends.items()}
    first = trends.get(out.items[0].itemid) if out.items else None
    if first is None or not len(first["ts"]):
        return {k: np.zeros(0) for k in ("ts", "min", "avg", "max", "count")}
    per = {}
    keep_spread = out.how in ("gauge", "mem_util", "mem_max")
    for name in ("min", "avg", "max"):
        if name != "avg" and not keep_spread:
            continue
        per[name] = compute(out, col(name), problems if name == "avg" else None, since)
    ts, avg = per["avg"]
    lo = per["min"][1] if keep_spread else avg
    hi = per["max"][1] if keep_spread else avg
    if keep_spread and not (len(per["min"][0]) == len(per["max"][0]) == len(ts)):
        lo = hi = avg
    count = first["count"][np.searchsorted(first["ts"], ts).clip(0, len(first["ts"]) - 1)]
    return {"ts": ts, "min": np.minimum(lo, avg), "avg": avg, "max": np.maximum(hi, avg), "count": count}
