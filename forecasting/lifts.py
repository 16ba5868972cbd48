"""Lifts of past events (peak / normal peak) and how they are pooled into the lift to use.

Pooling, on the log scale: each past event weighs ``0.5 ** (age / half_life)``, times
``kind_weight`` when it is of another kind than the target and the target's kind has past events
(0 by default: the backtest showed that kinds' lifts differ systematically, so any weight on
other kinds biases the lift; they carry it only when no same-kind event exists); an optional prior (the product
line's or the fleet's lift) counts as ``prior_weight`` extra events. The spread of each kind's
lifts around that kind's mean (pooled over kinds, shrunk toward ``PRIOR_SD``) gives the lift's
share of the forecast interval; with no past event of the target's kind, the spread between
kinds is added.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from forecasting.baseline import fit_point, quiet_mask
from forecasting.events import Event
from forecasting.series import DAY, DailyPeaks

HALF_LIFE_DAYS = 365.0
KIND_WEIGHT = 0.0
#: event-to-event spread of log lifts assumed before any is seen (about +-10%)
PRIOR_SD = 0.08
PRIOR_SD_WEIGHT = 2.0
#: spread of lifts between kinds, used when the target's kind has no past event
BETWEEN_KIND_SD = 0.4
#: how far one series' lift may sit from the prior (its product line's or the fleet's)
PRIOR_SPREAD_SD = 0.15

LIFT_COLUMNS = ["name", "kind", "start", "baseline", "peak", "lift", "peak_time", "note"]

Prior = float | Mapping[str, float] | None


def disturbed_days(peaks: DailyPeaks, events: list[Event]) -> list[tuple[int, int]]:
    """Day ranges not to use as "normal": pre-heat, the event, and the day after."""
    return [(peaks.day_of(e.quiet_from), peaks.day_after(e.end + DAY)) for e in events]


def event_days(peaks: DailyPeaks, event: Event) -> np.ndarray:
    return np.arange(peaks.day_of(event.start), max(peaks.day_after(event.end), peaks.day_of(event.start) + 1))


def measure(s: pd.Series, peaks: DailyPeaks, events: list[Event], quiet: np.ndarray | None = None) -> pd.DataFrame:
    """One row per event: normal peak (baseline), observed peak, lift and when the peak came."""
    if quiet is None:
        quiet = quiet_mask(peaks, disturbed_days(peaks, events))
    rows = []
    for e in events:
        window = s[(s.index >= e.start) & (s.index < e.end)]
        row = dict(name=e.name, kind=e.kind, start=e.start, baseline=np.nan, peak=np.nan,
                   lift=np.nan, peak_time=pd.NaT, note="")
        if window.empty:
            row["note"] = "no data in the event window"
        else:
            row["peak"] = float(window.max())
            row["peak_time"] = window.idxmax()
            log_base = fit_point(peaks, quiet, peaks.day_of(e.quiet_from), event_days(peaks, e))
            if log_base is None:
                row["note"] = "too little normal history before the event"
            else:
                row["baseline"] = float(np.exp(log_base))
                if row["peak"] > 0:
                    row["lift"] = row["peak"] / row["baseline"]
                else:
                    row["note"] = "peak is not positive"
        rows.append(row)
    return pd.DataFrame(rows, columns=LIFT_COLUMNS)


@dataclass(frozen=True)
class PooledLift:
    log_lift: float
    sd: float              # predictive spread of the next event's log lift
    n_same: int            # past events of the target's kind used
    n_used: int            # past events used
    weights: np.ndarray    # per row of the lift table (0 where unusable)
    from_prior: bool       # the prior carried the estimate (no past event usable)


def within_kind_var(kinds: np.ndarray, logs: np.ndarray) -> float:
    """Event-to-event variance of log lifts around each kind's mean, shrunk toward PRIOR_SD."""
    ss, dof = 0.0, 0
    for kind in set(kinds):
        x = logs[kinds == kind]
        ss += float(np.square(x - x.mean()).sum())
        dof += len(x) - 1
    return (ss + PRIOR_SD_WEIGHT * PRIOR_SD ** 2) / (dof + PRIOR_SD_WEIGHT)


def prior_for(prior: Prior, kind: str) -> float | None:
    if prior is None:
        return None
    if isinstance(prior, Mapping):
        value = prior.get(kind)
        return None if value is None else float(value)
    return float(prior)


def pool(table: pd.DataFrame, kind: str, when: pd.Timestamp, prior: Prior = None,
         prior_weight: float = 1.0, kind_weight: float = KIND_WEIGHT,
         half_life_days: float = HALF_LIFE_DAYS) -> PooledLift | None:
    """Pooled log lift for an event of ``kind`` at ``when``; None when nothing to pool."""
    lifts = table["lift"].to_numpy(dtype=float)
    usable = np.isfinite(lifts) & (lifts > 0)
    same = (table["kind"].to_numpy() == kind) & usable
    age = np.array([(when - t) / DAY for t in table["start"]], dtype=float) if len(table) else np.zeros(0)
    w = np.where(usable, 0.5 ** (np.maximum(age, 0) / half_life_days), 0.0)
    p = prior_for(prior, kind)
    pw = prior_weight if p is not None and p > 0 else 0.0
    if same.any() or pw:
        # a prior is about this kind: it beats this series' other kinds
        w = np.where(same, w, w * kind_weight)
    logs = np.log(np.where(usable, lifts, 1.0))
    total = w.sum() + pw
    if total <= 0:
        return None
    mean = (np.dot(w, logs) + (pw * np.log(p) if pw else 0.0)) / total
    n_eff = w.sum() ** 2 / np.square(w).sum() if w.sum() > 0 else 0.0
    var = within_kind_var(table["kind"].to_numpy()[usable], logs[usable]) * (1 + 1 / max(n_eff + pw, 1e-9))
    if not same.any() and w.sum() > 0:
        # another kind's lift says little about this kind: add the spread between kinds
        var += max(np.dot(w, np.square(logs - mean)) / w.sum(), BETWEEN_KIND_SD ** 2)
    elif not same.any():
        var += PRIOR_SPREAD_SD ** 2
    sd = float(np.sqrt(var))
    return PooledLift(log_lift=float(mean), sd=sd, n_same=int(same.sum()), n_used=int(usable.sum()),
                      weights=w, from_prior=w.sum() == 0)
