"""The wall's snapshot kept warm in the background: after a collection pass, viewers' refreshes
show the new data without computing anything; one worker computes; the thread stops cleanly."""
from __future__ import annotations

import time

import numpy as np
import pytest

import fleetdata
from core.settings import load_settings
from dashboard import wall_data as q
from dashboard import warmer as wm
from dashboard.app import create_app, page_modules
from store import Store


@pytest.fixture
def setup(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'w.sqlite'}")
    inv = fleetdata.build_inventory(60)
    data = fleetdata.write_fleet(store, inv, int(time.time()), raw_hours=0.5)
    settings = load_settings(cli={"wall_warm_seconds": 2},
                             env={"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_DIR": str(tmp_path / "cache")})
    app = create_app(store, settings)
    warmer = app.server.extensions["peakwatch_warmer"]
    yield store, inv, data, app, warmer
    warmer.stop()
    store.close()


def wall_module():
    return next(m for m in page_modules() if m.__name__.endswith(".wall"))


def collection_pass(store, inv, data, victim: str, at: int) -> None:
    """A new pass in which one of ``victim``'s shards is full."""
    key = next(s.key for s in inv.series if s.metric == "mem_util" and s.cluster.startswith(victim))
    store.write_samples(np.array([data.ids[key]]), np.array([at]), np.array([99.0]))


def test_after_a_pass_the_refresh_shows_new_data_without_computing(setup, monkeypatch):
    store, inv, data, app, warmer = setup
    victim = next(b.name for b in inv.businesses if "-svc" in b.name)
    ctx = app.server.extensions["peakwatch"]
    ctx.clock = lambda: data.now
    assert warmer.tick() is True                 # first snapshot
    assert warmer.tick() is False                # nothing new: nothing recomputed
    with app.server.test_request_context("/"):
        before = wall_module().refresh(1, {})[0]
    collection_pass(store, inv, data, victim, data.now)
    fleetdata.evaluate(store, data.now + 1)      # the alert engine's cycle after the pass (it runs in the app)
    assert warmer.tick() is True                 # the warmer saw the new data
    computed = []
    real = q.wall_snapshot
    monkeypatch.setattr(q, "wall_snapshot", lambda *a, **k: computed.append(1) or real(*a, **k))
    with app.server.test_request_context("/"):
        diff, strip, *_ = wall_module().refresh(2, {"v": before["v"], "inv": before["inv"]})
    assert not computed                          # the viewer's refresh read the warm snapshot
    assert diff["v"] != before["v"] and victim in str(strip)


def test_only_one_worker_computes(setup):
    store, inv, data, app, warmer = setup
    ctx = app.server.extensions["peakwatch"]
    ctx.clock = lambda: data.now
    other = wm.Warmer(app.server, ctx, 2)        # a second worker sharing the cache directory
    assert other._claim() is True                # ... in the middle of computing
    try:
        assert warmer.tick() is False
    finally:
        other._release()
    assert warmer.tick() is True


def test_first_request_starts_the_thread_and_stop_ends_it(setup):
    store, inv, data, app, warmer = setup
    assert not warmer.running
    assert app.server.test_client().get("/").status_code == 200
    assert warmer.running
    warmer.stop()
    assert not warmer.running


def test_zero_disables_the_warmer(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'o.sqlite'}")
    try:
        settings = load_settings(cli={"wall_warm_seconds": 0},
                                 env={"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_TYPE": "simple"})
        assert "peakwatch_warmer" not in create_app(store, settings).server.extensions
    finally:
        store.close()


def test_a_fleet_page_viewed_lately_is_computed_before_the_next_viewer_asks(setup, monkeypatch):
    from dashboard import page_cache as cached
    from dashboard import fleet_data as fd
    store, inv, data, app, warmer = setup
    ctx = app.server.extensions["peakwatch"]
    clock = [data.now]
    ctx.clock = lambda: clock[0]
    warmer.tick()                                             # the wall's snapshot
    assert warmer.tick() is False                             # nobody viewed /fleet: nothing to do
    with app.server.test_request_context("/fleet"):
        cached.fleet_page(ctx, 30, clock[0])                  # a viewer (computes this interval)
    assert warmer.tick() is False
    clock[0] += cached.FLEET_TTL                              # the next 5-minute interval begins
    computed = []
    real = fd.fleet_data
    monkeypatch.setattr(fd, "fleet_data", lambda *a, **k: computed.append(1) or real(*a, **k))
    assert warmer.tick() is True and computed == [1]          # the warmer computed it ...
    with app.server.test_request_context("/fleet"):
        cached.fleet_page(ctx, 30, clock[0])
    assert computed == [1]                                    # ... so the viewer did not
    clock[0] += cached.FLEET_WARM_FOR + cached.FLEET_TTL      # nobody looked for 20 minutes
    assert cached.fleet_due(ctx, clock[0]) == []


def capacity_module():
    return next(m for m in page_modules() if m.__name__.endswith(".capacity"))


def test_a_capacity_view_never_forecasts_the_fleet_the_warmer_does(setup, monkeypatch):
    """/capacity took minutes per view at 3,000 instances: the view read the plan it computed. Now
    the view reads the stored plan (or says it is being computed) and the warmer computes it."""
    from dashboard import forecast_data as fd
    from dashboard import page_cache as cached
    store, inv, data, app, warmer = setup
    ctx = app.server.extensions["peakwatch"]
    ctx.clock = lambda: data.now
    runs = []
    real = fd.forecast_fleet
    monkeypatch.setattr(fd, "forecast_fleet", lambda *a, **k: runs.append(1) or real(*a, **k))
    page = capacity_module()
    with app.server.test_request_context("/capacity"):
        summary, table, ready, done = page.plan_view(0, None, None)
        assert not runs and ready is None and done is False          # pending, and the page keeps polling
        assert "being computed in the background" in str(summary)
        name = fd.calendar(ctx)["upcoming"][0].name
        assert cached.capacity_due(ctx) == [name]                   # the view asked for it
    assert warmer.tick_capacity() is True and runs == [1]
    assert warmer.tick_capacity() is False and runs == [1]          # same data: nothing recomputed
    with app.server.test_request_context("/capacity"):
        summary, table, ready, done = page.plan_view(1, None, None)
        assert ready and done is True                               # plan and backtest stored: stop polling
        assert "#" in str(table) and "shards now" in str(table)
        from dash import dcc
        assert isinstance(page.util_view(ready, None), dcc.Graph)
        assert isinstance(page.forecast_view(ready, None, "business", "qps"), dcc.Graph)
    assert runs == [1]


def test_without_a_warmer_the_first_capacity_view_computes_the_plan(setup, tmp_path):
    store, inv, data, app, warmer = setup
    settings = load_settings(cli={"wall_warm_seconds": 0}, env={"PEAKWATCH_STORE_URL": store.url,
                                                                "PEAKWATCH_CACHE_DIR": str(tmp_path / "cache0")})
    bare = create_app(store, settings)
    bare.server.extensions["peakwatch"].clock = lambda: data.now
    with bare.server.test_request_context("/capacity"):
        summary, table, ready, done = capacity_module().plan_view(0, None, None)
    assert ready and "shards now" in str(table)          # never "being computed" with nothing computing it
