"""Deviation from the same hour of past weeks: a robust z-score on hourly rollups.

For the hour being judged, the same hour of the ``weeks`` previous weeks gives the usual level
(median) and spread (MAD x 1.4826, floored at 5% of the median so a very regular series does not
turn every wobble into a huge z). An hour is a deviation when |z| >= warn_z (crit_z for crit) and
the value is at least ``min_change`` (a share of the median) away from it: both a statistical and a
practical size. Traffic is judged per business on its front QPS (proxies for Twemproxy clusters),
both ways: a surge and a drop (an outage upstream) are both news.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from alerting import evaluate as ev

WEEK = 7 * 86400
MAD_SCALE = 1.4826
MAD_FLOOR = 0.05


def robust_z(value: np.ndarray, history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, median) of ``value`` (n,) against ``history`` (n, weeks; NaN = no data that week)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)        # an hour with no history: NaN, said below
        med = np.nanmedian(history, axis=1)
        mad = np.nanmedian(np.abs(history - med[:, None]), axis=1) * MAD_SCALE
        spread = np.fmax(mad, MAD_FLOOR * np.abs(med))
        z = (value - med) / np.where(spread > 0, spread, np.nan)
    enough = (np.sum(~np.isnan(history), axis=1) >= 2)
    return np.where(enough, z, np.nan), med


def hourly_scores(series: pd.Series, weeks: int) -> pd.DataFrame:
    """Every hour of an hourly series (index: UTC epoch seconds, one point per hour) against the
    same hour of its ``weeks`` previous weeks: [ts, value, median, z]."""
    s = series.sort_index()
    s = s[~s.index.duplicated()]
    full = s.reindex(np.arange(s.index.min(), s.index.max() + 1, 3600))
    v = full.to_numpy(np.float64)
    hist = np.full((len(v), weeks), np.nan)
    for k in range(1, weeks + 1):
        lag = 168 * k
        hist[lag:, k - 1] = v[:-lag] if lag < len(v) else np.nan
    z, med = robust_z(v, hist)
    return pd.DataFrame({"ts": full.index.to_numpy(), "value": v, "median": med, "z": z})


def judge(z: np.ndarray, value: np.ndarray, med: np.ndarray, cfg: dict) -> np.ndarray:
    """'' / 'warn' / 'crit' per point (NaN z: not enough history, nothing)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        big = np.abs(value - med) >= cfg["min_change"] * np.abs(med)
        out = np.where(big & (np.abs(z) >= cfg["crit_z"]), "crit",
                       np.where(big & (np.abs(z) >= cfg["warn_z"]), "warn", ""))
    return out.astype(object)


def business_hits(store, cfg: dict, now: int) -> pd.DataFrame:
    """Deviation hits for businesses of star >= ``min_star``, judged on the last complete hour."""
    hour = now - now % 3600 - 3600
    start = hour - cfg["weeks"] * WEEK
    agg = store.aggregate("business", cfg["metric"], start, hour + 3600, max_points=cfg["weeks"] * 168 + 2)
    if agg.empty:
        return pd.DataFrame(columns=ev.HIT_COLUMNS)
    biz = store.businesses().set_index("name")
    biz = biz[biz["star"] >= cfg["min_star"]]
    agg = agg[agg["group"].isin(biz.index)]
    agg = agg[(agg["ts"] - hour) % WEEK == 0]            # the judged hour and the same hour of past weeks
    wide = agg.pivot_table(index="group", columns="ts", values="value", aggfunc="mean")
    if hour not in wide.columns or wide.shape[1] < 3:
        return pd.DataFrame(columns=ev.HIT_COLUMNS)
    past = [c for c in wide.columns if c < hour][-cfg["weeks"]:]
    value = wide[hour].to_numpy(np.float64)
    z, med = robust_z(value, wide[past].to_numpy(np.float64))
    sev = judge(z, value, med, cfg)
    keep = sev != ""
    if not keep.any():
        return pd.DataFrame(columns=ev.HIT_COLUMNS)
    names = wide.index.to_numpy(object)[keep]
    out = pd.DataFrame({
        "business": names, "product_line": biz.loc[names, "product_line"].to_numpy(object),
        "star": biz.loc[names, "star"].to_numpy(np.int64), "cluster": None, "instance": None,
        "rule": "deviation", "metric": cfg["metric"], "severity": sev[keep], "value": value[keep],
        "threshold": med[keep], "below": value[keep] < med[keep],
        "reason": [f"{cfg['metric']} {v:.4g} vs usual {m:.4g} (z {zz:+.1f})"
                   for v, m, zz in zip(value[keep], med[keep], z[keep])],
        "source": ""})
    return ev.finish(out)
