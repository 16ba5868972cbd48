"""``python app.py forecast``: the next promotion's peaks and capacity plan, or the backtest.

    python app.py forecast                          next promotion, capacity plan (top rows)
    python app.py forecast --promotion 11.11        next 11.11 (or an exact name: "11.11 2026")
    python app.py forecast --promotion 11.11 --csv plan.csv    the full plan for a change ticket
    python app.py forecast --backtest               every past promotion, 1 and 7 days ahead
"""
from __future__ import annotations

import argparse
import sys

import pandas as pd

from forecasting.backtest import failure_reasons, score
from forecasting.capacity import CapacityLimits, act_by, export_csv
from forecasting.fleet import HISTORY_DAYS, LEVELS, backtest_fleet, capacity_plan, forecast_fleet
from forecasting.sizing import SERVICES, fleet_profile, parse_size, size_business

#: the action says what to add (shards, or maxmemory per shard as the alternative, proxies); the
#: CSV keeps add_shards / add_proxies / add_mem_gib, whose memory total beside a shard count misled
PLAN_SHOWN = ["rank", "cluster", "business", "star", "service", "status", "shards", "proxies", "qps_util_point",
              "qps_util_upper", "mem_util_upper", "proxy_util_upper", "action"]
NAMED = 10       # low-confidence groups named before "and N more"


def register(subparsers, parent: argparse.ArgumentParser | None = None) -> None:
    """Add the ``forecast`` command to the app's sub-commands."""
    p = subparsers.add_parser("forecast", parents=[parent] if parent else [],
                              help="peak forecast and capacity plan for a promotion, or the backtest",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--promotion", metavar="NAME|KIND", default=None,
                   help="promotion to forecast: a kind (11.11, 12.12, 6.18, 4.19: the next one) or an exact "
                        "name such as '11.11 2026' (default: the next promotion)")
    p.add_argument("--backtest", action="store_true", help="backtest every past promotion instead")
    p.add_argument("--csv", metavar="PATH", help="write the full capacity plan as CSV")
    p.add_argument("--metric", default="qps", help="metric for --backtest (default qps)")
    p.add_argument("--level", choices=LEVELS, default="business", help="level for --backtest (default business)")
    p.add_argument("--top", type=int, default=20, help="rows of the plan to print (default 20)")
    p.add_argument("--history-days", type=int, default=HISTORY_DAYS, help="days of history read (default 730)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: the CPU count)")
    p.set_defaults(func=cmd_forecast)
    z = subparsers.add_parser("size", parents=[parent] if parent else [],
                              help="size a new business: shards, proxies and memory per shard",
                              description="Shards, proxies and memory per shard for a new business, from the fleet's "
                                          "per-instance capacity, the star's headroom and the promotions' lift of "
                                          "similar businesses.")
    z.add_argument("--qps", type=float, required=True, help="expected normal daily peak QPS")
    z.add_argument("--memory", required=True, help="expected data size, e.g. 64GiB (a bare number is GiB)")
    z.add_argument("--star", type=int, required=True, choices=range(1, 6), help="importance 1..5")
    z.add_argument("--service", choices=SERVICES, default="twemproxy",
                   help="redis, memcached, or a twemproxy pool (default; gets proxies)")
    z.add_argument("--product-line", default=None, help="similar businesses: this product line's (default: the fleet's)")
    z.add_argument("--promotion", metavar="KIND", default=None,
                   help="promotion kind whose lift is applied (default: the one that lifts similar businesses most)")
    z.set_defaults(func=cmd_size)


def cmd_size(args, settings) -> int:
    limits = CapacityLimits.from_settings(settings)
    memory = parse_size(args.memory)
    with args.open_store(settings) as store:
        profile = fleet_profile(store, args.service, args.star, args.product_line, args.promotion, limits)
    s = size_business(args.qps, memory, args.star, profile, limits)
    print(f"{s.shards} shards of {s.mem_per_shard / 2**30:g} GiB maxmemory ({profile.instances_per_shard} instances "
          f"each), {s.proxies} proxies: {s.instances} instances for a peak of {s.peak_qps:,.0f} QPS")
    for line in s.why + profile.notes:
        print(f"  - {line}")
    if profile.similar:
        print(f"  similar businesses: {', '.join(profile.similar)}")
    return 0


def cmd_forecast(args, settings) -> int:
    limits = CapacityLimits.from_settings(settings)   # a bad capacity setting fails before any work
    # the app's opener (every store setting, busy timeout included), set as a parser default by app.py
    with args.open_store(settings) as store:
        if args.backtest:
            return _backtest(store, args)
        return _plan(store, args, limits, settings)


def _pct(x) -> str:
    return "" if pd.isna(x) else f"{x:.1%}"


def _backtest(store, args) -> int:
    rows = backtest_fleet(store, level=args.level, metrics=(args.metric,), history_days=args.history_days,
                          workers=args.workers)
    if rows.empty:
        print("no series to backtest (is the store empty?)")
        return 1
    print(f"backtest: {args.metric} per {args.level}, {rows['series'].nunique()} series, "
          f"{rows['event'].nunique()} promotions, cutoffs 1 and 7 days before each")
    for table in backtest_tables(rows):
        print()
        print(table)
    reasons = failure_reasons(rows)
    print(f"\n{int(reasons.sum())} cases could not be forecast; why:" if len(reasons) else
          "\nevery case was forecast (none failed)")
    for text, n in reasons.items():
        print(f"  {n:6d}  {text}")
    return 0


def backtest_tables(rows: pd.DataFrame) -> list[str]:
    """The backtest's score per lead time, then per history and lead time: counts as whole
    numbers (``score`` hands them back as floats), errors and coverage as percentages."""
    rows = rows.assign(history=(rows["n_same_kind"] > 0).map({False: "kind not seen", True: "kind seen before"}))
    out = []
    for by in ("lead_days", ["history", "lead_days"]):
        table = score(rows, by=by)
        table[["n", "failed"]] = table[["n", "failed"]].astype(int)
        for col in ("mdape", "bias", "coverage_80", "mdape_naive_last", "mdape_naive_year"):
            table[col] = table[col].map(_pct)
        out.append(table[["n", "failed", "mdape", "bias", "coverage_80", "mdape_naive_last",
                          "mdape_naive_year"]].to_string())
    return out


def _plan(store, args, limits: CapacityLimits, settings) -> int:
    fc = forecast_fleet(store, args.promotion, history_days=args.history_days, workers=args.workers)
    plan = capacity_plan(store, fc, limits)
    now = pd.Timestamp.now(tz="UTC")
    for line in plan_report(fc, plan, settings.timezone, int(settings.capacity_lead_days), now, args.top):
        print(line)
    if args.csv:
        path = export_csv(plan, args.csv)
        print(f"capacity plan written to {path} ({len(plan)} clusters)", file=sys.stderr)
    return 0


def _names(names: list[str], first: int = NAMED) -> str:
    """``a, b, c and 12 more``."""
    shown = ", ".join(names[:first])
    return shown + (f" and {len(names) - first} more" if len(names) > first else "")


def plan_report(fc, plan: pd.DataFrame, tz: str, lead_days: int, now: pd.Timestamp, top: int = 20) -> list[str]:
    """What ``forecast`` prints: the forecast's target and data in one time zone (the display
    ``timezone``, named), the low-confidence groups by name, counts per status, the deadline to
    act, and the top rows of the plan with whole numbers as whole numbers."""
    t = fc.table
    failed = int((t["error"] != "").sum())
    fmt = "%Y-%m-%d %H:%M"
    weak = t[t["low_confidence"].astype(bool) & (t["error"] == "")]
    groups = list(dict.fromkeys(f"{lv} {g}" for lv, g in zip(weak["level"], weak["group"])))
    lines = [f"forecast for {fc.target.name} (starts {fc.target.start.tz_convert(tz):{fmt}}), data up to "
             f"{fc.cutoff.tz_convert(tz):{fmt}}; times in {tz}",
             f"{len(t) - failed} series forecast, {failed} failed, {len(weak)} low-confidence"
             + (f" in {len(groups)} businesses and clusters: {_names(groups)} (the CSV's confidence_note says why)"
                if groups else "")]
    counts = plan["status"].value_counts()
    lines.append(f"clusters: {counts.get('over', 0)} over their headroom at the predicted peak, "
                 f"{counts.get('watch', 0)} over it at the upper bound, {counts.get('ok', 0)} ok")
    due = act_by(fc.target.start, lead_days).tz_convert(tz)
    days = (due.normalize() - now.tz_convert(tz).normalize()).days
    when = f"{days} days left" if days >= 0 else f"passed {-days} days ago: change only what is over"
    lines.append(f"act by {due:{fmt}} {tz} ({lead_days} days before the start, setting capacity_lead_days): {when}")
    shown = plan.head(top).copy()
    for col in [c for c in PLAN_SHOWN if "_util_" in c]:
        shown[col] = shown[col].map(_pct)
    for col in ("rank", "star", "shards", "proxies"):
        shown[col] = shown[col].astype(int)
    lines.append(shown[PLAN_SHOWN].to_string(index=False))
    return lines
