"""Range reads: the tier is picked by range, every line is downsampled to max_points."""
from __future__ import annotations

import numpy as np
import pytest
from storekit import DAY, HOUR, T0, minutes

NOW = T0 + 40 * DAY


@pytest.fixture
def history(fleet):
    """Two days of 1-minute raw data before NOW and 40 days of hourly rollups before that."""
    store, ids = fleet
    sids = [ids[f"pay-cache-{i}:6379/qps"] for i in range(3)]
    t = minutes(NOW - 2 * DAY, 2 * 1440)
    rng = np.random.default_rng(3)
    for k, sid in enumerate(sids):
        store.write_samples(np.full(len(t), sid), t, np.round(1000 * (k + 1) + rng.normal(0, 50, len(t))))
    hours = np.arange(T0, NOW - 2 * DAY, HOUR)
    for k, sid in enumerate(sids):
        avg = 1000.0 * (k + 1) + (hours - T0) / DAY
        store.write_rollups(np.full(len(hours), sid), hours, avg - 100, avg, avg + 100, np.full(len(hours), 60))
    return store, sids


def test_a_short_range_reads_raw_minutes(history):
    store, sids = history
    start = NOW - 6 * HOUR + 17   # not on a minute: the sample at NOW - 6 h is outside
    got = store.read_range(sids, start, NOW)
    raw = store.read_raw(sids, start, NOW)
    assert got.groupby("series_id").size().tolist() == [359, 359, 359]
    first = got[got["series_id"] == sids[0]]
    assert first["ts"].iloc[0] == NOW - 6 * HOUR + 60 and np.diff(first["ts"]).tolist() == [60] * 358
    assert first["value"].tolist() == raw[raw["series_id"] == sids[0]]["value"].tolist()


def test_a_long_range_reads_hourly_rollups_with_their_envelope(history):
    store, sids = history
    got = store.read_range(sids, T0 + 3 * DAY, T0 + 33 * DAY)
    line = got[got["series_id"] == sids[1]]
    assert len(line) == 30 * 24 and np.diff(line["ts"]).tolist() == [HOUR] * (30 * 24 - 1)
    np.testing.assert_allclose(line["max"] - line["value"], 100, atol=1e-4)  # avg is kept to 4 decimals
    np.testing.assert_allclose(line["value"] - line["min"], 100, atol=1e-4)
    assert line["value"].iloc[0] == 2003.0


@pytest.mark.parametrize("max_points", [1, 7, 100, 359, 2000])
def test_every_line_is_downsampled_to_at_most_max_points(history, max_points):
    store, sids = history
    for start, end in ((NOW - DAY + 7, NOW - 13), (T0 + 1234, NOW - 3 * DAY)):
        got = store.read_range(sids, start, end, max_points=max_points)
        sizes = got.groupby("series_id").size()
        assert sizes.index.tolist() == sids
        assert sizes.max() <= max_points
        assert sizes.min() >= min(max_points, 360) * 0.5  # downsampled, not truncated


def test_downsampled_points_keep_the_mean_and_the_extremes(history):
    store, sids = history
    start, end = NOW - DAY, NOW
    raw = store.read_raw([sids[2]], start, end)
    got = store.read_range([sids[2]], start, end, max_points=48)
    assert len(got) == 48 and np.diff(got["ts"]).tolist() == [1800] * 47
    assert got["min"].min() == raw["value"].min() and got["max"].max() == raw["value"].max()
    first = raw[raw["ts"] < start + 1800]["value"]
    assert got["value"].iloc[0] == pytest.approx(first.mean())


def test_a_short_range_older_than_the_raw_tier_reads_rollups(history):
    store, sids = history
    got = store.read_range(sids[:1], T0 + 10 * DAY, T0 + 10 * DAY + 6 * HOUR)
    assert np.diff(got["ts"]).tolist() == [HOUR] * 5


def test_empty_ranges_and_unknown_series_give_empty_frames(history):
    store, sids = history
    for frame in (store.read_range(sids, NOW + DAY, NOW + 2 * DAY), store.read_range([99_999], T0, NOW),
                  store.read_raw(sids, NOW, NOW - 10), store.read_rollups([], T0, NOW)):
        assert frame.empty
    assert list(store.read_range([], T0, NOW).columns) == ["series_id", "ts", "value", "min", "max"]
