"""The fleet runner's pure part: many series, peer priors, parallel workers give the same answer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ForecastError
from forecast_data import make_series
from forecasting.fleet import forecast_groups, pick_target, series_from_frame

DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def fleet():
    series, events = {}, None
    for i in range(6):
        syn = make_series(seed=10 + i, start="2024-06-01", level=100.0 * (i + 1))
        series[f"biz{i}"], events = syn.series, syn.events
    return series, events


def test_every_group_gets_a_forecast_and_workers_do_not_change_it(fleet):
    series, events = fleet
    target = events[-1]
    cutoff = target.start - 7 * DAY
    one = forecast_groups(series, events, target, cutoff, workers=1).set_index("group")
    two = forecast_groups(series, events, target, cutoff, workers=2).set_index("group")
    assert list(one.index) == sorted(series)
    assert (one["error"] == "").all()
    assert np.allclose(one["point"], two.loc[one.index, "point"])
    assert (one["point"].diff().dropna() > 0).all()          # levels grow with the business index


def test_a_business_without_the_kinds_history_borrows_its_peers_lift(fleet):
    series, events = fleet
    target = events[-1]                                       # 11.11 2025
    cutoff = target.start - 7 * DAY
    young = dict(series)
    young["new"] = series["biz0"][series["biz0"].index >= pd.Timestamp("2025-01-01", tz="Asia/Shanghai")]
    lines = {g: "trade" for g in young}
    table = forecast_groups(young, events, target, cutoff, product_line=lines).set_index("group")
    peers = table.drop(index="new")
    assert table.loc["new", "n_same_kind"] == 0
    assert table.loc["new", "lift"] == pytest.approx(np.exp(np.log(peers["lift"]).median()), rel=0.01)
    assert table.loc["new", "prior"] > 0 and "prior" in table.loc["new", "reasons"]


def test_store_frames_become_utc_series():
    frame = pd.DataFrame({"group": ["b", "a", "a"], "ts": [3600, 7200, 3600], "value": [1.0, 3.0, 2.0]})
    out = series_from_frame(frame)
    assert list(out) == ["a", "b"]
    assert list(out["a"]) == [2.0, 3.0] and str(out["a"].index.tz) == "UTC"


def test_target_is_picked_by_name_or_kind_and_a_missing_one_is_explained(fleet):
    _, events = fleet
    cutoff = pd.Timestamp("2025-01-01", tz="UTC")
    assert pick_target(events, cutoff).name == "6.18 2025"
    assert pick_target(events, cutoff, "11.11").name == "11.11 2025"
    assert pick_target(events, cutoff, "12.12 2024").name == "12.12 2024"
    with pytest.raises(ForecastError, match="no upcoming promotion '4.19'"):
        pick_target(events, cutoff, "4.19")
