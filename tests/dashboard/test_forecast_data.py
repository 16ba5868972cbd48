"""The forecast pages' reads: one computation per data version for every viewer."""
from __future__ import annotations

import threading
import time

import flask
import numpy as np
import pytest
from flask_caching import Cache

import fleetdata
from dashboard import forecast_data as fd
from dashboard.context import Context
from store import Store
from store.inventory_types import Promotion


@pytest.fixture
def ctx(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    now = 1_795_910_400
    fleet = fleetdata.write_fleet(store, fleetdata.build_inventory(60), now, raw_hours=0.2)
    app = flask.Flask(__name__)
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    with app.app_context():
        yield Context(store, None, cache, clock=lambda: now), fleet
    store.close()


def test_concurrent_viewers_share_one_computation(ctx):
    context, _ = ctx
    calls = []
    start = threading.Barrier(8)

    def compute():
        calls.append(1)
        time.sleep(0.3)       # long enough for every other viewer to arrive while it runs
        return {"plan": len(calls)}

    results = []

    def viewer():
        start.wait()
        with context.cache.app.app_context():      # each request thread has its own
            results.append(fd.once(context, "fc:test", compute))

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert results == [{"plan": 1}] * 8


def test_the_data_version_changes_with_a_new_hour_of_data_or_the_calendar(ctx):
    context, fleet = ctx

    def fresh_version():
        context.cache.delete("fc:version")     # normally re-read once a minute
        return fd.data_version(context)

    first = fresh_version()
    assert fresh_version() == first
    context.store.upsert_promotions([Promotion("12.12 2026", "12.12", 1_797_004_800, 1_797_091_200, 3)])
    with_promotion = fresh_version()
    assert with_promotion != first
    sid = fleet.ids[next(s.key for s in fleet.inventory.series if s.metric == "qps")]
    context.store.write_samples(np.array([sid]), np.array([fleet.now + 3600]), np.array([1.0]))
    assert fresh_version() not in (first, with_promotion)


def test_an_unknown_promotion_names_the_ones_to_pick(ctx):
    context, _ = ctx
    context.store.upsert_promotions([Promotion("12.12 2026", "12.12", 1_797_004_800, 1_797_091_200, 3),
                                     Promotion("11.11 2026", "11.11", 1_794_326_400, 1_794_412_800, 10)])
    cal = fd.calendar(context)
    assert [e.name for e in cal["past"]] == ["11.11 2026"]
    assert fd.pick_target(cal, None).name == fd.pick_target(cal, "12.12").name == "12.12 2026"
    # the built-in yearly kinds add next year's 6.18 and 11.11 (12.12 2026 is entered, so not added)
    assert fd.pick_target(cal, "11.11").name == "11.11 2027"
    with pytest.raises(fd.PageInputError,
                       match=r"promotion='4.19' is not an upcoming promotion; pick one of: 12.12 2026, 6.18 2027, "
                             r"11.11 2027"):
        fd.pick_target(cal, "4.19")
