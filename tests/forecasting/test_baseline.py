"""The baseline fit without statsmodels objects gives statsmodels OLS's numbers; daily peaks per day."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from forecasting.baseline import _design, fit_point, fit_points, project
from forecasting.series import DailyPeaks, check_series, daily_peaks


def _peaks(n_days: int, seed: int, flat: bool = False) -> DailyPeaks:
    rng = np.random.default_rng(seed)
    day = np.arange(-n_days, 0)
    level = np.full(n_days, 100.0) if flat else 100 * np.exp(0.003 * day + 0.1 * (day % 7 == 5)
                                                             + rng.normal(0, 0.05, n_days))
    return DailyPeaks(anchor=pd.Timestamp("2025-11-11", tz="Asia/Shanghai"), day=day, peak=level)


@pytest.mark.parametrize("n_days,seed,flat", [(56, 1, False), (20, 2, False), (10, 3, False), (5, 4, False),
                                               (56, 5, True)])
def test_projection_equals_statsmodels_ols(n_days, seed, flat):
    peaks = _peaks(n_days, seed, flat)
    quiet = np.ones(n_days, dtype=bool)
    quiet[::9] = False                                  # some days left out, as events do
    days = np.arange(0, 3)
    base = project(peaks, quiet, 0, days)
    sel = quiet
    y = np.log(peaks.peak[sel])
    weekly, trend = len(y) >= 14, len(y) >= 7
    x = _design(peaks.day[sel], 0, weekly, trend)
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = sm.OLS(y, x).fit()
        x_new = _design(days, 0, weekly, trend)
        mean = x_new @ fit.params
        se = np.nan_to_num(np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", x_new, fit.cov_params(), x_new), 0)))
    top = int(np.argmax(mean))
    assert base.log_level == pytest.approx(mean[top], rel=1e-12, abs=1e-12)
    assert base.se == pytest.approx(se[top], rel=1e-9, abs=1e-12)
    assert base.slope == pytest.approx(fit.params[1] / 7.0 if trend else 0.0, rel=1e-9, abs=1e-15)


def test_design_has_one_weekday_dummy_per_day():
    days = np.arange(-14, 0)
    x = _design(days, 0, weekly=True, trend=True)
    assert x.shape == (14, 8)
    assert (x[:, 0] == 1).all()
    assert np.allclose(x[:, 1], days / 7.0)
    assert (x[:, 2:].sum(axis=1) == (days % 7 != 0)).all()


def test_daily_peaks_is_the_max_of_each_anchor_aligned_day():
    idx = pd.date_range("2025-01-01 00:00", periods=24 * 5, freq="h", tz="UTC")
    s, step = check_series(pd.Series(np.random.default_rng(0).random(len(idx)), index=idx).iloc[5:-30])
    anchor = pd.Timestamp("2025-01-04 16:00", tz="UTC")
    peaks = daily_peaks(s, step, anchor)
    day = (s.index - anchor) // pd.Timedelta(days=1)
    grouped = s.groupby(np.asarray(day)).agg(["max", "size"])
    grouped = grouped[grouped["size"] * 2 >= 24]
    assert list(peaks.day) == list(grouped.index)
    assert np.array_equal(peaks.peak, grouped["max"].to_numpy())


def test_batched_event_fits_equal_one_fit_per_event():
    peaks = _peaks(400, 7)
    quiet = np.ones(400, dtype=bool)
    quiet[-120:-100] = False
    quiet[::11] = False
    ends = [-350, -300, -200, -100, -95, -30, -398]          # windows short, gapped, full, empty
    days = [np.arange(e, e + 2) for e in ends]
    batched = fit_points(peaks, quiet, ends, days)
    single = [fit_point(peaks, quiet, e, d) for e, d in zip(ends, days)]
    assert [b is None for b in batched] == [s is None for s in single]
    assert any(b is None for b in batched) and sum(b is not None for b in batched) >= 4
    for b, s in zip(batched, single):
        if s is not None:
            assert b == pytest.approx(s, rel=1e-12, abs=1e-12)
