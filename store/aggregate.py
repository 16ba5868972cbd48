"""Group aggregates: shards combine into clusters, clusters into businesses, product lines, fleet.

A cluster-level series (instance None), when present, is the cluster's value; otherwise the
cluster's instance series are combined by the metric's rule (store.metrics: qps summed, memory
utilisation worst, hit ratio averaged; a replica's writes are left out: they are its master's).
Clusters then combine into the requested level by the same rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from store.metrics import agg_of, replicas_count

LEVELS = ("cluster", "business", "product_line", "fleet")
_NUMPY = {"sum": np.add, "max": np.maximum, "mean": np.add}


def pick_series(series: pd.DataFrame, metric: str, level: str, groups=None) -> pd.DataFrame:
    """Series to read for a metric: cluster-level where a cluster has one, else its instances.

    Removed instances stay in: their history is part of past peaks (:func:`drop_removed` cuts
    them off from the moment they were removed)."""
    s = series[series["metric"] == metric]
    if not replicas_count(metric):        # writes: a replica's are its master's again
        s = s[s["role"].to_numpy() != "slave"]
    if groups is not None:
        column = "cluster" if level == "cluster" else level
        if level != "fleet":
            s = s[s[column].isin(list(groups))]
    cluster_level = s["instance"].isna()
    has_cluster_series = set(s.loc[cluster_level, "cluster"])
    chosen = s[cluster_level | ~s["cluster"].isin(has_cluster_series)]
    return chosen


def before_removal(sid: np.ndarray, ts: np.ndarray, chosen: pd.DataFrame) -> np.ndarray | None:
    """True for points not at or after their removed instance's removal time; None when no chosen
    series belongs to a removed instance (every point stays)."""
    gone = chosen["removed_at"].notna().to_numpy()
    if not gone.any() or not len(sid):
        return None
    removed = chosen.loc[gone, ["id", "removed_at"]].sort_values("id")
    rid = removed["id"].to_numpy(np.int64)
    at = np.searchsorted(rid, sid)
    at[at == len(rid)] = 0
    hit = rid[at] == sid
    return ~hit | (ts < removed["removed_at"].to_numpy(np.int64)[at])


def drop_removed(frame: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Points of removed instances at or after their removal time are left out."""
    keep = before_removal(frame["series_id"].to_numpy(np.int64), frame["ts"].to_numpy(np.int64), chosen)
    return frame if keep is None else frame[keep]


def _combine(keys: list[np.ndarray], ts: np.ndarray, value: np.ndarray, rule: str):
    """Combine values sharing (keys..., ts) by rule -> (unique keys..., ts, value)."""
    order = np.lexsort((ts, *reversed(keys)))
    keys = [k[order] for k in keys]
    ts, value = ts[order], value[order]
    change = np.ones(len(ts), bool)
    change[1:] = ts[1:] != ts[:-1]
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    if rule == "max":
        out = np.maximum.reduceat(value, starts)
    else:
        out = np.add.reduceat(value, starts)
        if rule == "mean":
            out = out / np.diff(np.append(starts, len(ts)))
    return [k[starts] for k in keys], ts[starts], out


def combine_levels(frame: pd.DataFrame, chosen: pd.DataFrame, metric: str, level: str) -> pd.DataFrame:
    """``frame``: per-series bucketed values [series_id, ts, value] -> [group, ts, value]."""
    if frame.empty:
        return pd.DataFrame({"group": pd.Series(dtype="object"), "ts": pd.Series(dtype="int64"),
                             "value": pd.Series(dtype="float64")})
    rule = agg_of(metric)
    ids = chosen["id"].to_numpy(np.int64)
    order = np.argsort(ids)
    cluster_of_row, cluster_names = pd.factorize(chosen["cluster"].to_numpy())
    sid = frame["series_id"].to_numpy(np.int64)
    cluster_codes = cluster_of_row[order][np.searchsorted(ids[order], sid)]
    (cl,), ts, val = _combine([cluster_codes.astype(np.int64)], frame["ts"].to_numpy(np.int64),
                              frame["value"].to_numpy(np.float64), rule)
    if level == "cluster":
        return pd.DataFrame({"group": np.asarray(cluster_names, dtype=object)[cl], "ts": ts, "value": val})
    if level == "fleet":
        group = np.zeros(len(cl), np.int64)
        names = np.array(["fleet"], dtype=object)
    else:
        level_of_row, names = pd.factorize(chosen[level].to_numpy())
        level_of_cluster = np.empty(len(cluster_names), np.int64)
        level_of_cluster[cluster_of_row] = level_of_row
        group = level_of_cluster[cl]
    (g,), ts2, val2 = _combine([group.astype(np.int64)], ts, val, rule)
    return pd.DataFrame({"group": np.asarray(names, dtype=object)[g], "ts": ts2, "value": val2})


def _level_codes(chosen: pd.DataFrame, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted series ids, the group code of each, group names) for ``level``."""
    ids = chosen["id"].to_numpy(np.int64)
    order = np.argsort(ids)
    if level == "fleet":
        return ids[order], np.zeros(len(ids), np.int64), np.array(["fleet"], dtype=object)
    column = "cluster" if level == "cluster" else level
    codes, names = pd.factorize(chosen[column].to_numpy())
    return ids[order], codes[order].astype(np.int64), np.asarray(names, dtype=object)


def daily_sums(sid: np.ndarray, ts: np.ndarray, value: np.ndarray, chosen: pd.DataFrame, level: str,
               start: int, days: int) -> pd.DataFrame:
    """Hourly points of a summed metric -> [group, ts (day start), value (mean rate), hours] per
    day of ``days`` days from ``start``: the day's sum of every series' hourly averages divided
    by the hours that hold data in that group (so a day's mean is over the hours it saw).

    Points of removed instances at or after their removal time are left out."""
    ids, group_of, names = _level_codes(chosen, level)
    n_groups = len(names)
    if len(sid) and len(ids):
        row = np.searchsorted(ids, sid)
        row[row == len(ids)] = 0
        ok = ids[row] == sid
        keep = before_removal(sid, ts, chosen)
        if keep is not None:
            ok &= keep
        hour = (ts - start) // 3600
        ok &= (hour >= 0) & (hour < days * 24)
        g, hour, v = group_of[row[ok]], hour[ok], value[ok]
    else:
        g = hour = np.zeros(0, np.int64)
        v = np.zeros(0)
    sums = np.bincount(g * days + hour // 24, weights=v, minlength=n_groups * days)
    present = np.zeros((n_groups, days * 24), bool)
    present[g, hour] = True
    hours = present.reshape(n_groups, days, 24).sum(axis=2).ravel()
    has = hours > 0
    cell = np.flatnonzero(has)
    return pd.DataFrame({"group": names[cell // days], "ts": start + (cell % days) * 86400,
                         "value": sums[has] / hours[has], "hours": hours[has]})
