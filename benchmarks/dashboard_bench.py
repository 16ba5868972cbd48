"""Dashboard benchmark: wall callback at 3,000 and 30,000 instances, business history callback,
paint time of the wall in Chromium, bytes per wall refresh. Ends with one JSON line.

    python benchmarks/dashboard_bench.py [--quick] [--chromium /usr/bin/chromium]

``wall_ms_30k`` / ``wall_ms_30k_cached`` time the callback with no background warmer (cold = it
computes); ``wall_ms_30k_after_pass`` is what a viewer waits for after a collection pass with the
warmer running (the slowest refresh until the pass shows; ``wall_new_data_s_30k`` = how long until
it shows).

``--capacity`` adds ``capacity_paint_ms_3k``: Chromium, navigation start to the capacity page's
recommendation table painted, served with the background warmer (which computed the plan after the
first view; ``capacity_first_plan_s_3k`` is that first view's wait). ``--only-capacity
--demo-store PATH`` runs just that.

``--fleet-page`` adds ``fleet_page_ms_90d`` / ``fleet_page_ms_730d``: the fleet page's data, cold,
and ``..._blocks_cached``: the same once its settled 28-day blocks are in the shared cache.

Targets (issue 4): wall callback <= 150 ms at 30,000 instances; history callback <= 200 ms for
7 days of a 128-shard cluster; all tiles painted <= 2 s at 3,000 instances. Issue 12:
``business_paint_ms`` (the business page's charts and tables drawn in Chromium, 3,000 instances)
<= 2,000 ms; ``--business-only`` measures just that; the capacity page's first useful paint
(``capacity_paint_ms_3k``) <= 3,000 ms at 3,000 instances.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from collectors.synthetic import scenarios as fleetdata  # noqa: E402
from core.settings import load_settings  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from store import Store  # noqa: E402
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec  # noqa: E402


def build(n: int, tmp: Path, now: int):
    url = f"sqlite:///{tmp / f'fleet{n}.sqlite'}"
    store = Store.open(url)
    t0 = time.perf_counter()
    fleetdata.write_fleet(store, fleetdata.build_inventory(n, hot_shards=16), now, raw_hours=2,
                          instance_raw_hours=0.1)
    print(f"# {n} instances written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return store


def make_app(store, **settings):
    settings.setdefault("wall_warm_seconds", 0)   # callbacks timed as they compute; warm runs ask for it
    env = {"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_TYPE": "simple"}
    return create_app(store, load_settings(cli=settings, env=env))


def wall_callback_ms(app, store, now: int, repeats: int = 5) -> tuple[float, float]:
    """(cold, cached) ms of the wall refresh callback as a browser calls it (showing the previous
    version). cold = first call of a refresh interval after a collection pass (computes the
    snapshot every viewer then shares); cached = every other viewer in that interval."""
    from dashboard import page_cache as cached
    from dashboard.app import page_modules
    wall = next(m for m in page_modules() if m.__name__.endswith("wall"))
    ctx = app.server.extensions["peakwatch"]
    series = store.series()
    ids = series.loc[series["instance"].isna(), "id"].to_numpy()
    rng = np.random.default_rng(2)
    cold, warm = [], []
    with app.server.test_request_context("/"):
        for k in range(repeats):
            t = now + 60 * k
            ctx.clock = lambda t=t: t
            snap = cached.wall_snapshot(ctx)
            state = {"v": snap["version"], "inv": _inventory_key(snap)}
            store.write_samples(ids, np.full(len(ids), t + 60), rng.uniform(1e4, 2e4, len(ids)))
            ctx.clock = lambda t=t: t + 60
            t0 = time.perf_counter()
            wall.refresh(1, state)
            cold.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            wall.refresh(2, state)
            warm.append((time.perf_counter() - t0) * 1000)
    return statistics.median(cold), statistics.median(warm)


def wall_after_pass_warm(app, store, now: int, passes: int = 5) -> dict:
    """With the background warmer running (dashboard.warmer, as in production): a collection pass
    lands, then a viewer refreshes every 0.2 s until the pass shows. Per pass: the slowest of those
    refreshes (what a viewer waits for after a pass) and the seconds until the new data showed.
    Medians over the passes; the warmer's own computation runs in its thread meanwhile (so the
    viewer times include its contention for the interpreter)."""
    from dash import no_update

    from dashboard import page_cache as cached
    from dashboard import warmer as wm
    from dashboard.app import page_modules
    wall = next(m for m in page_modules() if m.__name__.endswith("wall"))
    ctx = app.server.extensions["peakwatch"]
    w = app.server.extensions["peakwatch_warmer"]
    w.every_s = 0.5
    series = store.series()
    ids = series.loc[series["instance"].isna(), "id"].to_numpy()
    rng = np.random.default_rng(3)
    refresh = ctx.settings.refresh_seconds

    def warmed(t):   # the warmer has computed the interval containing t (it does so between passes)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with app.server.app_context():
                mark = ctx.cache.get(wm.MARK_KEY)
            if mark is not None and mark[1] == t // refresh:
                return
            time.sleep(0.05)
        raise RuntimeError("the warmer did not warm the wall")

    slowest, all_ms, visible_s = [], [], []
    ctx.clock = lambda: now
    with app.server.test_request_context("/"):
        w.ensure_started()
        warmed(now)
        snap = cached.wall_snapshot(ctx)
        state = {"v": snap["version"], "inv": _inventory_key(snap)}
        for k in range(1, passes + 1):
            t = now + 60 * k
            ctx.clock = lambda t=t: t
            warmed(t)
            shown = cached.wall_snapshot(ctx)   # the viewer is up to date before the pass (warm: no compute)
            state = {"v": shown["version"], "inv": _inventory_key(shown)}
            store.write_samples(ids, np.full(len(ids), t), rng.uniform(1e4, 2e4, len(ids)))
            t_pass = time.perf_counter()
            times = []
            while time.perf_counter() - t_pass < 120:
                t0 = time.perf_counter()
                diff = wall.refresh(k, state)[0]
                times.append((time.perf_counter() - t0) * 1000)
                if diff is not no_update and diff["v"] != state["v"]:
                    state = {"v": diff["v"], "inv": diff["inv"]}
                    break
                time.sleep(0.2)
            visible_s.append(time.perf_counter() - t_pass)
            slowest.append(max(times))
            all_ms += times
    w.stop()
    return {"slowest_ms": statistics.median(slowest), "median_ms": statistics.median(all_ms),
            "visible_s": statistics.median(visible_s)}


def refresh_bytes(app, store, now: int) -> int:
    """Bytes of the wall refresh response after one new collection pass (every cluster series
    gets a new point), against the version the browser was showing."""
    import dash  # noqa: F401
    from dashboard import page_cache as cached
    client = app.server.test_client()
    with app.server.test_request_context("/"):
        ctx = app.server.extensions["peakwatch"]
        snap = cached.wall_snapshot(ctx)
        cached.wall_views(ctx, snap)
    state = {"v": snap["version"], "inv": _inventory_key(snap), "crit": [], "sound": False}
    series = store.series()
    ids = series.loc[series["instance"].isna(), "id"].to_numpy()
    store.write_samples(ids, np.full(len(ids), now + 60), np.random.default_rng(1).uniform(1e4, 2e4, len(ids)))
    outputs = [("wall-diff", "data"), ("wall-flags", "children"), ("wall-counts", "children"),
               ("wall-grid", "data"), ("wall-age-data", "data")]
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "wall-tick", "property": "n_intervals", "value": 1}],
            "state": [{"id": "wall-state", "property": "data", "value": state}],
            "changedPropIds": ["wall-tick.n_intervals"]}
    client.get("/")
    ctx.clock = lambda: now + 60 + ctx.settings.refresh_seconds   # the next refresh interval
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.data[:500]
    return len(resp.data)


def _inventory_key(snap):
    import hashlib
    return hashlib.blake2b("\n".join(snap["tiles"]["business"]).encode(), digest_size=8).hexdigest()


def history_ms(tmp: Path, now: int, repeats: int = 5) -> float:
    """History callback for 7 days of a 128-shard redis cluster (rollups; per cluster, summed)."""
    store = Store.open(f"sqlite:///{tmp / 'h128.sqlite'}")
    inv = Inventory(product_lines=[ProductLine("trade")], businesses=[Business("big", "trade", 5)],
                    clusters=[Cluster("big-re01", "big", "redis", 128, 80_000, 8 << 30)])
    for s in range(128):
        name = f"10.9.0.{s}:6379"
        inv.instances.append(Instance(name, "big-re01", f"10.9.0.{s}", 6379, "master", s))
        inv.series += [SeriesSpec(f"{name}/{m}", m, "big-re01", name) for m in ("qps", "mem_util")]
    inv.series.append(SeriesSpec("cluster:big-re01/qps", "qps", "big-re01"))
    ids = store.upsert_inventory(inv)
    fleetdata.write_history(store, inv, ids, now, 30, np.random.default_rng(0))
    app = make_app(store)
    from dashboard.app import page_modules
    business = next(m for m in page_modules() if m.__name__.endswith("business"))
    from dashboard import labels as lb
    start = lb.when(now - 7 * 86400, "Asia/Shanghai", "%Y-%m-%d")
    end = lb.when(now, "Asia/Shanghai", "%Y-%m-%d")
    times = {}
    with app.server.test_request_context("/"):
        for metric in ("qps", "mem_util"):
            runs = []
            for _ in range(repeats):
                app.server.extensions["peakwatch"].cache.clear()
                t0 = time.perf_counter()
                fig, msg, _span = business.history_update(start, end, metric, [], "big")
                runs.append((time.perf_counter() - t0) * 1000)
                assert not msg, msg
            times[metric] = statistics.median(runs)
    store.close()
    return times


def fleet_page_ms(tmp: Path, store_path: str | None, repeats: int = 3) -> dict:
    """The fleet page's data (fleet_data: reads/writes by day and product line, instances over
    time, growth), cold (it is computed once per 5 minutes and shared), for 90 and 730 days of a
    3,000-instance synthetic store with two years of cluster history (bootstrapped unless
    ``store_path`` names one already built)."""
    from collectors.synthetic.source import SyntheticSource
    from dashboard import fleet_data as fd
    url = f"sqlite:///{store_path or tmp / 'demo3k.sqlite'}"
    store = Store.open(url)
    src = SyntheticSource(store, scale=3000, seed=7)
    if store_path is None:
        t0 = time.perf_counter()
        src.bootstrap(history_days=730, raw_hours=1)
        print(f"# synthetic 3,000 with 730 days written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    now = int(time.time())
    tiles = store.businesses()[["name"]].rename(columns={"name": "business"}).assign(qps=1.0)
    out = {}
    for days in (90, 730):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            data = fd.fleet_data(store, now, days, "Asia/Shanghai", tiles)
            runs.append((time.perf_counter() - t0) * 1000)
        assert data["rw"] is not None and len(data["rw"]["total"]) >= days - 2, "the store lacks history"
        out[f"fleet_page_ms_{days}d"] = statistics.median(runs)
    # what every later view costs: settled 28-day blocks come from the shared cache
    cache: dict = {}

    def memo(key, ttl, compute):
        if key not in cache:
            cache[key] = compute()
        return cache[key]
    fd.fleet_data(store, now, 730, "Asia/Shanghai", tiles, memo)
    for days in (90, 730):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fd.fleet_data(store, now, days, "Asia/Shanghai", tiles, memo)
            runs.append((time.perf_counter() - t0) * 1000)
        out[f"fleet_page_ms_{days}d_blocks_cached"] = statistics.median(runs)
    store.close()
    return out


def paint_ms(store, chromium: str, n_tiles: int, repeats: int = 3) -> float:
    """Chromium: navigation start to every tile painted, 1080p, served by a real server."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server
    app = make_app(store)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/?kiosk=1"
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for i in range(repeats + 1):
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function(f"() => document.querySelectorAll('#wall-groups .tile').length >= {n_tiles}",
                                   timeout=60_000, polling="raf")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            if i:   # the first load warms the server's cache and the browser's script cache
                runs.append((time.perf_counter() - t0) * 1000)
            page.close()
        browser.close()
    server.shutdown()
    return statistics.median(runs)


def capacity_paint_ms(store_path: str, chromium: str, tmp: Path, repeats: int = 3) -> dict:
    """Chromium, 1920x1080: navigation start to the capacity page's first useful paint (the
    recommendation table's rows painted), served by a real server with the background warmer on,
    on a 3,000-instance synthetic store with two years of history.

    The first view ever finds no plan: the page says so and the warmer computes the plan and the
    backtest summary in the background (``capacity_first_plan_s_3k``: seconds until that view
    showed the table). Then ``repeats`` fresh page loads are timed, as every later viewer sees it."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from dashboard import page_cache as cached
    store = Store.open(f"sqlite:///{store_path}")
    env = {"PEAKWATCH_STORE_URL": store.url}
    app = create_app(store, load_settings(cli={"cache_type": "filesystem", "cache_dir": str(tmp / "capcache")},
                                          env=env))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/capacity"
    ctx = app.server.extensions["peakwatch"]
    rows = "() => document.querySelectorAll('#cap-plan-table tbody tr').length > 0"
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(rows, timeout=900_000, polling=500)
        out["capacity_first_plan_s_3k"] = time.perf_counter() - t0
        deadline = time.monotonic() + 900       # the warmer then computes the backtest summary
        with app.server.app_context():
            while cached.backtest_summary(ctx) is None and time.monotonic() < deadline:
                time.sleep(1)
        page.close()
        runs = []
        for i in range(repeats + 1):
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function(rows, timeout=120_000, polling="raf")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            if i:   # the first load warms the browser's script cache
                runs.append((time.perf_counter() - t0) * 1000)
            page.close()
        browser.close()
    server.shutdown()
    app.server.extensions["peakwatch_warmer"].stop()
    store.close()
    out["capacity_paint_ms_3k"] = statistics.median(runs)
    return out


def business_paint_ms(store, chromium: str, now: int, repeats: int = 3) -> tuple[float, float]:
    """(warm median, cold) ms in Chromium at 1080p from navigation start to the business page's
    first useful paint: the realtime and history charts drawn with their lines, and the flags and
    instance tables shown, for the biggest business (the 16-shard HOT cluster, 34 instances) of a
    3,000-instance store after one alert-engine cycle. Cold = the first load (server caches
    empty); warm = later viewers (the history callback's 60 s cache)."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server
    from alerting import config as acfg
    from alerting.engine import Engine
    app = make_app(store)
    env = {"PEAKWATCH_STORE_URL": store.url}
    Engine(store, load_settings(env=env), acfg.parse({"interval": 1}), holder="bench").run_once(now)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/business/{fleetdata.HOT}"
    drawn = """() => ['rt-graph', 'hist-graph'].every(id => {
        const g = document.querySelector('#' + id + ' .js-plotly-plot');
        return g && g.data && g.data.length && g.data[0].x && g.data[0].x.length && g._fullLayout;
      }) && document.querySelector('#inst-redis') && document.querySelector('#hist-points').textContent"""
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(repeats + 1):
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_function(drawn, timeout=120_000, polling="raf")
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            runs.append((time.perf_counter() - t0) * 1000)
            page.close()
        browser.close()
    server.shutdown()
    return statistics.median(runs[1:]), runs[0]


def main() -> None:
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--quick", action="store_true", help="3,000 instances only (no 30,000 run)")
    ap.add_argument("--fleet-page", action="store_true",
                    help="also time the fleet page's data on a 3,000-instance synthetic store with 730 days "
                         "(bootstraps one: a few minutes; or give --demo-store)")
    ap.add_argument("--demo-store", help="path of a synthetic 3,000-instance SQLite store with 730 days of history")
    ap.add_argument("--capacity", action="store_true",
                    help="also time the capacity page's first useful paint in Chromium on a 3,000-instance store "
                         "with 730 days (--demo-store, else bootstrapped: a few minutes)")
    ap.add_argument("--only-capacity", action="store_true", help="only the capacity page (needs --demo-store)")
    ap.add_argument("--business-only", action="store_true",
                    help="only business_paint_ms (the business page's first paint in Chromium, 3,000 instances)")
    args = ap.parse_args()
    now = int(time.time())
    import os
    out: dict = {"date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0],
                 "load_avg_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.only_capacity:
            out.update(capacity_paint_ms(args.demo_store, args.chromium, tmp))
            print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}))
            return
        s3 = build(3000, tmp, now)
        out["business_paint_ms"], out["business_paint_ms_cold"] = business_paint_ms(s3, args.chromium, now)
        if args.business_only:
            print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}))
            return
        app3 = make_app(s3)
        out["paint_ms_3k"] = paint_ms(s3, args.chromium, len(s3.businesses()))
        out["wall_refresh_bytes"] = refresh_bytes(make_app(s3), s3, now)
        out["wall_ms_3k"], out["wall_ms_3k_cached"] = wall_callback_ms(app3, s3, now + 600)
        warm = wall_after_pass_warm(make_app(s3, wall_warm_seconds=0.5), s3, now + 1200)
        out["wall_ms_3k_after_pass"], out["wall_new_data_s_3k"] = warm["slowest_ms"], warm["visible_s"]
        s3.close()
        if not args.quick:
            s30 = build(30000, tmp, now)
            out["wall_ms_30k"], out["wall_ms_30k_cached"] = wall_callback_ms(make_app(s30), s30, now + 600)
            warm = wall_after_pass_warm(make_app(s30, wall_warm_seconds=0.5), s30, now + 1200)
            out["wall_ms_30k_after_pass"] = warm["slowest_ms"]
            out["wall_ms_30k_after_pass_median"] = warm["median_ms"]
            out["wall_new_data_s_30k"] = warm["visible_s"]
            s30.close()
        if args.fleet_page or args.demo_store:
            out.update(fleet_page_ms(tmp, args.demo_store))
        if args.capacity:
            if args.demo_store is None:
                fleet_page_ms(tmp, None, repeats=1)        # bootstraps tmp/demo3k.sqlite
            out.update(capacity_paint_ms(args.demo_store or str(tmp / "demo3k.sqlite"), args.chromium, tmp))
        h = history_ms(tmp, now)
        out["history_ms"], out["history_ms_mem_util"] = h["qps"], h["mem_util"]
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}))


if __name__ == "__main__":
    main()
