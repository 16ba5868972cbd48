"""The "normal" daily peak: log-linear trend plus weekly season, fitted on quiet days.

``log(daily peak) = level + slope * day + weekday effect``, fitted by least squares on the
``window`` days before an event's pre-heat, leaving out every event window (pre-heat and the day
after included). The same design matrix measures past events' baselines (numpy least squares,
only the point is needed) and projects today's baseline to the target with statsmodels OLS,
whose prediction standard error feeds the forecast interval.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

from forecasting.series import DailyPeaks

#: days of history used for one baseline fit (8 weeks: trend without chasing last year)
WINDOW_DAYS = 56
#: fewer usable days than this: no weekday effects; fewer than MIN_TREND: no trend
MIN_WEEKLY = 14
MIN_TREND = 7
MIN_DAYS = 3


@dataclass(frozen=True)
class Baseline:
    log_level: float        # log of the projected normal peak (max over the event's days)
    se: float               # standard error of that log level (parameter uncertainty)
    slope: float            # log growth per day
    n_days: int             # quiet days used
    weekly: bool            # weekday effects fitted


def quiet_mask(peaks: DailyPeaks, windows: list[tuple[int, int]]) -> np.ndarray:
    """True for days outside every disturbed ``[first, last)`` day range."""
    mask = np.ones(len(peaks.day), dtype=bool)
    for first, last in windows:
        mask &= ~((peaks.day >= first) & (peaks.day < last))
    return mask & (peaks.peak > 0)


def _design(days: np.ndarray, end: int, weekly: bool, trend: bool) -> np.ndarray:
    cols = [np.ones(len(days))]
    if trend:
        cols.append((days - end) / 7.0)
    if weekly:
        wd = np.mod(days, 7)
        cols.extend((wd == k).astype(float) for k in range(1, 7))
    return np.column_stack(cols)


def _select(peaks: DailyPeaks, quiet: np.ndarray, end: int, window: int):
    sel = quiet & (peaks.day < end) & (peaks.day >= end - window)
    return peaks.day[sel], np.log(peaks.peak[sel])


def _shape(n: int) -> tuple[bool, bool]:
    return n >= MIN_WEEKLY, n >= MIN_TREND


def fit_point(peaks: DailyPeaks, quiet: np.ndarray, end: int, days: np.ndarray,
              window: int = WINDOW_DAYS) -> float | None:
    """Log normal peak over ``days`` from quiet days before ``end``; None with too little data."""
    x_days, y = _select(peaks, quiet, end, window)
    if len(y) < MIN_DAYS:
        return None
    weekly, trend = _shape(len(y))
    coef, *_ = np.linalg.lstsq(_design(x_days, end, weekly, trend), y, rcond=None)
    return float(np.max(_design(days, end, weekly, trend) @ coef))


def project(peaks: DailyPeaks, quiet: np.ndarray, end: int, days: np.ndarray,
            window: int = WINDOW_DAYS) -> Baseline | None:
    """Like :func:`fit_point` with statsmodels OLS, returning the standard error and trend too."""
    x_days, y = _select(peaks, quiet, end, window)
    if len(y) < MIN_DAYS:
        return None
    weekly, trend = _shape(len(y))
    with warnings.catch_warnings():
        # a perfectly flat series has zero residual variance: statsmodels divides by zero
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = sm.OLS(y, _design(x_days, end, weekly, trend)).fit()
        x_new = _design(days, end, weekly, trend)
        mean = x_new @ fit.params
        # standard error of the fitted mean: sqrt(x' Cov(beta) x), as get_prediction's se_mean
        cov = fit.cov_params()
        se = np.nan_to_num(np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", x_new, cov, x_new), 0)), nan=0.0)
    top = int(np.argmax(mean))
    slope = float(fit.params[1]) / 7.0 if trend else 0.0
    return Baseline(log_level=float(mean[top]), se=float(se[top]), slope=slope,
                    n_days=len(y), weekly=weekly)
