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
from functools import cached_property
from typing import Mapping

import numpy as np
import pandas as pd

from forecasting.baseline import fit_points, quiet_mask
from forecasting.events import Event
from forecasting.series import DAY, DAY_NS, DailyPeaks

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
    return [(peaks.day_of(e.quiet_from), peaks.day_after(e.end.value + DAY_NS)) for e in events]


def event_days(peaks: DailyPeaks, event: Event) -> np.ndarray:
    return np.arange(peaks.day_of(event.start), max(peaks.day_after(event.end), peaks.day_of(event.start) + 1))


def window(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Samples in ``[start, end)`` of a sorted series (binary search, no mask)."""
    ns = s.index.asi8
    lo, hi = np.searchsorted(ns, [start.value, end.value], side="left")
    return s.iloc[lo:hi]


@dataclass(frozen=True)
class LiftTable:
    """Measured lifts as arrays (cheap in the fleet loop); :meth:`frame` for people."""

    events: list[Event]
    baseline: np.ndarray
    peak: np.ndarray
    lift: np.ndarray
    peak_ns: np.ndarray          # epoch ns of the peak sample, -1 when none
    note: list[str]

    @cached_property
    def kinds(self) -> np.ndarray:
        return np.array([e.kind for e in self.events], dtype=object)

    @cached_property
    def starts_ns(self) -> np.ndarray:
        return np.array([e.start.value for e in self.events], dtype=np.int64)

    @cached_property
    def ends_ns(self) -> np.ndarray:
        return np.array([e.end.value for e in self.events], dtype=np.int64)

    def without(self, i: int) -> "LiftTable":
        keep = [j for j in range(len(self.events)) if j != i]
        return LiftTable(events=[self.events[j] for j in keep], baseline=self.baseline[keep], peak=self.peak[keep],
                         lift=self.lift[keep], peak_ns=self.peak_ns[keep], note=[self.note[j] for j in keep])

    def frame(self, weights: np.ndarray | None = None) -> pd.DataFrame:
        tz = [e.start.tz for e in self.events]
        times = [pd.Timestamp(ns, tz="UTC").tz_convert(z) if z is not None and ns >= 0 else
                 (pd.Timestamp(ns) if ns >= 0 else pd.NaT) for ns, z in zip(self.peak_ns, tz)]
        out = pd.DataFrame({"name": [e.name for e in self.events], "kind": [e.kind for e in self.events],
                            "start": [e.start for e in self.events], "baseline": self.baseline,
                            "peak": self.peak, "lift": self.lift, "peak_time": times, "note": self.note},
                           columns=LIFT_COLUMNS)
        if weights is not None:
            out["weight"] = weights
        return out


def measure(s: pd.Series, peaks: DailyPeaks, events: list[Event], quiet: np.ndarray | None = None) -> LiftTable:
    """Per event: normal peak (baseline), observed peak, lift and when the peak came."""
    if quiet is None:
        quiet = quiet_mask(peaks, disturbed_days(peaks, events))
    n = len(events)
    baseline, peak, lift = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    peak_ns, note = np.full(n, -1, dtype=np.int64), [""] * n
    ns, values = s.index.asi8, s.to_numpy()
    fit = []
    for i, e in enumerate(events):
        lo, hi = np.searchsorted(ns, [e.start.value, e.end.value], side="left")
        if hi <= lo:
            note[i] = "no data in the event window"
            continue
        top = lo + int(np.argmax(values[lo:hi]))
        peak[i], peak_ns[i] = values[top], ns[top]
        fit.append(i)
    # every event's normal peak in one batched solve
    log_bases = fit_points(peaks, quiet, [peaks.day_of(events[i].quiet_from) for i in fit],
                           [event_days(peaks, events[i]) for i in fit])
    for i, log_base in zip(fit, log_bases):
        if log_base is None:
            note[i] = "too little normal history before the event"
            continue
        baseline[i] = np.exp(log_base)
        if peak[i] > 0:
            lift[i] = peak[i] / baseline[i]
        else:
            note[i] = "peak is not positive"
    return LiftTable(events=list(events), baseline=baseline, peak=peak, lift=lift, peak_ns=peak_ns, note=note)


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


def pool(table: LiftTable, kind: str, when: pd.Timestamp | int, prior: Prior = None,
         prior_weight: float = 1.0, kind_weight: float = KIND_WEIGHT,
         half_life_days: float = HALF_LIFE_DAYS, known: np.ndarray | None = None) -> PooledLift | None:
    """Pooled log lift for an event of ``kind`` at ``when`` (a Timestamp or epoch ns); None when
    nothing to pool. ``known``: rows that may be used (a backtest origin sees only earlier events)."""
    lifts = table.lift
    usable = np.isfinite(lifts) & (lifts > 0)
    if known is not None:
        usable &= known
    kinds = table.kinds
    same = (kinds == kind) & usable
    age = ((when if isinstance(when, (int, np.integer)) else when.value) - table.starts_ns) / DAY.value
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
    var = within_kind_var(kinds[usable], logs[usable]) * (1 + 1 / max(n_eff + pw, 1e-9))
    if not same.any() and w.sum() > 0:
        # another kind's lift says little about this kind: add the spread between kinds
        var += max(np.dot(w, np.square(logs - mean)) / w.sum(), BETWEEN_KIND_SD ** 2)
    elif not same.any():
        var += PRIOR_SPREAD_SD ** 2
    sd = float(np.sqrt(var))
    return PooledLift(log_lift=float(mean), sd=sd, n_same=int(same.sum()), n_used=int(usable.sum()),
                      weights=w, from_prior=w.sum() == 0)


@dataclass(frozen=True)
class KindModel:
    """Across many series: ``log(lift - 1) = scale[series] + effect[kind] + noise``.

    A business that lifts more than others does so in every kind of promotion, and a kind (11.11)
    lifts every business more than another kind (4.19). Fitted on all past events of all series,
    it gives each series a lift for the target's kind from *all* its past events, not only the
    one or two of that kind: the peer prior the fleet runner shrinks toward.
    """

    scale: dict[str, float]
    effect: dict[str, float]
    sd: float                     # residual spread of log(lift - 1)

    def lift(self, series: str, kind: str) -> float | None:
        if series not in self.scale or kind not in self.effect:
            return None
        return 1.0 + float(np.exp(self.scale[series] + self.effect[kind]))


MIN_EXCESS = 0.05     # lifts below 1.05 carry no usable log(lift - 1)


def fit_kind_model(tables: dict[str, LiftTable], iterations: int = 10,
                   before: pd.Timestamp | None = None) -> KindModel | None:
    """Two-way additive fit (alternating means) of log(lift - 1); None with under two series.
    ``before``: only events that ended by then (the model a backtest origin would have had)."""
    rows = [(g, e.kind, np.log(l - 1.0)) for g, t in tables.items() for e, l in zip(t.events, t.lift)
            if np.isfinite(l) and l > 1.0 + MIN_EXCESS and (before is None or e.end <= before)]
    if len({g for g, _, _ in rows}) < 2:
        return None
    frame = pd.DataFrame(rows, columns=["series", "kind", "x"])
    effect = pd.Series(0.0, index=frame["kind"].unique())
    for _ in range(iterations):
        scale = (frame["x"] - frame["kind"].map(effect)).groupby(frame["series"]).mean()
        effect = (frame["x"] - frame["series"].map(scale)).groupby(frame["kind"]).mean()
    resid = frame["x"] - frame["series"].map(scale) - frame["kind"].map(effect)
    dof = max(len(frame) - len(scale) - len(effect) + 1, 1)
    return KindModel(scale=scale.to_dict(), effect=effect.to_dict(), sd=float(np.sqrt((resid ** 2).sum() / dof)))


def kind_prior_weight(tables: dict[str, LiftTable], default: float = 0.5) -> float:
    """How many events of its own the kind model's lift is worth, judged on held-out events.

    For every series and every kind it has seen at least twice, the latest such event is held
    out; the kind model refitted without them predicts each one, and so does the series' own
    previous event of that kind (the per-series forecast). The weight is 0.5 (what a year-old
    event of its own weighs) times the ratio of the own error to the model's (mean squared log
    error), clipped to [0.1, 4]: a kind model that does not fit the fleet's lifts gets little
    weight. ``default`` when fewer than 3 events can be held out.
    """
    held, reduced = [], {}
    for g, t in tables.items():
        ok = [i for i in range(len(t.events)) if np.isfinite(t.lift[i]) and t.lift[i] > 1.0 + MIN_EXCESS]
        by_kind: dict[str, list[int]] = {}
        for i in ok:
            by_kind.setdefault(t.events[i].kind, []).append(i)
        drop = []
        for kind, idx in by_kind.items():
            if len(idx) >= 2:
                held.append((g, kind, float(np.log(t.lift[idx[-1]])), float(np.log(t.lift[idx[-2]]))))
                drop.append(idx[-1])
        reduced[g] = t
        for i in sorted(drop, reverse=True):
            reduced[g] = reduced[g].without(i)
    model = fit_kind_model(reduced)
    if model is None:
        return default
    pairs = [(np.log(p) - x, own - x) for g, kind, x, own in held if (p := model.lift(g, kind)) is not None]
    if len(pairs) < 3:
        return default
    km_err, own_err = (np.mean(np.square(v)) for v in zip(*pairs))
    return float(np.clip(0.5 * own_err / max(km_err, 1e-6), 0.1, 4.0))
