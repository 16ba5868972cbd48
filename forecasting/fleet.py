"""Fleet runner: forecast every business and cluster from the store, backtest, capacity plan.

With ``sizing.py`` the only forecasting module that reads the store (hourly rollups,
``store.promotions``, inventory frames); the maths stays in the pure modules. Series are hourly
maxima combined as ``Store.aggregate`` does (``Store.hourly``: qps summed over shards, memory
summed) in UTC; promotions keep their own time zone.

Shrinkage (see :func:`forecast_groups`): every series is shrunk toward its lift from the
fleet's kind model (its own scale from all its past events x the kind's effect from all series);
a series outside that model and without the kind's history borrows the median same-kind lift of
its product line (the fleet when the line has fewer than ``MIN_PEERS`` such series).
Work is split over processes (``workers``); series are shared with forked workers, not pickled.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from core.errors import ForecastError
from forecasting.backtest import LEADS, naive_last, naive_year, peak_of
from forecasting.backtest import CANDIDATE_COLUMNS
from forecasting.backtest import ROW_COLUMNS as ROW_COLUMNS_BT
from forecasting.capacity import CapacityLimits, memory_by_cluster, plan
from forecasting.events import Event, check_events, events_from_frame, pick_target
from forecasting.lifts import fit_kind_model, kind_prior_weight, kind_rows
from forecasting.model import forecast_event_peak, forecast_unscored

FLEET_METRICS = ("qps", "mem_used", "conns", "proxy_qps")
#: levels the capacity plan forecasts (the promotion pages also compare product lines and the fleet)
LEVELS = ("business", "cluster")
#: days of hourly history a forecast reads (two years: last year's same promotion and the one before)
HISTORY_DAYS = 730
MIN_PEERS = 3
#: series whose methods' errors estimate the fleet's error per method (thousands of past cases)
METHOD_SAMPLE = 300
ROW_COLUMNS = ["level", "group", "product_line", "metric", "point", "lower", "upper", "baseline", "lift",
               "trend_per_day", "n_events", "n_same_kind", "prior", "method", "past_mdape", "n_cases", "capped",
               "low_confidence", "reasons", "error"]

_SHARED: dict = {}      # series handed to forked workers (copy-on-write, never pickled)
_SHARED_LOCK = threading.Lock()   # one fleet forecast at a time per process: _SHARED is its input


# ---------------------------------------------------------------------------------- reading

def series_from_frame(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """``Store.hourly`` / ``Store.aggregate`` output [group, ts, value] -> {group: Series with a UTC DatetimeIndex}."""
    out: dict[str, pd.Series] = {}
    if frame.empty:
        return out
    frame = frame.sort_values(["group", "ts"], kind="stable")
    for group, part in frame.groupby("group", sort=True):
        idx = pd.DatetimeIndex(pd.to_datetime(part["ts"].to_numpy(np.int64), unit="s", utc=True)).as_unit("ns")
        out[str(group)] = pd.Series(part["value"].to_numpy(np.float64), index=idx, name=str(group))
    return out


def load_history(store, level: str, metric: str, end: int, days: int = HISTORY_DAYS,
                 stat: str = "max", groups=None) -> dict[str, pd.Series]:
    """Hourly history of every group (or ``groups``) at ``level`` for ``metric`` up to ``end``.

    ``stat="max"`` (default) reads each hour's maximum: a promotion's midnight spike lasts
    minutes, and the hourly average would hide most of it. Shards and clusters combine by the
    metric's rule (:meth:`store.Store.hourly`).
    """
    frame = store.hourly(level, metric, int(end) - days * 86_400, int(end) + 1, stat=stat, groups=groups)
    return series_from_frame(frame)


def store_events(store) -> list[Event]:
    """The store's promotion calendar (entered promotions and the yearly kinds' occurrences
    around its data) as events."""
    return check_events(events_from_frame(store.calendar(now=last_data_ts(store))))


def last_data_ts(store) -> int:
    """Newest sample time in the store (the natural cutoff)."""
    latest = store.latest(metric="qps")
    if not latest.empty:
        return int(latest["ts"].max())
    info = store.info()     # history written as rollups only (no live samples yet)
    ends = [x for x in (info["raw"]["last"], info["rollups"]["last"]) if x is not None]
    if not ends:
        raise ForecastError("the store has no qps samples; generate the demo fleet (python app.py demo) "
                            "or collect from Zabbix first.")
    return int(max(ends)) // 3600 * 3600


# ------------------------------------------------------------------------------ forecasting

def _row(group: str, fc=None, error: str = "", prior: float | None = None) -> dict:
    row = dict(group=group, point=np.nan, lower=np.nan, upper=np.nan, baseline=np.nan, lift=np.nan,
               trend_per_day=np.nan, n_events=0, n_same_kind=0, prior=np.nan, method="", past_mdape=np.nan,
               n_cases=0, capped=False, low_confidence=True, reasons=error, error=error, _fc=fc,
               _given=(None, 1.0, {}))
    if fc is not None:
        row.update(point=fc.point, lower=fc.lower, upper=fc.upper, baseline=fc.baseline, lift=fc.lift,
                   trend_per_day=fc.trend, n_events=fc.n_events, n_same_kind=fc.n_same_kind,
                   method=fc.method, past_mdape=fc.past_mdape, n_cases=fc.n_cases, capped=fc.capped,
                   low_confidence=fc.low_confidence, reasons="; ".join(fc.reasons + fc.notes),
                   prior=np.nan if prior is None else float(prior))
    return row


def _forecast_one(group: str, target: Event, cutoff) -> dict:
    """First pass: the series' lifts measured (its methods are scored once the fleet's priors are known)."""
    try:
        fc = forecast_unscored(_SHARED["series"][group], _SHARED["events"], target, cutoff)
    except ForecastError as exc:
        return _row(group, error=str(exc))
    return _row(group, fc)


def _chunk(args) -> list[dict]:
    groups, target, cutoff = args
    return [_forecast_one(g, target, cutoff) for g in groups]


def _chunk_reprior(args) -> list[dict]:
    """Second pass over some groups (rows and priors are in ``_SHARED``, inherited by forked
    workers); the rows come back without their forecast objects (only what the table shows)."""
    groups, target, cutoff = args
    rows, priors, origin, method_prior = (_SHARED[k] for k in ("rows", "priors", "origin", "method_prior"))
    return [_light(_reprior(rows[g], target, cutoff, *priors.get(g, (None, 1.0)), origin.get(g, {}), method_prior))
            for g in groups]


def _light(row: dict) -> dict:
    fc = row["_fc"]
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out.update({f"cand_{m}": v for m, v in (fc.candidates.items() if fc is not None else [])})
    return out


def _reprior(row: dict, target: Event, cutoff, prior: float | None, weight: float, origin: dict,
             method_prior: dict | None = None) -> dict:
    """Pool the lifts again toward ``prior`` and score the methods with the priors each past case
    would have had (``origin``: event name -> (lift, weight)) and the fleet's errors per method;
    a failed row is forecast with the prior."""
    given = None if prior is None else {target.kind: prior}
    try:
        if row["_fc"] is not None:
            fc = row["_fc"].with_prior(given, weight, origin, method_prior or None)
        elif given is not None:
            fc = forecast_event_peak(_SHARED["series"][row["group"]], _SHARED["events"], target, cutoff,
                                     prior=given, prior_weight=weight)
        else:
            return row
    except ForecastError:
        return row
    return {**_row(row["group"], fc, prior=prior), "_given": (given, weight, origin)}


def _map(fn, groups: list[str], extra: tuple, workers: int) -> list:
    """Run ``fn`` over chunks of groups, in forked workers when ``workers > 1``."""
    if workers <= 1 or len(groups) < 2 * workers or "fork" not in mp.get_all_start_methods():
        return [r for r in fn((groups, *extra))]
    chunks = [groups[i::workers * 4] for i in range(workers * 4)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        return [r for part in pool.map(fn, [(c, *extra) for c in chunks if c]) for r in part]


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def forecast_groups(series: Mapping[str, pd.Series], events: Iterable[Event], target: Event, cutoff=None, *,
                    product_line: Mapping[str, str] | None = None, workers: int = 1,
                    pool_kinds: bool = True) -> pd.DataFrame:
    """Forecast ``target`` for every series, then again shrunk toward a peer prior.

    Pass 1 measures every series' past lifts. The prior of a series is its lift for the target's
    kind from the fleet's kind model (:class:`forecasting.lifts.KindModel`: its own scale from
    all its past events, the kind's effect from every series); when the kind has no history in
    the fleet, there is no prior. Series without the kind's history and outside the kind model
    fall back to the median same-kind lift of their product line (or the fleet).
    """
    with _SHARED_LOCK:    # threads (dashboard requests, a warmer) wait; they never see another's series
        _SHARED.update(series=dict(series), events=list(events))
        try:
            groups = sorted(series)
            rows = _map(_chunk, groups, (target, cutoff), workers)
            priors, origin = _priors(rows, target, product_line or {}) if pool_kinds else ({}, {})
            by_group = {r["group"]: r for r in rows}
            method_prior = {}
            if pool_kinds:      # the fleet's error per method, from a sample scored with its priors
                sample = groups[::max(1, len(groups) // METHOD_SAMPLE)]
                method_prior = _method_prior([_reprior(by_group[g], target, cutoff, *priors.get(g, (None, 1.0)),
                                                       origin.get(g, {})) for g in sample])
            # the scoring pass runs in the workers and sends back only the table's columns
            _SHARED.update(rows=by_group, priors=priors, origin=origin, method_prior=method_prior)
            rows = _map(_chunk_reprior, groups, (target, cutoff), workers)
        finally:
            _SHARED.clear()
    out = pd.DataFrame(rows, columns=["group", *ROW_COLUMNS[4:], *CANDIDATE_COLUMNS])
    out["product_line"] = [(product_line or {}).get(g) for g in out["group"]] if len(out) else []
    return out


def _method_prior(rows: list[dict]) -> dict[bool, np.ndarray]:
    """{kind seen before: the fleet's mean squared log error of each method on its series' past
    cases in that situation} (each series then picks by its own cases shrunk toward it)."""
    out = {}
    for seen in (True, False):
        errs = [r["_fc"].case_errors for r in rows if r["_fc"] is not None and r["_fc"].seen_kind == seen
                and r["_fc"].case_errors is not None and len(r["_fc"].case_errors)]
        if errs:
            out[seen] = np.mean(np.square(np.concatenate(errs)), axis=0)
    return out


def _priors(rows: list[dict], target: Event, product_line: Mapping[str, str]):
    """(group -> (prior lift, prior weight), group -> {past event name -> (lift, weight)}): the
    target's prior, and the prior each past case of the methods' backtest would have had (the
    kind model fitted on the events that had ended by that case's cutoff)."""
    tables = {r["group"]: r["_fc"].table for r in rows if r["_fc"] is not None}
    model = fit_kind_model(tables)
    priors, origin = {}, {}
    if model is not None:
        weight = kind_prior_weight(tables)
        for g in tables:
            lift = model.lift(g, target.kind)
            if lift is not None:
                priors[g] = (lift, weight)
        origin = _origin_priors(rows, tables, weight)
    seen = [r for r in rows if r["n_same_kind"] > 0 and np.isfinite(r["lift"])]
    if seen:
        fleet = float(np.exp(np.median([np.log(r["lift"]) for r in seen])))
        by_line: dict[str, list[float]] = {}
        for r in seen:
            by_line.setdefault(product_line.get(r["group"]), []).append(np.log(r["lift"]))
        for r in rows:
            if r["n_same_kind"] == 0 and r["group"] not in priors:
                peers = by_line.get(product_line.get(r["group"]), [])
                lift = float(np.exp(np.median(peers))) if len(peers) >= MIN_PEERS else fleet
                priors[r["group"]] = (lift, 1.0)
    return priors, origin


def _origin_priors(rows: list[dict], tables: dict, weight: float) -> dict[str, dict[str, tuple[float, float]]]:
    """Per group, per past event: the kind model's lift as of that case's cutoff (same lead)."""
    horizon = next(r["_fc"].horizon_days for r in rows if r["_fc"] is not None)
    events = {e.name: e for t in tables.values() for e in t.events}
    long = kind_rows(tables)
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for name, e in events.items():
        model = fit_kind_model(long, before=e.start - pd.Timedelta(days=horizon))
        if model is None:
            continue
        for g in tables:
            lift = model.lift(g, e.kind)
            if lift is not None:
                out.setdefault(g, {})[name] = (lift, weight)
    return out


@dataclass
class FleetForecast:
    target: Event
    cutoff: pd.Timestamp
    table: pd.DataFrame          # ROW_COLUMNS, one row per level x group x metric


def forecast_fleet(store, target: str | Event | None = None, *, cutoff=None, levels: Iterable[str] = LEVELS,
                   metrics: Iterable[str] = FLEET_METRICS, history_days: int = HISTORY_DAYS,
                   workers: int | None = None, stat: str = "max") -> FleetForecast:
    """Forecast the next (or named) promotion for every business and cluster and metric."""
    workers = default_workers() if workers is None else workers
    end = last_data_ts(store) if cutoff is None else int(pd.Timestamp(cutoff).timestamp())
    cut = pd.Timestamp(end, unit="s", tz="UTC")
    events = store_events(store)
    tgt = target if isinstance(target, Event) else pick_target(events, cut, target)
    lines = _product_lines(store)
    frames = []
    for level in levels:
        for metric in metrics:
            series = load_history(store, level, metric, end, history_days, stat)
            if not series:
                continue
            table = forecast_groups(series, events, tgt, cut, product_line=lines[level], workers=workers)
            frames.append(table.assign(level=level, metric=metric))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS)
    return FleetForecast(target=tgt, cutoff=cut, table=table[ROW_COLUMNS + CANDIDATE_COLUMNS])


def _product_lines(store) -> dict[str, dict[str, str]]:
    biz, cl = store.businesses(), store.clusters()
    return {"business": dict(zip(biz["name"], biz["product_line"])),
            "cluster": dict(zip(cl["name"], cl["product_line"])),
            "product_line": {}, "fleet": {}}


# -------------------------------------------------------------------------------- backtest

def backtest_groups(series: Mapping[str, pd.Series], events: Iterable[Event], *, leads: Iterable[int] = LEADS,
                    product_line: Mapping[str, str] | None = None, workers: int = 1,
                    pool_kinds: bool = True) -> pd.DataFrame:
    """Backtest rows like :func:`forecasting.backtest.backtest_series`, with the fleet's pooling.

    Each past promotion (with an earlier one) is forecast for all series at once from each
    cutoff, so the kind model only sees events before the cutoff, as it would have then.
    """
    events = check_events(events)
    end = max(s.index[-1] for s in series.values())
    rows = []
    for i, target in enumerate(events):
        if i == 0 or target.end > end:
            continue
        for lead in leads:
            cutoff = target.start - pd.Timedelta(days=lead)
            past = [e for e in events[:i] if e.end <= cutoff]
            table = forecast_groups(series, events, target, cutoff, product_line=product_line, workers=workers,
                                    pool_kinds=pool_kinds)
            for r in table.to_dict("records"):
                s = series[r["group"]]
                rows.append(dict(series=r["group"], event=target.name, kind=target.kind, lead_days=lead,
                                 truth=peak_of(s, target), point=r["point"], lower=r["lower"], upper=r["upper"],
                                 naive_last=naive_last(s, past, target, cutoff),
                                 naive_year=naive_year(s, past, target, cutoff), n_same_kind=r["n_same_kind"],
                                 method=r["method"], low_confidence=r["low_confidence"], error=r["error"],
                                 **{c: r[c] for c in CANDIDATE_COLUMNS}))
    return pd.DataFrame(rows, columns=ROW_COLUMNS_BT + CANDIDATE_COLUMNS)


def backtest_fleet(store, *, level: str = "business", metrics: Iterable[str] = ("qps",),
                   leads: Iterable[int] = LEADS, history_days: int = HISTORY_DAYS,
                   workers: int | None = None, stat: str = "max", pool_kinds: bool = True) -> pd.DataFrame:
    """Backtest rows for every group and metric at ``level`` (columns of the backtest plus metric, level)."""
    workers = default_workers() if workers is None else workers
    end = last_data_ts(store)
    events = store_events(store)
    lines = _product_lines(store)[level]
    frames = []
    for metric in metrics:
        series = load_history(store, level, metric, end, history_days, stat)
        if series:
            frames.append(backtest_groups(series, events, leads=leads, product_line=lines, workers=workers,
                                          pool_kinds=pool_kinds).assign(metric=metric, level=level))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS_BT)


# -------------------------------------------------------------------------------- capacity

def capacity_plan(store, forecast: FleetForecast, limits: CapacityLimits = CapacityLimits()) -> pd.DataFrame:
    """Capacity plan per cluster from the cluster-level forecasts (see :mod:`forecasting.capacity`)."""
    t = forecast.table
    cl = t[(t["level"] == "cluster") & t["point"].notna()][["group", "metric", "point", "upper", "method",
                                                              "past_mdape", "low_confidence", "reasons"]]
    inst = store.instances()
    live = inst[inst["removed_at"].isna()]
    proxies = live[live["role"] == "proxy"].groupby("cluster").size()
    return plan(cl, store.clusters(), store.businesses(), proxies, memory_by_cluster(_shard_memory(store, live)),
                limits)


def _shard_memory(store, live: pd.DataFrame) -> pd.DataFrame:
    """[cluster, instance, mem_used, mem_max]: the latest memory of every live shard (masters; a
    replica holds its master's data). mem_max 0 is a shard without a limit."""
    series = store.series()
    masters = set(live.loc[live["role"] == "master", "name"])
    s = series[series["metric"].isin(["mem_used", "mem_max"]) & series["instance"].isin(masters)]
    if s.empty:
        return pd.DataFrame(columns=["cluster", "instance", "mem_used", "mem_max"])
    latest = store.latest(s["id"].tolist()).merge(s[["id", "instance", "cluster", "metric"]], left_on="series_id",
                                                  right_on="id")
    wide = latest.pivot_table(index=["cluster", "instance"], columns="metric", values="value", aggfunc="last")
    for col in ("mem_used", "mem_max"):
        if col not in wide:
            wide[col] = np.nan
    return wide.reset_index()[["cluster", "instance", "mem_used", "mem_max"]]
