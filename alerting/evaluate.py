"""One evaluation's findings ("hits"), pure functions over frames: threshold rules (with star
tightening and the clear threshold), staleness (per instance; a whole cluster silent is one
``cluster_down``), the watchdog (a source that stopped writing), active Zabbix problems.

A hit is one row per dedup target: key = ``business|rule|instance-or-cluster``, with business,
product_line, star, cluster, instance, rule, metric, severity (``stale``, ``warn``, ``crit``, or
``hold``: back under warn but not yet past the rule's clear threshold), value, threshold, below,
reason, ack (acknowledged at the source) and inhibited.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from alerting import flags as fl

HIT_COLUMNS = ["key", "business", "product_line", "star", "cluster", "instance", "rule", "metric", "severity",
               "value", "threshold", "below", "reason", "ack", "inhibited", "source"]
LEVEL = {"hold": 0, "stale": 1, "warn": 2, "crit": 3}
SELF = "peakwatch"           # the business the watchdog's alerts belong to


def latest_frame(series: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """Live series with their latest ts and value (NaN when never reported)."""
    s = series[series["removed_at"].isna()] if "removed_at" in series else series
    ids = s["id"].to_numpy()
    lid = latest["series_id"].to_numpy()
    order = np.argsort(lid, kind="stable")
    lid = lid[order]
    pos = np.clip(np.searchsorted(lid, ids), 0, max(len(lid) - 1, 0))
    found = (lid[pos] == ids) if len(lid) else np.zeros(len(ids), bool)
    ts = np.where(found, latest["ts"].to_numpy(np.float64)[order][pos] if len(lid) else 0.0, np.nan)
    val = np.where(found, latest["value"].to_numpy(np.float64)[order][pos] if len(lid) else 0.0, np.nan)
    return s.assign(ts=ts, value=val).reset_index(drop=True)


def _rows(frame: pd.DataFrame, idx: np.ndarray, **cols) -> pd.DataFrame:
    sub = frame.iloc[idx]
    out = pd.DataFrame({c: sub[c].to_numpy(object) for c in ("business", "product_line", "cluster", "instance")})
    out["star"] = sub["star"].fillna(3).to_numpy(np.int64)
    out["source"] = sub["source"].to_numpy(object) if "source" in sub else ""
    for k, v in cols.items():
        out[k] = v
    return out


def threshold_hits(frame: pd.DataFrame, rules, tighten: dict, now: int, stale_after: int) -> pd.DataFrame:
    """Rule breaches of fresh series, worst per (business, rule, instance-or-cluster)."""
    value = frame["value"].to_numpy(np.float64)
    star = frame["star"].fillna(3).to_numpy(np.int64)
    ts = frame["ts"].to_numpy(np.float64)
    fresh = ~(np.isnan(ts) | (ts < now - stale_after))
    metric = frame["metric"].to_numpy(object)
    parts = []
    for rule in rules:
        hit = (metric == rule.metric) & fresh
        if rule.services:
            hit &= frame["service"].isin(rule.services).to_numpy()
        if rule.roles:
            hit &= frame["role"].isin(rule.roles).to_numpy()
        if not hit.any():
            continue
        idx = np.flatnonzero(hit)
        warn, crit = fl.thresholds_for(rule, star[idx], tighten)
        v = value[idx]
        bad = (lambda x, t: x > t) if rule.above else (lambda x, t: x < t)
        clear = warn if rule.clear is None else np.full(len(v), rule.clear)
        level = np.where(bad(v, crit), 3, np.where(bad(v, warn), 2, np.where(bad(v, clear), 0, -1)))
        keep = level >= 0
        if not keep.any():
            continue
        level, v, idx = level[keep], v[keep], idx[keep]
        thr = np.where(level == 3, crit[keep], warn[keep])
        sev = np.array(["hold", "", "warn", "crit"], dtype=object)[level]
        rows = _rows(frame, idx, rule=rule.name, metric=rule.metric, severity=sev, value=v, threshold=thr,
                     below=not rule.above, level=level)
        parts.append(rows)
    if not parts:
        return pd.DataFrame(columns=HIT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["reason"] = [f"{m} {x:.4g}" for m, x in zip(out["metric"], out["value"])]
    return finish(out)


def stale_hits(frame: pd.DataFrame, now: int, stale_after: int) -> pd.DataFrame:
    """One ``stale`` hit per silent instance (or cluster-level target); a cluster whose every
    instance is silent is one ``cluster_stale`` hit, and its instances' stale hits are inhibited
    (one flag, not one per instance). Stale stays grey: silence says nothing about the values."""
    ts = frame["ts"].to_numpy(np.float64)
    stale = np.isnan(ts) | (ts < now - stale_after)
    if not stale.any():
        return pd.DataFrame(columns=HIT_COLUMNS)
    target = frame["instance"].where(frame["instance"].notna(), frame["cluster"]).to_numpy(object)
    per = pd.DataFrame({"target": target, "stale": stale, "ts": ts})
    # an instance is silent when every series of it is
    silent = per.groupby("target", sort=False)["stale"].all()
    last = per.groupby("target", sort=False)["ts"].max()
    first = pd.Series(np.arange(len(frame)), index=target).groupby(level=0).first()
    names = silent.index[silent.to_numpy()]
    if not len(names):
        return pd.DataFrame(columns=HIT_COLUMNS)
    idx = first.reindex(names).to_numpy()
    ages = now - last.reindex(names).to_numpy()
    reason = ["no data" if np.isnan(a) else f"no data for {int(a // 60)} min" for a in ages]
    out = _rows(frame, idx, rule="stale", metric="", severity="stale", value=np.nan, threshold=np.nan,
                below=False, reason=reason, level=1)
    out["instance"] = [i if isinstance(i, str) else None for i in out["instance"]]
    inst = frame[frame["instance"].notna()]
    per_cluster = inst.groupby("cluster")["instance"].nunique()
    silent_inst = out[out["instance"].notna()].groupby("cluster")["instance"].nunique()
    down = [c for c, n in silent_inst.items() if n == per_cluster.get(c, -1) and n > 1]
    out = finish(out)
    if down:
        out.loc[out["cluster"].isin(down), "inhibited"] = True
        first_rows = out[out["cluster"].isin(down)].drop_duplicates("cluster").copy()
        first_rows["instance"] = None
        first_rows["rule"], first_rows["severity"], first_rows["inhibited"] = "cluster_stale", "stale", False
        first_rows["reason"] = "every instance silent"
        out = pd.concat([out, finish(first_rows)], ignore_index=True)
    return out


def watchdog_hits(frame: pd.DataFrame, now: int, silent_after: int) -> pd.DataFrame:
    """One crit hit per source (collector or demo) that wrote nothing for ``silent_after`` s."""
    if frame.empty or "source" not in frame:
        return pd.DataFrame(columns=HIT_COLUMNS)
    newest = frame.groupby("source")["ts"].max()
    rows = []
    for source, ts in newest.items():
        if np.isnan(ts) or ts < now - silent_after:
            age = "ever" if np.isnan(ts) else f"{int((now - ts) // 60)} min"
            rows.append({"business": SELF, "product_line": SELF, "star": 5, "cluster": str(source), "instance": None,
                         "rule": "watchdog", "metric": "", "severity": "crit", "value": np.nan,
                         "threshold": np.nan, "below": False, "reason": f"no data from {source} for {age}",
                         "source": str(source)})
    return finish(pd.DataFrame(rows)) if rows else pd.DataFrame(columns=HIT_COLUMNS)


def problem_hits(problems: pd.DataFrame, owners: pd.DataFrame, severity_map: dict, honour_ack: bool,
                 businesses: pd.DataFrame) -> pd.DataFrame:
    """Active Zabbix problems of collected instances (``Store.problems()``), mapped to flags."""
    if problems.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    own = owners.drop_duplicates("name").set_index("name")
    p = problems[problems["instance"].isin(own.index)].copy()
    p["severity"] = p["severity"].map(severity_map).fillna("ok")
    p = p[p["severity"] != "ok"]
    if p.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    biz = businesses.set_index("name")
    business = p["instance"].map(own["business"])
    out = pd.DataFrame({
        "business": business.to_numpy(object), "cluster": p["instance"].map(own["cluster"]).to_numpy(object),
        "instance": p["instance"].to_numpy(object),
        "product_line": business.map(biz["product_line"]).to_numpy(object),
        "star": business.map(biz["star"]).fillna(3).astype(int).to_numpy(),
        "rule": ("zabbix:" + p["name"].astype(str).str.slice(0, 90)).to_numpy(object), "metric": "",
        "severity": p["severity"].to_numpy(object), "value": np.nan, "threshold": np.nan, "below": False,
        "reason": ("zabbix: " + p["name"].astype(str)).to_numpy(object),
        "ack": (p["acknowledged"].to_numpy(bool) & honour_ack), "source": "zabbix"})
    return finish(out)


def finish(out: pd.DataFrame) -> pd.DataFrame:
    """Keys, defaults, and the worst row per key."""
    out = out.copy()
    target = out["instance"].where(out["instance"].notna(), out["cluster"]).fillna("")
    out["key"] = out["business"].astype(str) + "|" + out["rule"].astype(str) + "|" + target.astype(str)
    for col, default in (("ack", False), ("inhibited", False), ("source", ""), ("reason", "")):
        if col not in out:
            out[col] = default
    out["level"] = out["severity"].map(LEVEL)
    out = out.sort_values("level", ascending=False, kind="stable").drop_duplicates("key")
    return out[HIT_COLUMNS + ["level"]].reset_index(drop=True)


def combine(*parts: pd.DataFrame) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=HIT_COLUMNS + ["level"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("level", ascending=False, kind="stable").drop_duplicates("key").reset_index(drop=True)


def inhibit(hits: pd.DataFrame) -> pd.DataFrame:
    """A silent source inhibits its stale flags; a crit cluster-level alert (cluster down) inhibits
    its instances' flags. Inhibited alerts stay on the wall (grey) but are not paged."""
    if hits.empty:
        return hits
    hits = hits.copy()
    dead = set(hits.loc[hits["rule"] == "watchdog", "source"])
    if dead:
        hits.loc[hits["source"].isin(dead) & hits["rule"].isin(["stale", "cluster_stale"]), "inhibited"] = True
    # a crit cluster-level alert (the cluster is down) inhibits its instances' alerts
    down = set(hits.loc[hits["instance"].isna() & (hits["severity"] == "crit") & (hits["rule"] != "watchdog"),
                        "cluster"])
    if down:
        hits.loc[hits["cluster"].isin(down) & hits["instance"].notna(), "inhibited"] = True
    return hits
