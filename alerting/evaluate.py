"""One evaluation's findings ("hits"), pure functions over frames: threshold rules (with star
tightening and the clear threshold), staleness (per instance; a whole cluster silent is one
``cluster_stale``), the watchdog (a source that stopped writing), active Zabbix problems.

A hit is one row per dedup target: key = ``business|rule|instance-or-cluster``, with business,
product_line, star, cluster, instance, rule, metric, severity (``stale``, ``warn``, ``crit``, or
``hold``: back under warn but not yet past the rule's clear threshold), value, threshold, below,
reason, ack (acknowledged at the source) and inhibited.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from alerting import flags as fl
from alerting.prepared import Prepared

HIT_COLUMNS = ["key", "business", "product_line", "star", "cluster", "instance", "rule", "metric", "severity",
               "value", "threshold", "below", "reason", "ack", "inhibited", "source", "since"]
LEVEL = {"hold": 0, "stale": 1, "warn": 2, "crit": 3}
SELF = "peakwatch"           # the business the watchdog's alerts belong to


def _rows(frame: pd.DataFrame, idx: np.ndarray, **cols) -> pd.DataFrame:
    sub = frame.iloc[idx]
    out = pd.DataFrame({c: sub[c].to_numpy(object) for c in ("business", "product_line", "cluster", "instance")})
    out["instance"] = [i if isinstance(i, str) else None for i in out["instance"]]
    out["star"] = sub["star"].fillna(3).to_numpy(np.int64)
    out["source"] = sub["source"].to_numpy(object)
    for k, v in cols.items():
        out[k] = v
    return out


def threshold_hits(prep: Prepared, ts: np.ndarray, value: np.ndarray, rules, tighten: dict, now: int,
                   stale_after: int) -> pd.DataFrame:
    """Rule breaches of fresh series, worst per (business, rule, instance-or-cluster)."""
    fresh = ~(np.isnan(ts) | (ts < now - stale_after))
    parts = []
    for rule in rules:
        idx = np.flatnonzero(prep.rule_mask(rule) & fresh)
        if not len(idx):
            continue
        v = value[idx]
        warn, crit = fl.thresholds_for(rule, prep.star[idx], tighten)
        clear = warn if rule.clear is None else np.full(len(v), rule.clear)
        with np.errstate(invalid="ignore"):
            if rule.above:
                level = np.where(v > crit, 3, np.where(v > warn, 2, np.where(v > clear, 0, -1)))
            else:
                level = np.where(v < crit, 3, np.where(v < warn, 2, np.where(v < clear, 0, -1)))
        keep = level >= 0
        if not keep.any():
            continue
        level, v, idx = level[keep], v[keep], idx[keep]
        thr = np.where(level == 3, crit[keep], warn[keep])
        sev = np.array(["hold", "", "warn", "crit"], dtype=object)[level]
        parts.append(_rows(prep.frame, idx, rule=rule.name, metric=rule.metric, severity=sev, value=v,
                           threshold=thr, below=not rule.above))
    if not parts:
        return pd.DataFrame(columns=HIT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["reason"] = [f"{m} {x:.4g}" for m, x in zip(out["metric"], out["value"])]
    return finish(out)


def stale_hits(prep: Prepared, ts: np.ndarray, now: int, stale_after: int) -> pd.DataFrame:
    """One ``stale`` hit per silent target (an instance, or a cluster-level series' cluster: silent
    when every series of it is stale); a cluster whose every instance is silent is one
    ``cluster_stale`` hit, and its instances' stale hits are inhibited (one flag, not one per
    instance). Stale stays grey: silence says nothing about the values."""
    stale = np.isnan(ts) | (ts < now - stale_after)
    if not stale.any():
        return pd.DataFrame(columns=HIT_COLUMNS)
    n_t = len(prep.target_names)
    silent = np.bincount(prep.target, weights=stale, minlength=n_t) == np.bincount(prep.target, minlength=n_t)
    codes = np.flatnonzero(silent)
    if not len(codes):
        return pd.DataFrame(columns=HIT_COLUMNS)
    last = np.full(n_t, -np.inf)
    rows = np.isin(prep.target, codes)
    np.fmax.at(last, prep.target[rows], ts[rows])
    reason = "no data"          # how long: ``since`` (the wall and messages show it in their language)
    out = _rows(prep.frame, prep.target_first[codes], rule="stale", metric="", severity="stale", value=np.nan,
                threshold=np.nan, below=False, reason=reason)
    out["since"] = np.where(np.isfinite(last[codes]), last[codes], now).astype(np.int64)   # silent since
    inst_t = prep.target_is_instance
    n_c = int(prep.target_cluster.max()) + 1
    per_cluster = np.bincount(prep.target_cluster[inst_t], minlength=n_c)
    silent_per = np.bincount(prep.target_cluster[inst_t & silent], minlength=n_c)
    down = set(np.flatnonzero((per_cluster > 1) & (silent_per == per_cluster)))
    out = finish(out)
    if down:
        names = set(prep.frame["cluster"].to_numpy(object)[prep.target_first[[c for c in codes
                                                                              if prep.target_cluster[c] in down]]])
        out.loc[out["cluster"].isin(names) & out["instance"].notna(), "inhibited"] = True
        first_rows = out[out["cluster"].isin(names)].drop_duplicates("cluster").copy()
        first_rows["instance"] = None
        first_rows["rule"], first_rows["inhibited"] = "cluster_stale", False
        first_rows["reason"] = "every instance silent"
        out = pd.concat([out, finish(first_rows)], ignore_index=True)
    return out


def watchdog_hits(prep: Prepared, ts: np.ndarray, now: int, silent_after: int) -> pd.DataFrame:
    """One crit hit per source (collector or demo) that wrote nothing for ``silent_after`` s."""
    if not len(prep.source_names):
        return pd.DataFrame(columns=HIT_COLUMNS)
    newest = np.full(len(prep.source_names), -np.inf)
    ok = prep.source >= 0
    np.fmax.at(newest, prep.source[ok], np.nan_to_num(ts[ok], nan=-np.inf))
    rows = []
    for source, t in zip(prep.source_names, newest):
        if t < now - silent_after:
            age = "ever" if not np.isfinite(t) else f"{int((now - t) // 60)} min"
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
    for col, default in (("ack", False), ("inhibited", False), ("source", ""), ("reason", ""), ("since", None)):
        if col not in out:
            out[col] = default
    out["level"] = out["severity"].map(LEVEL).astype("int64")
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
