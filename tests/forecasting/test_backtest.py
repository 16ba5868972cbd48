"""Backtest on seeded series with known truth: accuracy, calibration, and the naive baselines."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast_data import make_series
from forecasting.backtest import backtest_many, backtest_series, score


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    series, events = {}, None
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        syn = make_series(seed=seed, growth_per_year=rng.uniform(0.2, 1.5), noise=rng.uniform(0.02, 0.05),
                          level=rng.uniform(100, 10000))
        series[f"s{seed}"], events = syn.series, syn.events
    return backtest_many(series, events)


def test_every_event_after_the_first_is_forecast_at_both_leads(rows):
    assert set(rows["lead_days"]) == {1, 7}
    per_series = rows.groupby(["series", "lead_days"]).size()
    assert (per_series == 7).all()              # 8 promotions in the series, the first has no past
    assert (rows["error"] == "").all()


def test_seven_days_ahead_beats_the_targets_where_the_kind_was_seen_before(rows):
    seen = rows[(rows["n_same_kind"] > 0) & (rows["lead_days"] == 7)]
    s = score(seen).iloc[0]
    assert s["mdape"] <= 0.08
    assert 0.7 <= s["coverage_80"] <= 0.95
    assert abs(s["bias"]) < 0.03


def test_model_beats_both_naive_baselines_on_the_same_rows(rows):
    s = score(rows[rows["lead_days"] == 7]).iloc[0]
    assert s["mdape_on_last_rows"] < s["mdape_naive_last"]
    assert s["mdape_on_year_rows"] < s["mdape_naive_year"]


def test_scores_per_series_are_reported(rows):
    table = score(rows, by="series")
    assert list(table.index) == [f"s{i}" for i in range(6)]
    assert table["n"].eq(14).all()


def test_score_arithmetic_on_a_hand_made_table():
    rows = pd.DataFrame({"truth": [100.0, 100.0, 100.0], "point": [110.0, 95.0, 100.0],
                         "lower": [90.0, 96.0, 90.0], "upper": [120.0, 99.0, 110.0],
                         "naive_last": [150.0, 50.0, np.nan], "naive_year": [np.nan] * 3, "error": ["", "", ""]})
    s = score(rows).iloc[0]
    assert s["mdape"] == pytest.approx(0.05)
    assert s["bias"] == pytest.approx(0.0)
    assert s["coverage_80"] == pytest.approx(2 / 3)
    assert s["mdape_naive_last"] == pytest.approx(0.5)
    assert np.isnan(s["mdape_naive_year"])


def test_a_failed_forecast_is_counted_not_hidden():
    syn = make_series(seed=0, start="2024-06-01")
    series = syn.series.copy()
    victim = syn.events[1]
    series[(series.index > victim.start - pd.Timedelta(days=80)) & (series.index < victim.start)] = np.nan
    rows = backtest_series(series.dropna(), syn.events)
    victim_rows = rows[rows["event"] == victim.name]
    assert victim_rows["error"].str.contains("too little normal history").all()
    failed = rows[rows["error"] != ""]
    assert failed["point"].isna().all()
    assert score(rows).iloc[0]["failed"] == len(failed) >= 2
    assert score(rows).iloc[0]["n"] == len(rows)


def test_failed_cases_are_counted_by_reason():
    from forecasting.backtest import failure_reasons
    rows = pd.DataFrame({"error": ["", "too little normal history before target '4.19 2025': fewer than 3 full days",
                                   "too little normal history before target '6.18 2025': fewer than 3 full days",
                                   "no history before target 'x' (2025-01-01 00:00:00+08:00) up to the cutoff"]})
    reasons = failure_reasons(rows)
    assert reasons.iloc[0] == 2 and "too little normal history before target '…'" in reasons.index[0]
    assert reasons.sum() == 3
