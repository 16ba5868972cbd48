"""Forecast benchmark: fleet forecast time, synthetic-fleet backtest, optional Prophet comparison.

    python benchmarks/forecast_bench.py [--scale 300] [--store PATH] [--workers 2]
                                        [--businesses 3000] [--prophet-python PATH]

1. A demo store (the synthetic fleet, two years of hourly history) is built at ``--scale``
   instances, or reused from ``--store``.
2. Backtest: every past promotion per business (qps), cutoffs 1 and 7 days before, on hourly
   maxima (the default) and hourly averages; MdAPE, bias, 80% coverage, naive baselines.
3. ``fleet_demo_s``: the real runner on that store (every business and cluster x qps, mem_used,
   conns, proxy_qps, store reads included).
4. ``fleet_s``: ``--businesses`` x 2 metrics (qps, mem_used) forecast with ``--workers``
   processes; the series are the store's business series reused round-robin (the demo store
   has fewer businesses), so this measures forecasting compute, not store reads.
5. Real series (tests/data, vendored with their licences; nothing downloaded): US births per day
   and Capital Bikeshare rentals per hour with the federal holidays, NYC taxi passengers (NAB)
   with its holidays and New Year. Every event with an earlier one is forecast 1 and 7 days
   before it; per series: the model's MdAPE, the naive last same-kind lift's, and
   ``real_ratio_vs_naive`` = the worst series' model / naive ratio (target <= 0.9).
6. Prophet (optional): with ``--prophet-python`` pointing at an interpreter that has prophet,
   one business series is fit with the promotions as holidays and timed there; the speedup is
   Prophet's time per series over ours. Absent: ``speedup_vs_prophet`` is null.

The last line of output is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forecasting.backtest import backtest_series, score  # noqa: E402
from forecasting.events import events_from_records, pick_target  # noqa: E402
from forecasting.fleet import (backtest_fleet, forecast_fleet, forecast_groups, last_data_ts,  # noqa: E402
                               load_history, store_events)

DATA = ROOT / "tests" / "data"     # data files only: a benchmark imports nothing from tests/
NYC_EVENTS = [
    {"name": "Independence Day 2014", "kind": "holiday", "start": "2014-07-04", "end": "2014-07-05"},
    {"name": "Labor Day 2014", "kind": "holiday", "start": "2014-09-01", "end": "2014-09-02"},
    {"name": "NYC marathon 2014", "kind": "city", "start": "2014-11-02", "end": "2014-11-03"},
    {"name": "Thanksgiving 2014", "kind": "holiday", "start": "2014-11-27", "end": "2014-11-28"},
    {"name": "Christmas 2014", "kind": "holiday", "start": "2014-12-25", "end": "2014-12-26"},
    {"name": "New Year 2015", "kind": "new-year", "start": "2014-12-31 12:00", "end": "2015-01-01 12:00"},
]


def real_series() -> dict[str, tuple[pd.Series, list]]:
    """name -> (series, events) of the vendored real data (see each folder's README)."""
    def csv(path, col, ts):
        return pd.read_csv(path, index_col=ts, parse_dates=True)[col].astype(float)

    def labels(path):
        return events_from_records(json.loads(Path(path).read_text()))
    return {
        "us_births_daily": (csv(DATA / "births" / "us_births_2000_2014.csv", "births", "date"),
                            labels(DATA / "births" / "holidays.json")),
        "bikeshare_hourly": (csv(DATA / "bikeshare" / "capital_bikeshare_hourly_2012_2019.csv.gz", "count", "ts"),
                             labels(DATA / "bikeshare" / "holidays.json")),
        "nyc_taxi_30min": (csv(DATA / "nab" / "nyc_taxi.csv", "value", "timestamp"), events_from_records(NYC_EVENTS)),
    }


def real_figures() -> dict:
    """Per real series and lead: n, failed, model MdAPE, naive last-lift MdAPE, ratio, coverage."""
    out, ratios = {}, []
    for name, (s, events) in real_series().items():
        rows = backtest_series(s, events, name=name)
        for lead in (1, 7):
            r = score(rows[rows["lead_days"] == lead]).iloc[0]
            ratio = r["mdape_on_last_rows"] / r["mdape_naive_last"] if r["mdape_naive_last"] > 0 else np.nan
            ratios.append(ratio)
            out[f"{name}_{lead}d"] = {"n": int(r["n"]), "failed": int(r["failed"]), "mdape": round(r["mdape"], 4),
                                      "mdape_naive_last": round(r["mdape_naive_last"], 4),
                                      "mdape_naive_year": None if pd.isna(r["mdape_naive_year"]) else
                                      round(r["mdape_naive_year"], 4),
                                      "ratio_vs_naive": round(ratio, 3), "coverage_80": round(r["coverage_80"], 3),
                                      "methods": rows[rows["lead_days"] == lead]["method"].value_counts().to_dict()}
    return {"real": out, "real_ratio_vs_naive": round(float(np.nanmax(ratios)), 3)}

PROPHET_SCRIPT = """
import sys, time, json, pandas as pd
from prophet import Prophet
import logging; logging.getLogger("cmdstanpy").disabled = True
s = pd.read_csv(sys.argv[1], parse_dates=["ds"])
h = pd.read_csv(sys.argv[2], parse_dates=["ds"], dtype={"holiday": str})
t = time.perf_counter()
m = Prophet(holidays=h, weekly_seasonality=True, daily_seasonality=True, yearly_seasonality=False)
m.fit(s)
future = m.make_future_dataframe(periods=int(sys.argv[3]), freq="h", include_history=False)
m.predict(future)
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def build_store(url: str, scale: int) -> None:
    from collectors.synthetic.fleet import DEFAULT_ANCHOR
    from collectors.synthetic.source import SyntheticSource
    from store import Store
    with Store.open(url) as store:
        SyntheticSource(store, scale=scale, seed=7, clock=lambda: DEFAULT_ANCHOR).bootstrap(
            history_days=730, raw_hours=1)


def backtest_figures(store, workers: int, stat: str) -> dict:
    rows = backtest_fleet(store, metrics=("qps",), workers=workers, stat=stat)
    out = {}
    for label, part in (("all", rows), ("seen", rows[rows["n_same_kind"] > 0])):
        for lead in (1, 7):
            s = score(part[part["lead_days"] == lead]).iloc[0]
            key = f"{label}_{lead}d"
            out[key] = {k: (None if pd.isna(s[k]) else round(float(s[k]), 4)) for k in
                        ("n", "failed", "mdape", "bias", "coverage_80", "mdape_naive_last", "mdape_naive_year",
                         "mdape_on_last_rows", "mdape_on_year_rows")}
    return out


def fleet_compute(store, businesses: int, workers: int) -> tuple[float, int, float]:
    end = last_data_ts(store)
    events = store_events(store)
    target = pick_target(events, pd.Timestamp(end, unit="s", tz="UTC"))
    series = {}
    for metric in ("qps", "mem_used"):
        pool = list(load_history(store, "business", metric, end).values())
        for i in range(businesses):
            series[f"{metric}/b{i:05d}"] = pool[i % len(pool)]
    t = time.perf_counter()
    table = forecast_groups(series, events, target, pd.Timestamp(end, unit="s", tz="UTC"), workers=workers)
    seconds = time.perf_counter() - t
    failed = int((table["error"] != "").sum())
    return seconds, len(series), failed


def prophet_speedup(store, python: str | None, ours_per_series: float) -> dict:
    if not python:
        return {"speedup_vs_prophet": None, "prophet_s_per_series": None, "prophet_note": "not run"}
    end = last_data_ts(store)
    events = store_events(store)
    series = next(iter(load_history(store, "business", "qps", end).values()))
    target = pick_target(events, pd.Timestamp(end, unit="s", tz="UTC"))
    with tempfile.TemporaryDirectory() as tmp:
        s = pd.DataFrame({"ds": series.index.tz_localize(None), "y": series.to_numpy()})
        s.to_csv(f"{tmp}/s.csv", index=False)
        h = pd.DataFrame([{"holiday": e.kind, "ds": e.start.tz_convert("UTC").tz_localize(None).floor("D"),
                           "lower_window": -e.preheat.days, "upper_window": 1} for e in events])
        h.to_csv(f"{tmp}/h.csv", index=False)
        Path(f"{tmp}/p.py").write_text(PROPHET_SCRIPT)
        hours = int((target.end - pd.Timestamp(end, unit="s", tz="UTC")) / pd.Timedelta(hours=1)) + 1
        done = subprocess.run([python, f"{tmp}/p.py", f"{tmp}/s.csv", f"{tmp}/h.csv", str(hours)],
                              capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return {"speedup_vs_prophet": None, "prophet_s_per_series": None,
                "prophet_note": done.stderr.strip().splitlines()[-1][:200] if done.stderr else "failed"}
    seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return {"speedup_vs_prophet": round(seconds / ours_per_series, 1), "prophet_s_per_series": round(seconds, 3),
            "prophet_note": "one business qps series, promotions as holidays (pre-heat as lower_window)"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, default=300)
    ap.add_argument("--store", help="reuse this SQLite file (built when missing)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--businesses", type=int, default=3000)
    ap.add_argument("--prophet-python", default=os.environ.get("PEAKWATCH_BENCH_PROPHET_PYTHON"))
    ap.add_argument("--skip-avg", action="store_true", help="skip the backtest on hourly averages")
    ap.add_argument("--real-only", action="store_true", help="only the real series (no store, no fleet)")
    args = ap.parse_args(argv)
    from store import Store

    real = real_figures()
    for key, r in real["real"].items():
        print(f"real {key:22s} n={r['n']:3d} failed={r['failed']} MdAPE {r['mdape']:.1%} | naive last lift "
              f"{r['mdape_naive_last']:.1%} (ratio {r['ratio_vs_naive']:.2f}) | coverage {r['coverage_80']:.0%} "
              f"| {r['methods']}", flush=True)
    print(f"real_ratio_vs_naive (worst series) {real['real_ratio_vs_naive']:.2f}", flush=True)
    if args.real_only:
        print(json.dumps({**real, "load_avg_1m": round(os.getloadavg()[0], 2)}))
        return 0

    tmp = None
    if args.store:
        path = Path(args.store)
    else:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "bench.sqlite"
    url = f"sqlite:///{path}"
    t = time.perf_counter()
    if not path.exists():
        build_store(url, args.scale)
    build_s = time.perf_counter() - t
    with Store.open(url) as store:
        n_biz = len(store.businesses())
        print(f"store: scale {args.scale}, {n_biz} businesses, {len(store.clusters())} clusters "
              f"(built in {build_s:.0f} s)", flush=True)
        bt_max = backtest_figures(store, args.workers, "max")
        bt_avg = {} if args.skip_avg else backtest_figures(store, args.workers, "avg")
        for label, bt in (("hourly max", bt_max), ("hourly avg", bt_avg)):
            for key, s in bt.items():
                print(f"backtest {label:10s} {key:8s} n={s['n']:.0f} MdAPE {s['mdape']:.1%} bias {s['bias']:+.1%} "
                      f"coverage {s['coverage_80']:.0%} | naive last {s['mdape_naive_last']:.1%} "
                      f"(model on those rows {s['mdape_on_last_rows']:.1%}), naive year "
                      f"{(s['mdape_naive_year'] or float('nan')):.1%} "
                      f"(model on those rows {(s['mdape_on_year_rows'] or float('nan')):.1%})", flush=True)
        t = time.perf_counter()
        demo = forecast_fleet(store, workers=args.workers)
        fleet_demo_s = time.perf_counter() - t
        print(f"fleet runner on the store: {len(demo.table)} series in {fleet_demo_s:.1f} s", flush=True)
        fleet_s, n_series, failed = fleet_compute(store, args.businesses, args.workers)
        per_series = fleet_s * args.workers / n_series
        print(f"fleet compute: {n_series} series ({args.businesses} businesses x 2 metrics) in {fleet_s:.1f} s "
              f"with {args.workers} workers ({per_series * 1000:.1f} ms CPU per series), {failed} failed",
              flush=True)
        prophet = prophet_speedup(store, args.prophet_python, per_series)
    if tmp is not None:
        tmp.cleanup()
    result = {
        "fleet_s": round(fleet_s, 2), "fleet_series": n_series, "workers": args.workers,
        "ms_per_series": round(per_series * 1000, 2), "fleet_demo_s": round(fleet_demo_s, 2),
        "fleet_demo_series": len(demo.table), "scale": args.scale, "businesses_in_store": n_biz,
        "backtest_mape_7d": bt_max["all_7d"]["mdape"], "coverage_80": bt_max["all_7d"]["coverage_80"],
        "backtest_mape_7d_seen_kind": bt_max["seen_7d"]["mdape"],
        "coverage_80_seen_kind": bt_max["seen_7d"]["coverage_80"],
        "backtest": {"hourly_max": bt_max, "hourly_avg": bt_avg}, **real,
        "load_avg_1m": round(os.getloadavg()[0], 2), **prophet,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
