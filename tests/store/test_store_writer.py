"""The write path: idempotent, merges late and overlapping windows, keeps rollups and latest in step."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storekit import HOUR, T0, dump, minutes, wipe

from core.errors import StoreInputError

FIXTURE_EXAMPLES = settings(max_examples=25, deadline=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture])


def qps(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(5000 + 300 * np.sin(np.arange(n) / 50) + rng.normal(0, 40, n))


def test_writing_the_same_window_twice_changes_no_row(fleet):
    store, ids = fleet
    sids = [ids["pay-cache-0:6379/qps"], ids["pay-cache-0:6379/mem_util"]]
    t = minutes(T0 + 1800, 180)
    sid = np.repeat(sids, len(t))
    ts = np.tile(t, 2)
    val = np.concatenate([qps(180), np.round(np.linspace(40, 41, 180), 2)])
    assert store.write_samples(sid, ts, val) == 360
    before = dump(store)
    assert len(before["raw_chunks"]) == 2 * 4 and before["rollup_days"] and before["latest_blocks"]
    store.write_samples(sid, ts, val)
    assert dump(store) == before


@st.composite
def windows(draw):
    """A base series on a 1-minute grid (some gaps) and 1..4 overlapping windows of it."""
    n = draw(st.integers(1, 400))
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    ts = minutes(T0 + draw(st.integers(0, 3599)), n)[np.array(keep, bool)] if any(keep) else minutes(T0, 1)
    vals = draw(st.lists(st.one_of(st.integers(0, 10**6).map(float), st.floats(-1e6, 1e6).map(lambda x: round(x, 2))),
                         min_size=len(ts), max_size=len(ts)))
    cuts = draw(st.lists(st.tuples(st.integers(0, len(ts) - 1), st.integers(1, len(ts))), min_size=1, max_size=4))
    return ts, np.array(vals), [(a, max(a + 1, b)) for a, b in cuts]


@FIXTURE_EXAMPLES
@given(windows(), st.randoms(use_true_random=False))
def test_overlapping_windows_in_any_order_equal_one_write_of_their_union(fleet, case, rnd):
    store, ids = fleet
    sid = ids["cart-cache-1:6379/qps"]
    ts, vals, cuts = case
    wipe(store)
    covered = np.zeros(len(ts), bool)
    for a, b in cuts:
        covered[a:b] = True
    store.write_samples(np.full(int(covered.sum()), sid), ts[covered], vals[covered])
    expected = dump(store)
    wipe(store)
    rnd.shuffle(cuts)
    for a, b in cuts:
        store.write_samples(np.full(b - a, sid), ts[a:b], vals[a:b])
    assert dump(store) == expected
    a, b = cuts[0]
    store.write_samples(np.full(b - a, sid), ts[a:b], vals[a:b])  # re-collecting changes nothing
    assert dump(store) == expected
    got = store.read_raw([sid], 0, 2**32)
    assert got["ts"].tolist() == ts[covered].tolist() and got["value"].tolist() == vals[covered].tolist()


def test_late_and_overlapping_windows_merge_and_the_newer_value_wins(fleet):
    store, ids = fleet
    sid = ids["pay-cache-1:6379/qps"]
    first = minutes(T0, 30)                       # 00:00 .. 00:29
    store.write_samples(np.full(30, sid), first, np.full(30, 100.0))
    second = minutes(T0 + 20 * 60, 30)            # 00:20 .. 00:49, re-collected with new values
    store.write_samples(np.full(30, sid), second, np.full(30, 200.0))
    late = minutes(T0 - 10 * 60, 5)               # 23:50 .. 23:54 of the previous day, arrives last
    store.write_samples(np.full(5, sid), late, np.full(5, 50.0))
    got = store.read_raw([sid], T0 - HOUR, T0 + HOUR)
    assert got["ts"].tolist() == late.tolist() + minutes(T0, 50).tolist()
    assert got["value"].tolist() == [50.0] * 5 + [100.0] * 20 + [200.0] * 30
    roll = store.read_rollups([sid], T0 - HOUR, T0 + HOUR)
    assert roll[["ts", "min", "max", "count"]].values.tolist() == [[T0 - HOUR, 50, 50, 5], [T0, 100, 200, 50]]
    assert roll["avg"].iloc[1] == pytest.approx((20 * 100 + 30 * 200) / 50)


def test_within_one_write_the_last_of_duplicated_samples_wins(fleet):
    store, ids = fleet
    sid = ids["pay-cache-2:6379/qps"]
    store.write_samples([sid, sid, sid], [T0 + 60, T0, T0 + 60], [1.0, 2.0, 3.0])
    got = store.read_raw([sid], T0, T0 + HOUR)
    assert got["ts"].tolist() == [T0, T0 + 60] and got["value"].tolist() == [2.0, 3.0]


def test_rollups_equal_what_the_raw_tier_implies(fleet):
    store, ids = fleet
    rng = np.random.default_rng(7)
    sids = [ids[f"query-cache-{i}:6379/qps"] for i in range(3)]
    parts = []
    for k, sid in enumerate(sids):
        ts = np.sort(rng.choice(np.arange(T0, T0 + 30 * HOUR), size=900 + 100 * k, replace=False))
        parts.append((np.full(len(ts), sid), ts, np.round(rng.lognormal(8, 1, len(ts)), 2 * k)))
    for start in range(0, 1100, 250):  # in several writes, so hours are merged with what is there
        store.write_samples(*(np.concatenate([p[i][start:start + 250] for p in parts]) for i in range(3)))
    raw = store.read_raw(sids, T0, T0 + 40 * HOUR)
    assert len(raw) == sum(len(p[1]) for p in parts)
    raw["hour"] = raw["ts"] - raw["ts"] % HOUR
    implied = raw.groupby(["series_id", "hour"])["value"].agg(["min", "mean", "max", "count"]).reset_index()
    roll = store.read_rollups(sids, T0, T0 + 40 * HOUR)
    assert roll["series_id"].tolist() == implied["series_id"].tolist()
    assert roll["ts"].tolist() == implied["hour"].tolist()
    assert roll["min"].tolist() == implied["min"].tolist() and roll["max"].tolist() == implied["max"].tolist()
    assert roll["count"].tolist() == implied["count"].tolist()
    np.testing.assert_allclose(roll["avg"], implied["mean"], rtol=0, atol=5.001e-5)  # avg kept to 4 decimals


def test_latest_is_the_newest_sample_and_ignores_late_older_ones(fleet):
    store, ids = fleet
    a, b = ids["pay-cache-0:6379/qps"], ids["pay-cache-0:6379/mem_util"]
    store.write_samples([a, a, b], [T0, T0 + 60, T0 + 120], [1.0, 2.0, 55.5])
    store.write_samples([a], [T0 - 600], [9.0])           # late and older: latest stays
    store.write_samples([b], [T0 + 120], [56.25])         # same ts re-collected: the newer write wins
    got = store.latest().set_index("series_id")
    assert got.loc[a, "ts"] == T0 + 60 and got.loc[a, "value"] == 2.0
    assert got.loc[b, "ts"] == T0 + 120 and got.loc[b, "value"] == 56.25
    assert sorted(got.index) == sorted([a, b])
    assert store.latest([b])["series_id"].tolist() == [b]
    assert store.latest(metric="mem_util")["series_id"].tolist() == [b]


def test_nan_means_no_value_and_is_skipped(fleet):
    store, ids = fleet
    sid = ids["pay-cache-3:6379/qps"]
    assert store.write_samples([sid, sid], [T0, T0 + 60], [np.nan, 4.0]) == 1
    assert store.read_raw([sid], T0, T0 + HOUR)["ts"].tolist() == [T0 + 60]


@pytest.mark.parametrize("args, words", [
    (([1, 1], [T0], [1.0]), "one length"),
    (([1.5], [T0], [1.0]), "series_id must be integers"),
    (([1], [T0 + 0.5], [1.0]), "whole UTC epoch seconds"),
    (([1], [-5], [1.0]), "out of range"),
    (([1, 1], [T0, T0 + 60], [1.0, np.inf]), "infinite"),
    (([10_000], [T0], [1.0]), "unknown series id 10000"),
])
def test_bad_samples_are_refused_with_a_clear_message_and_nothing_is_written(fleet, args, words):
    store, ids = fleet
    store.write_samples([ids["pay-cache-0:6379/qps"]], [T0], [1.0])
    before = dump(store)
    with pytest.raises(StoreInputError, match=words) as info:
        store.write_samples(*args)
    assert "\n" not in str(info.value)
    assert dump(store) == before


def test_bad_rollups_are_refused(fleet):
    store, ids = fleet
    sid = ids["pay-cache-0:6379/qps"]
    with pytest.raises(StoreInputError, match="hour starts"):
        store.write_rollups([sid], [T0 + 60], [1.0], [2.0], [3.0], [60])
    with pytest.raises(StoreInputError, match="one length"):
        store.write_rollups([sid, sid], [T0], [1.0], [2.0], [3.0], [60])
    assert dump(store)["rollup_days"] == []
