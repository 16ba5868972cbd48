"""Peak of the next event = projected normal peak x pooled lift of past events.

    forecast_event_peak(series, events, target, cutoff=None) -> PeakForecast

1. The series (any units, any regular step from minutes to days) is reduced to daily peaks on
   days aligned with the target's start hour.
2. The normal daily peak is fitted on quiet days (no event, pre-heat or hangover) with a
   log-linear trend and a weekly season, and projected to the target's days (OLS, statsmodels'
   arithmetic without its model objects: see ``baseline._pinv``).
3. Each past event's lift is its peak over the normal peak the same fit predicts for it from
   the data before it; lifts are pooled (same kind first, recent first) and shrunk toward an
   optional prior (product line, fleet).
4. Candidates (this pooled model, the last same-kind lift, the same event last year x growth,
   their combination) are scored on the series' own past events at the same lead and one is
   chosen (:mod:`forecasting.methods`); the 80% interval comes from the chosen method's errors.
5. Far ahead, the baseline's trend stops after 60 days and the measured year-on-year growth carries
   on; a forecast orders of magnitude outside what the series has done is capped and flagged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.errors import ForecastError
from forecasting import methods
from forecasting.baseline import WINDOW_DAYS, project, quiet_mask
from forecasting.events import Event, check_events
from forecasting.lifts import LiftTable, Prior, disturbed_days, event_days, measure, pool
from forecasting.series import DAY, check_same_clock, check_series, daily_peaks, gap_fraction

#: at most this share of samples missing in the baseline window before the forecast is flagged
MAX_GAPS = 0.2
#: beyond this horizon the trend stops; without a measured year-on-year growth the forecast is flagged
LONG_HORIZON_DAYS = methods.TREND_DAYS
#: a forecast more than this many times the largest value the series has had (or less than its
#: smallest daily peak over it) is capped there and flagged: orders of magnitude, not a tuning
CAP_RATIO = 10.0
#: (lift, weight) per past event name: the fleet's prior as a backtest case would have had it
OriginPriors = dict


@dataclass(frozen=True)
class PeakForecast:
    """Forecast of an event's peak, in the series' units.

    ``lower``/``upper`` bound the ``level`` (80%) interval. ``baseline`` is the normal daily
    peak projected to the event, ``lift`` the pooled multiplier, ``trend`` the baseline's growth
    per day (0.002 = +0.2 %/day). ``lifts`` lists the past events measured, with the weight
    each got. ``low_confidence`` is True when ``reasons`` says why the number is weak.
    """

    target: Event
    point: float
    lower: float
    upper: float
    baseline: float
    lift: float
    trend: float
    cutoff: pd.Timestamp
    horizon_days: float
    level: float = 0.8
    sigma: float = 0.0
    n_events: int = 0
    n_same_kind: int = 0
    reasons: tuple[str, ...] = ()
    method: str = "pooled"
    method_mdape: dict = field(default_factory=dict)   # every candidate's MdAPE on the past cases
    n_cases: int = 0                                    # past events the methods were scored on
    candidates: dict = field(default_factory=dict)     # every candidate's point forecast
    capped: bool = False
    notes: tuple[str, ...] = ()                         # data handling that does not weaken it
    case_errors: np.ndarray | None = field(default=None, repr=False, compare=False)
    table: LiftTable | None = field(default=None, repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)
    prepared: object = field(default=None, repr=False, compare=False)

    def with_prior(self, prior: Prior, prior_weight: float = 1.0, origin_priors: OriginPriors | None = None,
                   method_prior: dict | None = None) -> "PeakForecast":
        """The same forecast with another prior (no refit: the lifts are pooled again and the
        methods scored again; ``origin_priors`` are the priors each past case would have had,
        ``method_prior`` {kind seen before: the fleet's mean squared log error per method})."""
        return _finish(self.prepared, prior, prior_weight, origin_priors, method_prior)

    @property
    def seen_kind(self) -> bool:
        """The target's kind has a past event with a measured lift (the situation its methods are scored in)."""
        return bool(self.table is not None and np.isfinite(methods.last_lift(
            self.table, self.target.kind, methods.known_rows(self.table, self.cutoff.value))))

    @property
    def past_mdape(self) -> float:
        """The chosen method's median absolute % error on the series' past events (NaN: none)."""
        return float(self.method_mdape.get(self.method, np.nan))

    @property
    def lifts(self) -> pd.DataFrame:
        """Past events measured: baseline, peak, lift, peak time and the weight each got."""
        return self.table.frame(self.weights) if self.table is not None else pd.DataFrame()

    @property
    def low_confidence(self) -> bool:
        return bool(self.reasons)

    @property
    def components(self) -> dict[str, float]:
        return {"baseline": self.baseline, "lift": self.lift, "trend": self.trend}

    def as_row(self) -> dict:
        return {"event": self.target.name, "kind": self.target.kind, "point": self.point,
                "lower": self.lower, "upper": self.upper, "baseline": self.baseline, "lift": self.lift,
                "trend_per_day": self.trend, "n_events": self.n_events, "method": self.method,
                "past_mdape": self.past_mdape, "n_cases": self.n_cases, "capped": self.capped,
                "low_confidence": self.low_confidence, "reasons": "; ".join(self.reasons + self.notes)}


@lru_cache(maxsize=16)
def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2))


def _as_cutoff(cutoff, s: pd.Series) -> pd.Timestamp:
    if cutoff is None:
        return s.index[-1]
    try:
        ts = pd.Timestamp(cutoff)
    except (TypeError, ValueError) as exc:
        raise ForecastError(f"cutoff={cutoff!r} is not a timestamp; pass a pd.Timestamp.") from exc
    if (ts.tzinfo is None) != (s.index.tz is None):
        raise ForecastError("cutoff and the series index disagree on time zones (one is naive); "
                            "give the cutoff the series' time zone.")
    return ts


def _check_target(target, cutoff: pd.Timestamp, given: bool) -> None:
    if not isinstance(target, Event):
        raise ForecastError(f"target must be a forecasting.Event, got {type(target).__name__}; "
                            f"build it with Event(name=..., kind=..., start=..., end=...).")
    if target.start <= cutoff:
        fix = ("move the cutoff before the target's start" if given else
               f"the series already runs to {cutoff}: to backtest this event pass cutoff= a moment "
               f"before its start")
        raise ForecastError(f"target '{target.name}' starts at {target.start}, not after the cutoff "
                            f"{cutoff}: a forecast is for a future event; {fix}.")


def _split_events(events: list[Event], target: Event, cutoff: pd.Timestamp) -> tuple[list[Event], list[str]]:
    past, reasons = [], []
    for e in events:
        if e.end <= cutoff and e.start < target.start:
            past.append(e)
        elif e.start <= cutoff < e.end:
            reasons.append(f"event '{e.name}' is still running at the cutoff; it is not used")
    return past, reasons


def _no_baseline(s: pd.Series, target: Event, cutoff: pd.Timestamp) -> ForecastError:
    before = s[s.index < target.quiet_from]
    if before.empty:
        return ForecastError(f"no history before target '{target.name}' ({target.quiet_from}, pre-heat "
                             f"included) up to the cutoff {cutoff}; the series starts at {s.index[0]}. "
                             f"Give at least a few weeks of data before the event.")
    if (before.tail(200) <= 0).all():
        return ForecastError(f"the series is zero or negative before target '{target.name}'; a lift "
                             f"needs a positive normal level: forecast a positive quantity or leave this "
                             f"series out.")
    return ForecastError(f"too little normal history before target '{target.name}': fewer than 3 full "
                         f"days outside events and pre-heat in the {WINDOW_DAYS} days before it; give "
                         f"more history or check the events' dates.")


def forecast_event_peak(series: pd.Series, events: Iterable[Event], target: Event, cutoff=None, *,
                        prior: Prior = None, prior_weight: float = 1.0, level: float = 0.8) -> PeakForecast:
    """Forecast the peak of ``target`` from ``series`` and its past ``events``.

    Args:
        series: values with a DatetimeIndex at a regular step (minutes to days), any units.
        events: past events (the target itself and later events may be included; they are skipped).
        target: the event to forecast.
        cutoff: last moment of data that may be used (default: the series' end).
        prior: lift to shrink toward when history is thin (a number, or ``{kind: lift}``),
            e.g. the product line's or the fleet's pooled lift.
        prior_weight: how many past events the prior is worth.
        level: interval coverage (0.8 = 80%).

    Raises:
        ForecastError: bad series or events, a target at or before the cutoff, no history
            before the target, no past event and no prior.
    """
    return _finish(_prepare(series, events, target, cutoff, level), prior, prior_weight)


def forecast_unscored(series, events, target: Event, cutoff=None) -> PeakForecast:
    """:func:`forecast_event_peak` without scoring the methods on past events (a fleet's first
    pass for the series it does not sample: only their lifts are needed before the priors)."""
    return _finish(_prepare(series, events, target, cutoff, 0.8), None, 1.0, score=False)


@dataclass(frozen=True)
class _Prepared:
    """Everything of a forecast but the pooling: lets a prior be applied again cheaply."""

    target: Event
    cutoff: pd.Timestamp
    level: float
    horizon: float
    table: LiftTable
    base: object
    base_log: float            # log normal peak at the target (trend stopped, growth added far out)
    growth: float              # log year-on-year growth at the cutoff (NaN: unknown)
    cases: methods.Origins
    max_seen: float
    min_peak: float
    reasons: tuple[str, ...]
    notes: tuple[str, ...]


def _prepare(series, events, target, cutoff, level) -> _Prepared:
    s, step, notes = check_series(series, notes=True)
    given = cutoff is not None
    cutoff = _as_cutoff(cutoff, s)
    if isinstance(target, Event):
        check_same_clock(s, target.start)
    _check_target(target, cutoff, given)
    if not 0 < level < 1:
        raise ForecastError(f"level={level} must be between 0 and 1, e.g. 0.8 for an 80% interval.")
    # in time order whatever order they come in: the same events give the same forecast to the last digit
    others = sorted((e for e in events if e != target), key=lambda e: (e.start, e.name)) if events is not None else []
    check_events(others + [target])
    s = s.iloc[:int(np.searchsorted(s.index.asi8, cutoff.value, side="right"))]
    if s.empty:
        raise ForecastError(f"no history before target '{target.name}': the series starts after the "
                            f"cutoff {cutoff}.")
    past, reasons = _split_events(others, target, cutoff)
    peaks = daily_peaks(s, step, target.start)
    quiet = quiet_mask(peaks, disturbed_days(peaks, others + [target]))
    table = measure(s, peaks, past, quiet)
    end_day = min(peaks.day_of(target.quiet_from), peaks.day_of(cutoff) + 1)
    horizon = float((target.start - cutoff) / DAY)
    base = project(peaks, quiet, end_day, event_days(peaks, target), ahead=methods.trend_cap(horizon))
    if base is None:
        raise _no_baseline(s, target, cutoff)
    cases, growth = methods.origins(peaks, quiet, table, horizon, extra_end=end_day)
    reasons += _data_weak_spots(base, s, step, cutoff, horizon, growth)
    positive = peaks.peak[peaks.peak > 0]
    return _Prepared(target=target, cutoff=cutoff, level=level, horizon=horizon, table=table, base=base,
                     base_log=_base_log(table, target, cutoff, base, growth, horizon), growth=growth,
                     cases=cases, max_seen=float(s.max()),
                     min_peak=float(positive.min()) if len(positive) else np.nan,
                     reasons=tuple(reasons), notes=tuple(notes))


def _finish(prep: _Prepared, prior: Prior, prior_weight: float, origin_priors: OriginPriors | None = None,
            method_prior: dict | None = None, score: bool = True) -> PeakForecast:
    """The forecast from a prepared series; ``score=False`` skips the past cases (the methods then
    combine with equal weights: a fleet's first pass for the series it does not sample)."""
    target, base = prep.target, prep.base
    pooled = pool(prep.table, target.kind, target.start, prior, prior_weight)
    if pooled is None:
        raise ForecastError(f"no past event before the cutoff {prep.cutoff} has a measurable lift, and no "
                            f"prior was given; pass past events in events= or a lift in prior=.")
    case_lifts = _case_lifts(prep, origin_priors or {}) if score else []
    choice = _choose(prep, pooled.log_lift, case_lifts, method_prior)
    model_sd = float(np.hypot(pooled.sd, base.se))
    sigma = methods.interval_sd(choice.errors, model_sd)
    if pooled.n_same == 0:      # first of its kind: past cases of known kinds understate the risk
        sigma = max(sigma, model_sd)
    z = _z(prep.level)
    log_point, capped, cap_reason = _sane(prep, choice.log_point)
    reasons = _lift_weak_spots(pooled, target) + list(prep.reasons) + _method_weak_spots(choice) + cap_reason
    return PeakForecast(target=target, point=float(np.exp(log_point)),
                        lower=float(np.exp(log_point - z * sigma)), upper=float(np.exp(log_point + z * sigma)),
                        baseline=float(np.exp(prep.base_log)), lift=float(np.exp(log_point - prep.base_log)),
                        trend=float(np.expm1(base.slope)), cutoff=prep.cutoff, horizon_days=prep.horizon,
                        level=prep.level, sigma=sigma, n_events=pooled.n_used, n_same_kind=pooled.n_same,
                        reasons=tuple(reasons), method=choice.method, method_mdape=choice.mdape,
                        n_cases=choice.n_cases, candidates={k: float(np.exp(v)) for k, v in choice.candidates.items()},
                        case_errors=choice.case_errors,
                        capped=capped, notes=prep.notes, table=prep.table, weights=pooled.weights, prepared=prep)


def _case_lifts(prep: _Prepared, origin_priors: OriginPriors) -> list[float | None]:
    """The pooled log lift each past case would have had (with its prior, if the fleet gave one)."""
    table, lifts = prep.table, []
    for row, cut in zip(prep.cases.row, prep.cases.cut_ns):
        e = table.events[row]
        prior, weight = origin_priors.get(e.name, (None, 0.0))
        p = pool(table, e.kind, e.start.value, None if prior is None else {e.kind: prior}, weight,
                 known=methods.known_rows(table, int(cut)))
        lifts.append(None if p is None else p.log_lift)
    return lifts


def _choose(prep: _Prepared, pooled_lift: float, lifts: list[float | None], method_prior=None) -> methods.Choice:
    """Every candidate at the target and on each past case; the method the cases favour."""
    table, cases, kind = prep.table, prep.cases, prep.target.kind
    known = methods.known_rows(table, prep.cutoff.value)
    target_cand = methods.candidates(table, kind, prep.target.start.value, known, prep.base_log, prep.growth,
                                     pooled_lift)
    seen = bool(np.isfinite(methods.last_lift(table, kind, known)))
    prior = None if method_prior is None else method_prior.get(seen)
    err, same = methods.case_errors(table, cases, lifts, kind, seen, prior)
    return methods.choose(err, same, target_cand, prior)


def _base_log(table: LiftTable, target: Event, cutoff: pd.Timestamp, base, growth: float, horizon: float) -> float:
    """Log normal peak at the target: the fit projected (its trend stopped at 60 days, the growth
    beyond); far ahead, last year's level around the same kind of event x the growth, if any."""
    near = methods.baseline_log(base.log_level, growth, horizon)
    if horizon <= methods.TREND_DAYS:
        return near
    far = methods.far_base(table, target.kind, target.start.value, methods.known_rows(table, cutoff.value), growth)
    return far if np.isfinite(far) else near


def _sane(prep: _Prepared, log_point: float) -> tuple[float, bool, list[str]]:
    """Cap a forecast orders of magnitude outside what the series has done, and say so."""
    top = np.log(CAP_RATIO * prep.max_seen) if prep.max_seen > 0 else np.inf
    bottom = np.log(prep.min_peak / CAP_RATIO) if prep.min_peak > 0 else -np.inf
    if log_point > top:
        return top, True, [f"the forecast {np.exp(log_point):.4g} was more than {CAP_RATIO:g}x the largest value "
                           f"the series has had ({prep.max_seen:.4g}); capped there: check the events and the data"]
    if log_point < bottom:
        return bottom, True, [f"the forecast {np.exp(log_point):.4g} was under 1/{CAP_RATIO:g} of the smallest "
                              f"daily peak the series has had ({prep.min_peak:.4g}); raised there: check the data"]
    return log_point, False, []


def _method_weak_spots(choice: methods.Choice) -> list[str]:
    if choice.n_cases < methods.MIN_CASES:
        return [f"only {choice.n_cases} past event(s) to check the methods on (at least {methods.MIN_CASES} "
                f"wanted); the forecast is their combination"]
    return []


def _lift_weak_spots(pooled, target) -> list[str]:
    if pooled.from_prior:
        return [f"no past event of kind '{target.kind}' with a measurable lift; the lift is the prior's"]
    if pooled.n_same == 0:
        return [f"no past event of kind '{target.kind}'; lift taken from other kinds"]
    return []


def _data_weak_spots(base, s, step, cutoff, horizon, growth) -> list[str]:
    reasons = []
    if base.n_days < 28:
        reasons.append(f"only {base.n_days} normal days to fit the baseline (28 or more wanted)")
    gaps = gap_fraction(s, step, max(cutoff - pd.Timedelta(days=WINDOW_DAYS), s.index[0]), cutoff)
    if gaps > MAX_GAPS:
        reasons.append(f"{gaps:.0%} of the samples in the last {WINDOW_DAYS} days are missing")
    if horizon > LONG_HORIZON_DAYS and not np.isfinite(growth):
        reasons.append(f"the target is {horizon:.0f} days after the cutoff and no year-on-year growth could be "
                       f"measured (less than a year of history): the normal peak is held at its level "
                       f"{LONG_HORIZON_DAYS} days ahead")
    return reasons
