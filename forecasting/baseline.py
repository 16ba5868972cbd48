"""The "normal" daily peak: log-linear trend plus weekly season, fitted on quiet days.

``log(daily peak) = level + slope * day + weekday effect``, fitted by least squares on the
``window`` days before an event's pre-heat, leaving out every event window (pre-heat and the day
after included). The same design matrix measures past events' baselines (numpy least squares,
only the point is needed) and projects today's baseline to the target with OLS (statsmodels'
arithmetic, see :func:`_pinv`), whose prediction standard error feeds the forecast interval.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


_WEEKDAYS = np.arange(1, 7)


def _design(days: np.ndarray, end: int, weekly: bool, trend: bool, ahead: int | None = None) -> np.ndarray:
    """Design rows; with ``ahead`` the trend stops ``ahead`` days after ``end`` (no straight line
    run months out: :func:`forecasting.methods` adds the measured year-on-year growth instead)."""
    n = len(days)
    x = np.zeros((n, 1 + trend + 6 * weekly))
    x[:, 0] = 1.0
    if trend:
        x[:, 1] = (days - end if ahead is None else np.minimum(days - end, ahead)) / 7.0
    if weekly:
        x[:, 1 + trend:] = np.mod(days, 7)[:, None] == _WEEKDAYS
    return x


def _select(peaks: DailyPeaks, quiet: np.ndarray, end: int, window: int):
    # peaks.day is sorted: the window is one slice, then its quiet days
    lo, hi = np.searchsorted(peaks.day, [end - window, end], side="left")
    sel = quiet[lo:hi]
    return peaks.day[lo:hi][sel], np.log(peaks.peak[lo:hi][sel])


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


def fit_points(peaks: DailyPeaks, quiet: np.ndarray, ends: list[int], days: list[np.ndarray],
               window: int = WINDOW_DAYS, ahead: int | None = None) -> list[float | None]:
    """:func:`fit_point` for many events of one series: one batched least-squares solve.

    Designs of the same shape are stacked, padded with zero rows (which change no least-squares
    solution), and solved with one stacked SVD (the minimum-norm solution, as ``lstsq`` gives).
    """
    out: list[float | None] = [None] * len(ends)
    groups: dict[tuple[bool, bool], list] = {}
    for i, (end, d) in enumerate(zip(ends, days)):
        x_days, y = _select(peaks, quiet, end, window)
        if len(y) >= MIN_DAYS:
            groups.setdefault(_shape(len(y)), []).append((i, x_days, y, end, d))
    for (weekly, trend), items in groups.items():
        n = max(len(it[2]) for it in items)
        x = np.zeros((len(items), n, 1 + trend + 6 * weekly))
        y = np.zeros((len(items), n))
        for j, (_, x_days, yy, end, _) in enumerate(items):
            x[j, :len(yy)] = _design(x_days, end, weekly, trend)
            y[j, :len(yy)] = yy
        u, sv, vt = np.linalg.svd(x, full_matrices=False)
        cut = np.finfo(float).eps * max(x.shape[1:]) * sv[:, :1]
        inv = np.where(sv > cut, 1.0 / np.where(sv > cut, sv, 1.0), 0.0)
        coef = np.einsum("bkj,bj,bnj,bn->bk", vt.transpose(0, 2, 1), inv, u, y)
        for j, (i, _, _, end, d) in enumerate(items):
            out[i] = float((_design(d, end, weekly, trend, ahead) @ coef[j]).max())
    return out


def _pinv(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Pseudo-inverse and rank of ``x`` exactly as statsmodels' OLS (pinv method) computes them.

    The forecast used ``sm.OLS(y, x).fit()`` for the baseline's standard error; building that
    model object per series dominated the fleet runner, so its arithmetic is done here:
    ``params = pinv @ y``, ``cov = pinv pinv' * ssr / (n - rank)``.
    """
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    keep = sv > 1e-15 * sv.max()
    inv = np.where(keep, 1.0 / np.where(keep, sv, 1.0), 0.0)
    rank = int(np.count_nonzero(sv > sv.max() * len(sv) * np.finfo(sv.dtype).eps))
    return (vt.T * inv) @ u.T, rank


def project(peaks: DailyPeaks, quiet: np.ndarray, end: int, days: np.ndarray,
            window: int = WINDOW_DAYS, ahead: int | None = None) -> Baseline | None:
    """Like :func:`fit_point`, returning the standard error (statsmodels OLS's) and trend too."""
    x_days, y = _select(peaks, quiet, end, window)
    if len(y) < MIN_DAYS:
        return None
    weekly, trend = _shape(len(y))
    x = _design(x_days, end, weekly, trend)
    pinv, rank = _pinv(x)
    params = pinv @ y
    resid = y - x @ params
    with np.errstate(divide="ignore", invalid="ignore"):
        # a perfectly flat series has zero residual variance (or no degree of freedom): se 0
        scale = float(resid @ resid) / (len(y) - rank) if len(y) > rank else np.nan
        x_new = _design(days, end, weekly, trend, ahead)
        mean = x_new @ params
        # standard error of the fitted mean: sqrt(x' Cov(beta) x), as get_prediction's se_mean
        cov = (pinv @ pinv.T) * scale
        se = np.nan_to_num(np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", x_new, cov, x_new), 0)), nan=0.0)
    top = int(np.argmax(mean))
    slope = float(params[1]) / 7.0 if trend else 0.0
    return Baseline(log_level=float(mean[top]), se=float(se[top]), slope=slope,
                    n_days=len(y), weekly=weekly)


#: days on each side of a year-on-year comparison (four weeks of quiet days, a year apart)
YOY_WINDOW = 28
YOY_MIN_DAYS = 7


#: the year-on-year growth of a far forecast: the last year's quiet days against the year before
#: (a swell of the last weeks does not carry eleven months), when each year has this many
ANNUAL_MIN_DAYS = 120


def yoy_growth(peaks: DailyPeaks, quiet: np.ndarray, ends: np.ndarray, window: int = YOY_WINDOW,
               min_days: int = YOY_MIN_DAYS) -> np.ndarray:
    """Log growth over one year at each day number in ``ends``: mean log quiet daily peak of the
    ``window`` days before the end over the same days a year earlier (NaN when either side
    has fewer than ``min_days`` quiet days). Cumulative sums over a dense day grid: one pass."""
    ends = np.asarray(ends, dtype=np.int64)
    out = np.full(len(ends), np.nan)
    if not len(peaks.day) or not len(ends):
        return out
    first = int(peaks.day[0])
    n = int(peaks.day[-1]) - first + 1
    logs, count = np.zeros(n + 1), np.zeros(n + 1)
    ok = quiet & (peaks.peak > 0)
    at = peaks.day[ok] - first + 1
    logs[at] = np.log(peaks.peak[ok])
    count[at] = 1.0
    logs, count = np.cumsum(logs), np.cumsum(count)

    def window_mean(hi: np.ndarray):
        lo = np.clip(hi - window - first, 0, n)
        top = np.clip(hi - first, 0, n)
        c = count[top] - count[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c >= min_days, (logs[top] - logs[lo]) / np.maximum(c, 1), np.nan)

    return window_mean(ends) - window_mean(ends - 365)
