"""SyntheticSource: the synthetic fleet written through the store's write path, resumable and live."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from collectors.synthetic import signals, truth
from collectors.synthetic.fleet import DEFAULT_ANCHOR
from collectors.synthetic.source import SyntheticSource, Unit
from core.errors import CollectorError
from store import Store

HOUR, DAY = 3600, 86_400
NOW = DEFAULT_ANCHOR + 20 * 60 + 17          # 20 minutes into the anchor hour
PLAN = dict(history_days=6, raw_hours=2)


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Killed(Exception):
    pass


def _source(store, clock, scale=60, **kw) -> SyntheticSource:
    return SyntheticSource(store, scale=scale, seed=7, clock=clock, unit_cells=20_000, instance_days=2, **kw)


def _snapshot(store: Store) -> tuple:
    ids = store.series()["id"].tolist()
    raw = store.read_raw(ids, 0, 2**31).sort_values(["series_id", "ts"]).reset_index(drop=True)
    roll = store.read_rollups(ids, 0, 2**31).sort_values(["series_id", "ts"]).reset_index(drop=True)
    return raw, roll


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'demo.sqlite'}") as s:
        yield s


def test_bootstrap_writes_inventory_promotions_raw_and_rollups(db_url):
    with Store.open(db_url) as store:
        src = _source(store, Clock(NOW))
        seen = []
        src.bootstrap(**PLAN, progress=lambda done, total, what="": seen.append((done, total)))
        inv = src.model.inventory
        assert len(store.instances()) == len(inv.instances) == 60
        assert set(store.series()["key"]) == {s.key for s in inv.series}
        assert {"11.11", "12.12", "6.18", "4.19"} <= set(store.promotions()["kind"])
        assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
        # raw minutes: the last two hours before the anchor, then live up to the current minute
        ids = src.series_ids[src.model.cluster_series[:5]]
        raw = store.read_raw(ids, 0, 2**31)
        assert raw["ts"].min() == DEFAULT_ANCHOR - 2 * HOUR
        assert raw["ts"].max() == NOW // 60 * 60
        # hourly history: every series for two days, cluster series for six
        roll = store.read_rollups(src.series_ids, 0, DEFAULT_ANCHOR - 2 * HOUR)
        per_series = roll.groupby("series_id")["ts"].min()
        cluster_ids = set(src.series_ids[src.model.cluster_series].tolist())
        assert per_series[list(cluster_ids)].max() == DEFAULT_ANCHOR - 6 * DAY
        assert per_series.drop(list(cluster_ids)).min() >= DEFAULT_ANCHOR - 2 * HOUR - 2 * DAY - HOUR


def test_the_store_holds_exactly_what_the_generator_makes(store):
    src = _source(store, Clock(NOW))
    src.bootstrap(**PLAN)
    rows = np.r_[src.model.instance_series[:40], src.model.cluster_series[:10]]
    ts = signals.minutes(DEFAULT_ANCHOR - HOUR, DEFAULT_ANCHOR)
    expected = signals.values(src.model, rows, ts)
    got = store.read_raw(src.series_ids[rows], ts[0], ts[-1] + 1)
    table = got.pivot(index="series_id", columns="ts", values="value").reindex(src.series_ids[rows])
    np.testing.assert_array_equal(table.to_numpy(), expected)


def test_silent_instance_is_stale_in_the_store(store):
    src = _source(store, Clock(NOW))
    src.bootstrap(history_days=2, raw_hours=4)          # the silence began 3 h before the anchor
    silent = truth.incidents(src.model)["silent"]
    ids = [int(src.series_ids[i]) for i, s in enumerate(src.model.inventory.series)
           if s.instance == silent["instance"]]
    latest = store.latest(ids)
    assert len(latest) == len(ids)
    assert (latest["ts"] == silent["since"] - 60).all()
    others = store.latest(src.series_ids[src.model.cluster_series].tolist())
    assert (others["ts"] == NOW // 60 * 60).all()


def test_a_killed_bootstrap_resumes_and_ends_like_an_uninterrupted_one(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'straight.sqlite'}") as straight:
        _source(straight, Clock(NOW)).bootstrap(**PLAN)
        want = _snapshot(straight)
    with Store.open(f"sqlite:///{tmp_path / 'killed.sqlite'}") as store:
        def die_at_4(done, total, what=""):
            if done == 4:
                raise Killed

        with pytest.raises(Killed):
            _source(store, Clock(NOW)).bootstrap(**PLAN, progress=die_at_4)
        # the newest raw hour is there already; the oldest history is not
        raw, roll = _snapshot(store)
        assert raw["ts"].max() == NOW // 60 * 60 and raw["ts"].min() >= DEFAULT_ANCHOR - 2 * HOUR
        assert roll.empty or roll["ts"].min() > DEFAULT_ANCHOR - 2 * DAY
        again = _source(store, Clock(NOW))
        total = len(again.plan(**PLAN))
        assert again.bootstrap(**PLAN) == total - 4
        got = _snapshot(store)
    for g, w in zip(got, want):
        pd.testing.assert_frame_equal(g, w)


def test_a_store_bootstrapped_by_an_older_fleet_version_is_planned_again(store):
    # an older version (without the reads/writes series) finished its plan in this store; its
    # plan signature had no series count. Resuming at its unit count would skip most new units.
    src = _source(store, Clock(NOW))
    store.set_meta("synthetic.plan", f"{PLAN['history_days']},{PLAN['raw_hours']},2,20000")
    store.set_meta("synthetic.units_done", str(len(src.plan(**PLAN)) - 3))
    assert src.bootstrap(**PLAN) == len(src.plan(**PLAN))           # from the first unit
    reads = [int(src.series_ids[i]) for i, s in enumerate(src.model.inventory.series) if s.metric == "reads"]
    roll = store.read_rollups(reads, 0, DEFAULT_ANCHOR - 2 * HOUR)
    assert roll["ts"].min() == DEFAULT_ANCHOR - 6 * DAY
    assert len(roll) == len(reads) * (6 * 24 - 2)


def test_bootstrap_twice_changes_nothing(store):
    src = _source(store, Clock(NOW))
    src.bootstrap(**PLAN)
    before = _snapshot(store)
    assert _source(store, Clock(NOW)).bootstrap(**PLAN) == 0
    for a, b in zip(_snapshot(store), before):
        pd.testing.assert_frame_equal(a, b)


def test_tick_appends_new_minutes_once(store):
    clock = Clock(NOW)
    src = _source(store, clock)
    src.bootstrap(**PLAN)
    assert src.tick(int(clock())) == 0                 # bootstrap is already live
    clock.t += 5 * 60
    n = src.tick(int(clock()))
    silent = truth.incidents(src.model)["silent"]["instance"]
    sending = sum(s.instance != silent for s in src.model.inventory.series)
    assert n == 5 * sending                           # the silent instance sends nothing
    before = _snapshot(store)
    assert src.tick(int(clock())) == 0
    for a, b in zip(_snapshot(store), before):
        pd.testing.assert_frame_equal(a, b)
    ids = src.series_ids[src.model.cluster_series[:3]]
    assert (store.latest(ids.tolist())["ts"] == int(clock()) // 60 * 60).all()


def test_a_long_pause_is_caught_up_with_rollups_then_raw(store):
    clock = Clock(NOW)
    src = _source(store, clock)
    src.bootstrap(**PLAN)
    clock.t += 2 * DAY
    src.tick(int(clock()))
    ids = src.series_ids[src.model.cluster_series[:3]]
    gap_start, gap_end = DEFAULT_ANCHOR + HOUR, DEFAULT_ANCHOR + 2 * DAY - 6 * HOUR
    assert store.read_raw(ids, gap_start, gap_end).empty            # not two days of raw minutes
    raw = store.read_raw(ids, gap_end, int(clock()) + 60)
    assert raw["ts"].min() == gap_end and raw["ts"].max() == int(clock()) // 60 * 60
    roll = store.read_rollups(ids, gap_start, gap_end - 1)
    assert len(roll) == 3 * (gap_end - gap_start) // HOUR
    assert (roll["count"] == 60).all()


def test_a_store_holding_another_fleet_is_refused(store):
    _source(store, Clock(NOW), scale=60).bootstrap(**PLAN)
    with pytest.raises(CollectorError, match="scale=60 seed=7.*scale=90 seed=7"):
        _source(store, Clock(NOW), scale=90).bootstrap(**PLAN)


def test_bad_plan_is_refused(store):
    with pytest.raises(CollectorError, match="at least 1"):
        _source(store, Clock(NOW)).bootstrap(history_days=0, raw_hours=2)


def test_plan_runs_newest_raw_first_then_cluster_history_then_instance_history(store):
    src = _source(store, Clock(NOW))
    units = src.plan(history_days=20, raw_hours=3)
    raw = [u for u in units if u.kind == "raw"]
    assert units[:len(raw)] == raw
    assert all(a.start >= b.start for a, b in zip(raw, raw[1:]))
    assert raw[0].end == DEFAULT_ANCHOR and raw[-1].start == DEFAULT_ANCHOR - 3 * HOUR
    first_cluster = int(src.model.cluster_series[0])
    rollups = units[len(raw):]
    cluster_only = [i for i, u in enumerate(rollups) if u.rows.start >= first_cluster]
    instance_only = [i for i, u in enumerate(rollups) if u.rows.stop <= first_cluster and u.start < rollups[0].start]
    assert cluster_only and instance_only and max(cluster_only) < min(instance_only)
    assert min(u.start for u in rollups) == DEFAULT_ANCHOR - 20 * DAY
    assert all(u.end % DAY == 0 for u in rollups[1:] if u.end != DEFAULT_ANCHOR - 3 * HOUR)


def test_instance_counts_grow_in_steps_before_promotions(store):
    src = _source(store, Clock(NOW), scale=90)
    src.bootstrap(**PLAN)
    ends = np.arange(DEFAULT_ANCHOR - 730 * DAY, DEFAULT_ANCHOR + DAY, DAY)
    counts = store.instance_counts(ends)
    total = counts.groupby("ts")["instances"].sum().reindex(ends).to_numpy()
    assert total[-1] == len(src.model.inventory.instances) == 90
    year_ago = np.searchsorted(ends, DEFAULT_ANCHOR - 365 * DAY)
    assert total[-1] > total[year_ago] > total[0] > 0
    assert (np.diff(total) >= 0).all()                                  # scale-outs, no scale-ins
    promotions = store.promotions()["start"].to_numpy()
    steps = ends[1:][np.diff(total) > 0]
    assert len(steps) >= 4
    for day_end in steps:           # every step is a scale-out on the 10th..20th day before a promotion
        ahead = promotions[promotions >= day_end] - day_end
        assert ahead.size and 9 * DAY <= ahead.min() <= 20 * DAY
    # by product line and by service too: the lines with a scaled-out cluster grew
    first, last = (counts[counts["ts"] == t].groupby("service")["instances"].sum() for t in (ends[0], ends[-1]))
    assert (last >= first).all() and (last > first).any()
    grown = {store.clusters().set_index("name").loc[c, "product_line"] for c in truth.scale_outs(src.model)}
    by_line = counts.pivot_table(index="ts", columns="product_line", values="instances", aggfunc="sum")
    assert set(by_line.columns[by_line.iloc[-1] > by_line.iloc[0]]) == grown


def test_no_instance_series_has_data_before_its_instance_joined(store):
    src = _source(store, Clock(NOW), scale=90)
    src.bootstrap(**PLAN)
    name, out = next(iter(truth.scale_outs(src.model).items()))
    instances = store.instances()
    joined = instances.set_index("name")["added_at"]
    at = out["at"]
    assert (instances.loc[instances["cluster"] == name, "added_at"] == at).sum() == out["instances"] > 0
    # the bootstrap's own units over two days of hourly history and two raw hours around the scale-out
    src._run(Unit("rollup", at - DAY, at + DAY, slice(0, int(src.model.cluster_series[0])), "around a scale-out"))
    src._run(Unit("raw", at - HOUR, at + HOUR, slice(0, int(src.model.cluster_series[0])), "around a scale-out"))
    series = store.series(cluster=name)
    series = series[series["instance"].notna()]
    first = pd.concat([store.read_rollups(series["id"].tolist(), at - DAY, at + DAY).groupby("series_id")["ts"].min(),
                       store.read_raw(series["id"].tolist(), at - HOUR, at + HOUR).groupby("series_id")["ts"].min()],
                      axis=1).min(axis=1)
    since = series.set_index("id")["instance"].map(joined)
    assert len(first) == len(series)
    assert (first >= since.reindex(first.index)).all()
    late = since[since == at].index
    assert len(late) >= out["instances"]
    assert (first[late] == at).all()                     # they start exactly when they joined
    assert (first.drop(late) == at - DAY).all()          # the others were there all along
