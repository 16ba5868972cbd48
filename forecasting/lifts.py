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
    def kind_index(self) -> dict[str, int]:
        """kind -> small integer code (first seen first)."""
        return {k: i for i, k in enumerate(dict.fromkeys(e.kind for e in self.events))}

    @cached_property
    def kind_codes(self) -> np.ndarray:
        return np.array([self.kind_index[e.kind] for e in self.events], dtype=np.int64)

    @cached_property
    def usable(self) -> np.ndarray:
        """Rows with a measured, positive lift."""
        return np.isfinite(self.lift) & (self.lift > 0)

    @cached_property
    def log_lift(self) -> np.ndarray:
        """log lift, 0 where unusable (weighted 0 there)."""
        return np.log(np.where(self.usable, self.lift, 1.0))

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


def within_kind_var(codes: np.ndarray, logs: np.ndarray) -> float:
    """Event-to-event variance of log lifts around each kind's mean (``codes``: the kind of each
    lift as small integers), shrunk toward PRIOR_SD."""
    n = np.bincount(codes)
    mean = np.bincount(codes, weights=logs, minlength=len(n)) / np.maximum(n, 1)
    ss = float(np.square(logs - mean[codes]).sum()) if len(logs) else 0.0
    dof = int((n - 1)[n > 0].sum())
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
    usable = table.usable if known is None else table.usable & known
    code = table.kind_index.get(kind, -1)
    same = (table.kind_codes == code) & usable
    any_same = bool(same.any())
    age = ((when if isinstance(when, (int, np.integer)) else when.value) - table.starts_ns) / DAY.value
    w = np.where(usable, 0.5 ** (np.maximum(age, 0) / half_life_days), 0.0)
    p = prior_for(prior, kind)
    pw = prior_weight if p is not None and p > 0 else 0.0
    if any_same or pw:
        # a prior is about this kind: it beats this series' other kinds
        w = np.where(same, w, w * kind_weight)
    logs = table.log_lift
    wsum = float(w.sum())
    total = wsum + pw
    if total <= 0:
        return None
    mean = (float(w @ logs) + (pw * np.log(p) if pw else 0.0)) / total
    if not any_same and not pw and wsum > 0:
        # a first of its kind: size for the biggest kind seen (each kind's weighted mean), not the
        # average; under-forecasting is the dangerous direction for capacity
        kind_w = np.bincount(table.kind_codes, weights=w)
        kind_mean = np.bincount(table.kind_codes, weights=w * logs) / np.where(kind_w > 0, kind_w, 1.0)
        mean = float(kind_mean[kind_w > 0].max())
    n_eff = wsum ** 2 / float(w @ w) if wsum > 0 else 0.0
    var = within_kind_var(table.kind_codes[usable], logs[usable]) * (1 + 1 / max(n_eff + pw, 1e-9))
    if not any_same and wsum > 0:
        # another kind's lift says little about this kind: add the spread between kinds
        var += max(float(w @ np.square(logs - mean)) / wsum, BETWEEN_KIND_SD ** 2)
    elif not any_same:
        var += PRIOR_SPREAD_SD ** 2
    return PooledLift(log_lift=float(mean), sd=float(np.sqrt(var)), n_same=int(same.sum()), n_used=int(usable.sum()),
                      weights=w, from_prior=wsum == 0)


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


@dataclass(frozen=True)
class KindRows:
    """Every usable past lift of many series as arrays (built once, filtered per cutoff)."""

    series: np.ndarray        # series code per row
    kind: np.ndarray          # kind code per row
    x: np.ndarray             # log(lift - 1)
    end_ns: np.ndarray
    series_names: list
    kind_names: list


def kind_rows(tables: dict[str, LiftTable]) -> KindRows:
    g, k, x, end = [], [], [], []
    for name, t in tables.items():
        ok = np.isfinite(t.lift) & (t.lift > 1.0 + MIN_EXCESS)
        if ok.any():
            g.append(np.full(int(ok.sum()), name, dtype=object))
            k.append(t.kinds[ok])
            x.append(np.log(t.lift[ok] - 1.0))
            end.append(t.ends_ns[ok])
    if not g:
        return KindRows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), [], [])
    gs, gn = pd.factorize(np.concatenate(g))
    ks, kn = pd.factorize(np.concatenate(k))
    return KindRows(gs, ks, np.concatenate(x), np.concatenate(end), list(gn), list(kn))


def fit_kind_model(tables: dict[str, LiftTable] | KindRows, iterations: int = 10,
                   before: pd.Timestamp | None = None) -> KindModel | None:
    """Two-way additive fit (alternating means) of log(lift - 1); None with under two series.
    ``before``: only events that ended by then (the model a backtest origin would have had).
    ``tables`` may be :func:`kind_rows` of them, built once for several cutoffs."""
    rows = tables if isinstance(tables, KindRows) else kind_rows(tables)
    keep = np.ones(len(rows.x), bool) if before is None else rows.end_ns <= before.value
    g, k, x = rows.series[keep], rows.kind[keep], rows.x[keep]
    if len(np.unique(g)) < 2:
        return None
    ng, nk = len(rows.series_names), len(rows.kind_names)
    cg, ck = np.bincount(g, minlength=ng), np.bincount(k, minlength=nk)
    effect, scale = np.zeros(nk), np.zeros(ng)
    for _ in range(iterations):
        scale = np.bincount(g, weights=x - effect[k], minlength=ng) / np.maximum(cg, 1)
        effect = np.bincount(k, weights=x - scale[g], minlength=nk) / np.maximum(ck, 1)
    resid = x - scale[g] - effect[k]
    dof = max(len(x) - int((cg > 0).sum()) - int((ck > 0).sum()) + 1, 1)
    return KindModel(scale={rows.series_names[i]: float(scale[i]) for i in np.flatnonzero(cg)},
                     effect={rows.kind_names[i]: float(effect[i]) for i in np.flatnonzero(ck)},
                     sd=float(np.sqrt(np.square(resid).sum() / dof)))


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
