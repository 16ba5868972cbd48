"""Store and forecast reads for the ``/promotions`` and ``/capacity`` pages, through the shared cache.

The whole fleet's forecast takes seconds, so it is computed once per (promotion, data version)
for every viewer and worker: the first request takes a lock in the shared cache
(``cache.add``), later ones wait for its result instead of starting their own. The data version
changes when an hour of new data arrives or the promotion calendar changes.
"""
from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from core.errors import ForecastError, PeakwatchError
from dashboard.context import Context
from forecasting.backtest import score
from forecasting.capacity import CapacityLimits, export_csv
from forecasting.compare import align, lift_table
from forecasting.events import Event
from forecasting.events import pick_target as pick_event
from forecasting.fleet import (HISTORY_DAYS, backtest_fleet, capacity_plan, forecast_fleet, last_data_ts,
                               load_history, store_events)
from forecasting.sizing import fleet_profile, size_business
from reports import html as report_html
from reports import readiness

#: levels the promotion comparison offers (the capacity plan forecasts businesses and clusters)
COMPARE_LEVELS = ("business", "cluster", "product_line", "fleet")
COMPARE_METRICS = ("qps", "proxy_qps", "mem_used", "conns")
FORECAST_METRICS = ("qps", "proxy_qps", "mem_used")    # what the capacity plan reads
VERSION_TTL = 60          # new data reaches the pages within a minute of a new hour
RESULT_TTL = 6 * 3600     # a version older than this is recomputed anyway
WAIT_SECONDS = 300        # a viewer waits this long for another's computation before doing it itself


class PageInputError(PeakwatchError):
    """A query parameter or selection the page cannot use; the message says what to pick."""


def data_version(ctx: Context) -> str:
    """The newest hour of data and a digest of the promotion calendar, re-read once a minute."""
    def compute():
        promos = ctx.store.calendar(now=last_data_ts(ctx.store))
        digest = hashlib.blake2b(pd.util.hash_pandas_object(promos, index=False).values, digest_size=6)
        return f"{last_data_ts(ctx.store) // 3600}:{digest.hexdigest()}"
    return ctx.cached("fc:version", VERSION_TTL, compute)


# one computation at a time per process, so concurrent viewers wait for the first one's result
# instead of repeating it (the shared cache then makes it one run for every viewer; forecasting
# itself is thread-safe); re-entrant for plan -> forecast
_COMPUTING = threading.RLock()


def once(ctx: Context, key: str, compute, ttl: int = RESULT_TTL):
    """``compute()`` once for every viewer and worker sharing the cache (the others wait for it)."""
    value = ctx.cache.get(key)
    if value is not None:
        return value
    with _COMPUTING:
        value = ctx.cache.get(key)      # another thread of this process may have just finished it
        if value is not None:
            return value
        lock = f"{key}:lock"
        if not ctx.cache.add(lock, 1, timeout=WAIT_SECONDS):   # another worker process is on it
            value = _wait_for(ctx, key)
            if value is not None:
                return value
        try:
            value = compute()
            ctx.cache.set(key, value, timeout=ttl)
        finally:
            ctx.cache.delete(lock)
    return value


def _wait_for(ctx: Context, key: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.2)
        value = ctx.cache.get(key)
        if value is not None:
            return value
    return None


# ------------------------------------------------------------------------------- calendar

def calendar(ctx: Context) -> dict:
    """{"cutoff": Timestamp of the newest data, "past": [Event], "upcoming": [Event]}."""
    def compute():
        events = store_events(ctx.store)
        cutoff = pd.Timestamp(last_data_ts(ctx.store), unit="s", tz="UTC")
        return {"cutoff": cutoff, "past": [e for e in events if e.end <= cutoff],
                "upcoming": [e for e in events if e.start > cutoff]}
    return ctx.cached(f"fc:calendar:{data_version(ctx)}", RESULT_TTL, compute)


def groups(ctx: Context, level: str) -> list[str]:
    """Names a level offers (businesses, clusters, product lines, or just ``fleet``)."""
    if level == "fleet":
        return ["fleet"]
    if level == "cluster":
        return sorted(ctx.store.clusters()["name"])
    column = "name" if level == "business" else "product_line"
    return sorted(ctx.store.businesses()[column].dropna().unique())


def pick_target(cal: dict, which: str | None) -> Event:
    """The promotion to plan for: an exact name or a kind (its next one), default the next one
    (:func:`forecasting.events.pick_target`'s rules; its message becomes the page's)."""
    try:
        return pick_event(cal["past"] + cal["upcoming"], cal["cutoff"], which)
    except ForecastError as exc:
        raise PageInputError(str(exc)) from exc


# ----------------------------------------------------------------------------- comparison

def group_history(store, level: str, group: str, metric: str, end: int, days: int = HISTORY_DAYS) -> pd.Series:
    """Hourly maxima of one group (the midnight spike lasts minutes; hourly means hide it)."""
    groups = None if level == "fleet" else [group]
    return load_history(store, level, metric, end, days, groups=groups).get(group, pd.Series(dtype="float64"))


def comparison(ctx: Context, level: str, group: str, metric: str) -> dict:
    """{"aligned": compare.align rows (past promotions and "today"), "lifts": compare.lift_table}."""
    cal = calendar(ctx)

    def compute():
        if not cal["past"]:
            raise PageInputError("No past promotion in the calendar yet: nothing to compare.")
        s = group_history(ctx.store, level, group, metric, int(cal["cutoff"].timestamp()))
        if s.empty:
            raise PageInputError(f"{level} {group!r} has no {metric} history; pick another metric or group.")
        past = [e for e in cal["past"] if e.end <= s.index[-1]]
        return {"aligned": align(s, past, today=True), "lifts": lift_table(s, past)}
    return once(ctx, f"fc:compare:{level}:{group}:{metric}:{data_version(ctx)}", compute)


# ------------------------------------------------------------------------------- capacity

def fleet_forecast(ctx: Context, target: Event):
    """Every business and cluster forecast for ``target`` (the seconds-long part, once per version)."""
    def compute():
        # one process: forking a threaded web server is unsafe; the cache makes this once an hour
        return forecast_fleet(ctx.store, target, metrics=FORECAST_METRICS, workers=1)
    return once(ctx, f"fc:fleet:{target.name}:{data_version(ctx)}", compute)


def capacity(ctx: Context, target: Event) -> pd.DataFrame:
    """The ranked capacity plan per cluster for ``target`` (forecasting.capacity.PLAN_COLUMNS)."""
    limits = CapacityLimits.from_settings(ctx.settings)
    key = f"fc:plan:{target.name}:{data_version(ctx)}:{limits}"
    return once(ctx, key, lambda: capacity_plan(ctx.store, fleet_forecast(ctx, target), limits))


def compute_plan(ctx: Context, target: Event, version: str):
    """(fleet forecast, capacity plan) of ``target``, computed now and shared under the keys
    :func:`fleet_forecast`, :func:`capacity` and the readiness report read. The background warmer
    calls this (outside ``once``'s process lock, so requests never queue behind it)."""
    limits = CapacityLimits.from_settings(ctx.settings)
    fc = forecast_fleet(ctx.store, target, metrics=FORECAST_METRICS, workers=1)
    ctx.cache.set(f"fc:fleet:{target.name}:{version}", fc, timeout=RESULT_TTL)
    plan = capacity_plan(ctx.store, fc, limits)
    ctx.cache.set(f"fc:plan:{target.name}:{version}:{limits}", plan, timeout=RESULT_TTL)
    return fc, plan


def backtest_summary(ctx: Context, lead_days: int = 7) -> dict:
    """How well the method did on this fleet's past promotions: every past promotion forecast
    ``lead_days`` ahead for every business's qps from the data before it (the rows are shared
    with the readiness report). {"version", "n", "promotions", "mdape", "coverage_80"}."""
    version = data_version(ctx)
    key = f"fc:backtest:{version}"
    rows = ctx.cache.get(key)
    if rows is None:
        rows = backtest_fleet(ctx.store, level="business", metrics=("qps",), workers=1)
        ctx.cache.set(key, rows, timeout=RESULT_TTL)
    rows = rows[rows["lead_days"] == lead_days]
    if rows.empty:
        return {"version": version, "n": 0, "promotions": 0, "mdape": float("nan"), "coverage_80": float("nan")}
    s = score(rows).iloc[0]
    return {"version": version, "n": int(s["n"]), "promotions": int(rows["event"].nunique()),
            "mdape": float(s["mdape"]), "coverage_80": float(s["coverage_80"])}


def readiness_html(ctx: Context, target: Event) -> str:
    """The readiness report for ``target`` (the same file as ``app.py report``), from the page's
    cached fleet forecast and a backtest cached per data version."""
    limits = CapacityLimits.from_settings(ctx.settings)
    version = data_version(ctx)

    def compute():
        rows = once(ctx, f"fc:backtest:{version}",
                    lambda: backtest_fleet(ctx.store, level="business", metrics=("qps",), workers=1))
        r = readiness.build(ctx.store, target, limits, forecast=fleet_forecast(ctx, target), backtest_rows=rows)
        return report_html.readiness(r, pd.Timestamp(ctx.clock(), unit="s", tz="UTC"), ctx.tz)
    return once(ctx, f"fc:readiness:{target.name}:{version}:{limits}", compute)


def sizing(ctx: Context, qps, memory_gib, star, service: str, product_line: str | None, kind: str | None):
    """A new business's sizing (forecasting.sizing); the fleet profile is cached per data version."""
    limits = CapacityLimits.from_settings(ctx.settings)
    missing = [name for name, v in (("the expected peak QPS", qps), ("the memory in GiB", memory_gib), ("the star", star))
               if not isinstance(v, (int, float)) or v != v]
    if missing:   # the browser sends nothing for a number outside the field's range
        raise PageInputError(f"Give {' and '.join(missing)} as a positive number.")
    qps, memory, star = float(qps), float(memory_gib) * 2**30, int(star)
    key = f"fc:profile:{service}:{star}:{product_line}:{kind}:{data_version(ctx)}:{limits}"
    try:
        profile = once(ctx, key, lambda: fleet_profile(ctx.store, service, star, product_line or None, kind or None,
                                                       limits))
        return size_business(qps, memory, star, profile, limits)
    except ForecastError as exc:
        raise PageInputError(str(exc)) from exc


def plan_csv(plan: pd.DataFrame) -> str:
    """The plan as the CLI's ``--csv`` writes it (same columns and units)."""
    with tempfile.TemporaryDirectory() as tmp:
        return export_csv(plan, Path(tmp) / "plan.csv").read_text()
