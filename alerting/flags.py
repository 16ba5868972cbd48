"""Red flags from the latest values: threshold rules and staleness, worst-of per cluster and business.

Pure functions over DataFrames (no store, no Dash), so the wall, the business page and later the
alert engine evaluate flags the same way. Severity order: ``ok`` < ``stale`` < ``warn`` < ``crit``;
``stale`` (no data for ``stale_after_intervals * collect_interval`` seconds) is never shown as ok.

Thresholds are per metric and service and tighten with the business's star level: a 5-star
business turns warn and crit earlier than a 1-star one (``TIGHTEN``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SEVERITIES = ("ok", "stale", "warn", "crit")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Rule:
    metric: str
    warn: float
    crit: float
    above: bool = True              # True: breach when value > threshold; False: when below
    services: tuple[str, ...] = ()  # empty = every service
    roles: tuple[str, ...] = ()     # empty = every role
    tightens: bool = True           # star level moves the thresholds
    name: str = ""                  # the rule's name in alerts and silences (default: the metric)
    for_s: int = 0                  # breaching this long before an alert fires
    clear: float | None = None      # a firing alert resolves only past this value (hysteresis)

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.metric)


RULES: tuple[Rule, ...] = (
    Rule("mem_util", 85.0, 95.0),
    Rule("hit_ratio", 80.0, 65.0, above=False, services=("redis", "memcached", "twemproxy"),
         roles=("master", "slave")),
    Rule("evictions", 50.0, 500.0),
    Rule("cpu", 80.0, 95.0),
    Rule("repl_ok", 0.5, 0.5, above=False, roles=("slave",), tightens=False),
    Rule("proxy_timeouts", 5.0, 50.0, services=("twemproxy",)),
    Rule("server_ejects", 0.0, 1.0, services=("twemproxy",), tightens=False),
)

#: fraction by which the warn/crit distance to the "bad" side shrinks, by star level
TIGHTEN = {1: 1.0, 2: 1.0, 3: 1.0, 4: 0.94, 5: 0.88}


def thresholds(rule: Rule, star: int, tighten: dict | None = None) -> tuple[float, float]:
    """(warn, crit) of ``rule`` for a business of ``star`` level."""
    if not rule.tightens:
        return rule.warn, rule.crit
    k = (TIGHTEN if tighten is None else tighten).get(int(star), 1.0)
    if rule.above:
        return rule.warn * k, rule.crit * k
    return min(100.0, rule.warn / k), min(100.0, rule.crit / k)


def thresholds_for(rule: Rule, stars: np.ndarray, tighten: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`thresholds` over an array of star levels."""
    table = np.array([thresholds(rule, s, tighten) for s in range(6)])
    s = np.clip(stars, 0, 5)
    return table[s, 0], table[s, 1]


def evaluate(latest: pd.DataFrame, now: int, stale_after_s: int, rules: tuple[Rule, ...] = RULES) -> pd.DataFrame:
    """Flag every series.

    Args:
        latest: one row per series with columns metric, service, role, star, cluster, business,
            product_line, instance, ts (NaN when the series never reported) and value.
        now: evaluation time, UTC epoch seconds.
        stale_after_s: an instance (or, for cluster-level series, a cluster) whose newest point
            is older than this is ``stale``: every series of it is. One series without a recent
            value in an instance that reports (a hit ratio without traffic, memory use against
            no limit) is not stale: it has no value to judge and stays ``ok``.
    Returns:
        ``latest`` plus ``severity``, its ``rank`` (index in SEVERITIES), ``reason`` (empty for
        ok) and ``current`` (False when the row's own value is older than ``stale_after_s``: it
        says nothing about now, whatever its instance's state).
    """
    out = latest.copy()
    sev = np.zeros(len(out), np.int64)
    reason = np.full(len(out), "", dtype=object)
    pending: list[tuple[np.ndarray, str, np.ndarray]] = []
    value = out["value"].to_numpy(np.float64)
    star = out["star"].fillna(3).to_numpy(np.int64)
    for rule in rules:
        hit = np.array(out["metric"] == rule.metric, dtype=bool)
        if rule.services:
            hit &= out["service"].isin(rule.services).to_numpy()
        if rule.roles:
            hit &= out["role"].isin(rule.roles).to_numpy()
        if not hit.any():
            continue
        warn, crit = thresholds_for(rule, star[hit])
        v = value[hit]
        bad_warn = v > warn if rule.above else v < warn
        bad_crit = v > crit if rule.above else v < crit
        level = np.where(bad_crit, RANK["crit"], np.where(bad_warn, RANK["warn"], RANK["ok"]))
        idx = np.flatnonzero(hit)
        worse = level > sev[idx]
        sev[idx[worse]] = level[worse]
        pending.append((idx[worse], rule.metric, v[worse]))
    ts = out["ts"].to_numpy(np.float64)
    old = np.isnan(ts) | (ts < now - stale_after_s)
    stale = _source_silent(out, ts, now - stale_after_s)
    sev[old & ~stale] = RANK["ok"]     # an old value of a reporting instance says nothing about now
    for where, metric, v in pending:   # text only for rows that stay flagged by that rule
        keep = ~old[where]
        reason[where[keep]] = [f"{metric} {x:.4g}" for x in v[keep]]
    # a stale value says nothing about now: staleness replaces whatever the old value said
    sev[stale] = RANK["stale"]
    reason[stale] = "no data"
    out["severity"] = np.asarray(SEVERITIES, dtype=object)[sev]
    out["rank"] = sev
    out["reason"] = reason
    out["current"] = ~old
    return out


def freshness_groups(latest: pd.DataFrame) -> np.ndarray:
    """Integer code per row: its instance, or its cluster for a cluster-level series (callers that
    evaluate the same inventory often may keep it in a ``fresh_group`` column)."""
    inst = latest["instance"].to_numpy(object)
    key = np.where(pd.isna(inst), "cluster:" + latest["cluster"].astype(str).to_numpy(object), inst)
    return pd.factorize(key)[0]


def _source_silent(latest: pd.DataFrame, ts: np.ndarray, cut: float) -> np.ndarray:
    """True for rows whose instance (cluster for cluster-level rows) has no point newer than ``cut``."""
    if not len(latest):
        return np.zeros(0, bool)
    codes = latest["fresh_group"].to_numpy(np.int64) if "fresh_group" in latest else freshness_groups(latest)
    newest = np.full(int(codes.max()) + 1, -np.inf)
    np.fmax.at(newest, codes, ts)
    return ~(newest[codes] >= cut)


def worst_of(flags: pd.DataFrame, by: str, now: int) -> pd.DataFrame:
    """Worst flag per ``by`` (cluster or business): [by, severity, reason, where, age, n_flagged].

    ``where`` is the instance (or cluster) that set the worst flag; ``age`` the seconds since the
    oldest latest point among stale series (0 when nothing is stale).
    """
    if flags.empty:
        return pd.DataFrame(columns=[by, "severity", "reason", "where", "age", "n_flagged"])
    codes, names = pd.factorize(flags[by].to_numpy(object), sort=True)
    rank = flags["rank"].to_numpy(np.int64) if "rank" in flags else flags["severity"].map(RANK).to_numpy(np.int64)
    # worst row per group: sort by (group, -rank), keep each group's first row
    order = np.lexsort((-rank, codes))
    first = order[np.r_[True, codes[order][1:] != codes[order][:-1]]]
    inst = flags["instance"].to_numpy(object)[first]
    cluster = flags["cluster"].to_numpy(object)[first]
    where = np.where(pd.isna(inst), cluster, inst)
    n = len(names)
    stale = rank == RANK["stale"]
    oldest = np.full(n, np.inf)
    # fmin: a series that never reported (NaN) does not hide the oldest real point
    np.fmin.at(oldest, codes[stale], flags["ts"].to_numpy(np.float64)[stale])
    flagged = np.zeros(n, np.int64)
    np.add.at(flagged, codes[rank >= RANK["warn"]], 1)
    return pd.DataFrame({
        by: np.asarray(names, dtype=object)[codes[first]],
        "severity": np.asarray(SEVERITIES, dtype=object)[rank[first]],
        "reason": flags["reason"].to_numpy(object)[first],
        "where": where,
        "age": np.where(np.isinf(oldest), 0.0, now - oldest)[codes[first]],
        "n_flagged": flagged[codes[first]],
    })


def carry_onsets(current: pd.DataFrame, previous: dict[str, tuple[str, int]] | None, now: int) -> dict[str, int]:
    """Since when each business has had its current severity.

    Args:
        current: [business, severity, age] from :func:`worst_of`.
        previous: business -> (severity, since) from the last evaluation (or None).
    Returns:
        business -> since (UTC epoch seconds). A stale business counts from its last data.
    """
    previous = previous or {}
    since: dict[str, int] = {}
    for name, sev, age in zip(current["business"], current["severity"], current["age"]):
        prev = previous.get(name)
        if sev == "stale":
            since[name] = int(now - age)
        elif prev is not None and prev[0] == sev:
            since[name] = int(prev[1])
        else:
            since[name] = int(now)
    return since


#: the wall's star bands (docs/dashboard.md "Flag order"): businesses of 3 stars and more are the
#: ones paged and watched; within a band severity comes first, so a 3-star crit is above 5-star warns
STAR_BANDS = (3, 1)     # lowest star of each band, highest band first


def star_band(stars: pd.Series) -> np.ndarray:
    """Index of each star level's band in ``STAR_BANDS`` (0 = the top band)."""
    s = stars.fillna(3).to_numpy(np.int64)
    band = np.full(len(s), len(STAR_BANDS) - 1)
    for i, low in reversed(list(enumerate(STAR_BANDS))):
        band[s >= low] = np.minimum(band[s >= low], i)
    return band


def wall_order(frame: pd.DataFrame, now: int) -> pd.DataFrame:
    """Flagged businesses first: star band (3-5 stars, then 1-2), within a band severity (crit,
    warn, stale), then star (high first), then longest flagged, then name.

    ``frame`` has business, star, severity and since; returns only non-ok rows, sorted.
    """
    flagged = frame[frame["severity"] != "ok"].copy()
    flagged["band"] = star_band(flagged["star"])
    flagged["rank"] = flagged["severity"].map(RANK)
    flagged["duration"] = now - flagged["since"]
    flagged = flagged.sort_values(["band", "rank", "star", "duration", "business"],
                                  ascending=[True, False, False, False, True], kind="stable")
    return flagged.drop(columns=["rank", "band"]).reset_index(drop=True)


def counts(frame: pd.DataFrame) -> dict[str, int]:
    """Number of businesses per severity (every severity present, zero when none)."""
    vc = frame["severity"].value_counts()
    return {s: int(vc.get(s, 0)) for s in SEVERITIES}


# ------------------------------------------------------------------------------ Zabbix problems
#: Zabbix trigger severity -> flag. "not classified" (0) and "information" (1) raise nothing;
#: "warning" (2) and "average" (3) are ``warn``; "high" (4) and "disaster" (5) are ``crit``.
ZABBIX_FLAG = {0: "ok", 1: "ok", 2: "warn", 3: "warn", 4: "crit", 5: "crit"}
PROBLEM_COLUMNS = ["business", "cluster", "instance", "host", "name", "zabbix_severity", "clock",
                   "severity", "rank", "reason"]


def problem_flags(problems: pd.DataFrame, instances: pd.DataFrame) -> pd.DataFrame:
    """Active Zabbix problems of collected instances, as flags.

    Args:
        problems: ``Store.problems()`` (severity names, ``level`` 0..5; instance is None for hosts
            not collected: those belong to no business and are dropped).
        instances: the store's instances [name, cluster, business].
    Returns:
        one row per problem: business, cluster, instance, host, name, zabbix_severity (0-5), clock,
        severity (by ``ZABBIX_FLAG``), rank and reason ("zabbix: <name>"); most severe first, then newest.
    """
    if problems.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    owner = instances.drop_duplicates("name").set_index("name")[["cluster", "business"]]
    p = problems[problems["instance"].isin(owner.index)]
    if p.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    zsev = p["level"].astype(int).clip(0, 5)
    sev = zsev.map(ZABBIX_FLAG)
    out = pd.DataFrame({
        "business": p["instance"].map(owner["business"]).to_numpy(object),
        "cluster": p["instance"].map(owner["cluster"]).to_numpy(object),
        "instance": p["instance"].to_numpy(object),
        "host": p["host"].to_numpy(object),
        "name": p["name"].to_numpy(object),
        "zabbix_severity": zsev.to_numpy(np.int64),
        "clock": p["clock"].astype(np.int64).to_numpy(),
        "severity": sev.to_numpy(object),
        "rank": sev.map(RANK).to_numpy(np.int64),
        "reason": ("zabbix: " + p["name"].astype(str)).to_numpy(object),
    })
    return out.sort_values(["zabbix_severity", "clock"], ascending=[False, False], kind="stable").reset_index(drop=True)


def raise_with_problems(worst: pd.DataFrame, problems: pd.DataFrame, by: str = "business") -> pd.DataFrame:
    """``worst`` (from :func:`worst_of`, or any frame with [by, severity, reason, where, n_flagged])
    with each row raised to its worst active Zabbix problem when that is worse (``problems`` from
    :func:`problem_flags`); flagged problems add to ``n_flagged``."""
    if problems.empty or worst.empty:
        return worst
    raising = problems[problems["rank"] >= RANK["warn"]]
    if raising.empty:
        return worst
    top = raising.sort_values("rank", ascending=False, kind="stable").drop_duplicates(by).set_index(by)
    n = raising.groupby(by).size()
    out = worst.copy()
    key = out[by]
    p_rank = key.map(top["rank"]).fillna(-1).to_numpy(np.int64)
    cur = out["severity"].map(RANK).fillna(0).to_numpy(np.int64)
    up = p_rank > cur
    if up.any():
        out.loc[up, "severity"] = key[up].map(top["severity"]).to_numpy(object)
        out.loc[up, "reason"] = key[up].map(top["reason"]).to_numpy(object)
        out.loc[up, "where"] = key[up].map(top["instance"]).to_numpy(object)
    if "n_flagged" in out:
        out["n_flagged"] = out["n_flagged"].fillna(0).astype(int) + key.map(n).fillna(0).astype(int).to_numpy()
    return out


# ------------------------------------------------------------------------------ stored alerts
STORED_COLUMNS = ["business", "severity", "reason", "where", "n_flagged", "since", "age", "acked", "silenced",
                  "rule", "metric", "value", "threshold", "held"]


def from_alerts(alerts: pd.DataFrame, now: int) -> pd.DataFrame:
    """Per business, the flag the alert engine stored (``Store.open_alerts(include_pending=False)``):
    [business, severity, reason, where, n_flagged, since, age, acked, silenced, rule, metric, value,
    threshold, held]. ``acked`` / ``silenced``: every alert at the business's worst severity is
    acknowledged / silenced; ``held``: every one of them is resolved but still shown (an optional
    ``held`` column of ``alerts``, see ``dashboard.wall_data.wall_alerts``); ``rule``, ``metric``,
    ``value``, ``threshold``: of the first of them (so the wall can say it in its language)."""
    if alerts.empty:
        return pd.DataFrame(columns=STORED_COLUMNS)
    a = alerts.copy()
    a["rank"] = a["severity"].map(RANK).fillna(0).astype(int)
    a["acked"] = a["state"] == "acknowledged"
    a["silenced"] = a["silenced_by"].notna()
    a["held"] = a["held"].astype(bool) if "held" in a else False
    a["where"] = a["instance"].where(a["instance"].notna(), a["cluster"]).fillna("")
    worst_rank = a.groupby("business")["rank"].transform("max")
    top = a[a["rank"] == worst_rank].sort_values(["business", "fired_at"], kind="stable")
    g = top.groupby("business", sort=True)
    # the first row as a whole (``g.first()`` would fill a missing value from another row)
    out = top.drop_duplicates("business").set_index("business")[["severity", "reason", "where", "rule", "metric",
                                                                 "value", "threshold"]]
    out["since"] = g["fired_at"].min().astype("int64")
    out["acked"] = g["acked"].all()
    out["silenced"] = g["silenced"].all()
    out["held"] = g["held"].all()
    out["n_flagged"] = a[a["rank"] >= RANK["warn"]].groupby("business").size().reindex(out.index).fillna(0).astype(int)
    out["age"] = np.where(out["severity"] == "stale", now - out["since"], 0.0)
    return out.reset_index()[STORED_COLUMNS]
