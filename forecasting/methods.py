"""Candidate forecasts of an event's peak, scored on the series' own past events, and the choice.

Candidates, on the log scale, from the same cutoff and data:

- ``pooled``: the normal peak projected to the event x the pooled lift (:func:`forecasting.lifts.pool`,
  with the fleet's kind-model prior when there is one);
- ``last_lift``: the normal peak x the last same-kind event's lift (the planner's spreadsheet);
- ``year_growth``: the same kind's event about a year earlier x the measured year-on-year growth;
- ``combined``: the mean of the three weighted by the inverse of their mean squared error on the
  cases before (equal weights with fewer than two).

A candidate that cannot be made (no same-kind event, no event a year back) falls back to
``pooled``, so every candidate has a value wherever the pooled model has one.

Rolling origin: every past event of the series is forecast again from a cutoff ``lead`` days before
its start, with only the events and data known then. With fewer than ``CHOOSE_CASES`` cases the
combination is used; otherwise the method with the smallest mean squared log error on those
cases (the same-kind ones when there are ``CHOOSE_CASES``): in a fleet shrunk toward the fleet's
errors, for a series alone only when it beats the combination by more than a standard error. Cases are those in the target's
situation: a kind seen before, or a first of its kind (a different regime). Nothing is tuned on one data set:
every series picks by its own past. The 80% interval comes from the chosen method's own errors
(their root mean square, shrunk toward the model's own spread with ``PSEUDO_CASES`` pseudo-cases).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.baseline import ANNUAL_MIN_DAYS, fit_points, yoy_growth
from forecasting.lifts import LiftTable, event_days
from forecasting.series import DAY_NS, DailyPeaks

METHODS = ("pooled", "last_lift", "year_growth", "combined")
#: past cases below which the forecast is flagged (its method and interval rest on too little)
MIN_CASES = 3
#: past cases needed before one method may replace the combination: picking the best of four on a
#: handful of cases mostly picks noise (on the seeded test fleet, picking on 3-5 cases: 5.6% MdAPE
#: against 4.6% for the combination)
CHOOSE_CASES = 6
#: "the same event last year": between these many days before the target
YEAR_MIN_DAYS, YEAR_MAX_DAYS = 300, 430
#: weight of the model's own spread in the interval, in past cases
PSEUDO_CASES = 2.0
#: in a fleet, the errors of every series' methods count as this many cases of each series' own
#: (as many as a series needs to pick on its own): a series picks by its own past, shrunk toward
#: what worked across the fleet
FLEET_CASES = CHOOSE_CASES
#: beyond this many days ahead the baseline's trend stops; the year-on-year growth carries on
TREND_DAYS = 60


@dataclass(frozen=True)
class Origins:
    """Past events forecast again at the target's lead; one entry per case, by start."""

    row: np.ndarray          # row of the lift table (the event forecast)
    cut_ns: np.ndarray       # the cutoff of that case
    base: np.ndarray         # log normal peak projected to the event from that cutoff
    growth: np.ndarray       # log year-on-year growth at that cutoff (NaN when unknown)
    truth: np.ndarray        # log observed peak


@dataclass(frozen=True)
class Choice:
    method: str
    log_point: float
    candidates: dict[str, float]     # every candidate's log forecast at the target
    errors: np.ndarray               # the chosen method's log errors (forecast - truth) on the cases
    case_errors: np.ndarray          # every method's errors on the cases (n x 4), for the fleet's prior
    mdape: dict[str, float]          # each method's median absolute % error on the cases
    n_cases: int
    scored_on: str                   # "same kind" or "all kinds"


def baseline_log(fit: float, growth: float, horizon_days: float) -> float:
    """Log normal peak at the event: the fit (trend stopped at ``TREND_DAYS``) plus the year-on-year
    growth for the days beyond (nothing added when the growth is unknown)."""
    extra = max(0.0, horizon_days - TREND_DAYS)
    return fit + (growth * extra / 365.0 if extra and np.isfinite(growth) else 0.0)


def trend_cap(horizon_days: float) -> int | None:
    return TREND_DAYS if horizon_days > TREND_DAYS else None


def growth_at(peaks: DailyPeaks, quiet: np.ndarray, ends: np.ndarray, lead_days: float) -> np.ndarray:
    """Year-on-year log growth at each end day: for a far lead the last year against the year
    before (a swell of the last weeks does not carry months ahead), else, or when two years are
    not there, the last four weeks against the same weeks a year earlier."""
    recent = yoy_growth(peaks, quiet, ends)
    if lead_days <= TREND_DAYS:
        return recent
    annual = yoy_growth(peaks, quiet, ends, window=365, min_days=ANNUAL_MIN_DAYS)
    return np.where(np.isfinite(annual), annual, recent)


def far_base(table: LiftTable, kind: str, start_ns: int, known: np.ndarray, growth: float) -> float:
    """Far ahead, the normal peak is last year's, around the same event, x the growth since: the
    season's own level instead of today's run forward (NaN without a same-kind event a year back)."""
    age = (start_ns - table.starts_ns) / (DAY_NS * 1.0)
    ok = (known & (table.kinds == kind) & np.isfinite(table.baseline) & (age >= YEAR_MIN_DAYS)
          & (age <= YEAR_MAX_DAYS))
    idx = np.flatnonzero(ok)
    if not len(idx) or not np.isfinite(growth):
        return np.nan
    j = idx[np.argmax(table.starts_ns[idx])]
    return float(np.log(table.baseline[j]) + growth * age[j] / 365.0)


def origins(peaks: DailyPeaks, quiet: np.ndarray, table: LiftTable, lead_days: float,
            extra_end: int | None = None) -> tuple[Origins, float]:
    """The rolling-origin cases of one series at ``lead_days``, and the year-on-year growth at
    ``extra_end`` (the target's, NaN without one): one batched pass. A case whose cutoff falls
    inside its pre-heat fits the same days as the event's lift measurement: that fit is reused."""
    lead_ns = int(lead_days * DAY_NS)
    rows = [i for i in range(len(table.events)) if np.isfinite(table.peak[i]) and table.peak[i] > 0]
    cuts = np.array([table.events[i].start.value - lead_ns for i in rows], dtype=np.int64)
    quiet_end = [peaks.day_of(table.events[i].quiet_from) for i in rows]
    ends = [min(q, peaks.day_after(int(c))) for q, c in zip(quiet_end, cuts)]
    cap = trend_cap(lead_days)
    redo = [k for k, i in enumerate(rows) if ends[k] != quiet_end[k] or cap is not None or not np.isfinite(table.baseline[i])]
    fits = [np.log(table.baseline[i]) if np.isfinite(table.baseline[i]) else None for i in rows]
    for k, f in zip(redo, fit_points(peaks, quiet, [ends[k] for k in redo],
                                     [event_days(peaks, table.events[rows[k]]) for k in redo], ahead=cap)):
        fits[k] = f
    growth_all = growth_at(peaks, quiet, np.array(ends + ([extra_end] if extra_end is not None else []), dtype=np.int64),
                           lead_days)
    growth = growth_all[:len(ends)]
    base = np.array([np.nan if f is None else baseline_log(f, g, lead_days) for f, g in zip(fits, growth)])
    if cap is not None:      # far ahead: last year's season x growth, where there is one
        for k, i in enumerate(rows):
            e = table.events[i]
            far = far_base(table, e.kind, e.start.value, known_rows(table, int(cuts[k])), growth[k])
            if np.isfinite(far) and np.isfinite(base[k]):
                base[k] = far
    keep = np.isfinite(base)
    cases = Origins(row=np.array(rows, dtype=np.int64)[keep], cut_ns=cuts[keep], base=base[keep],
                    growth=growth[keep], truth=np.log(table.peak[rows][keep]) if rows else np.zeros(0))
    return cases, float(growth_all[-1]) if extra_end is not None else np.nan


def known_rows(table: LiftTable, cut_ns: int) -> np.ndarray:
    """Events that had ended by ``cut_ns``."""
    return table.ends_ns <= cut_ns


def last_lift(table: LiftTable, kind: str, known: np.ndarray) -> float:
    """Log lift of the latest known event of ``kind`` (NaN when none)."""
    ok = known & (table.kinds == kind) & np.isfinite(table.lift) & (table.lift > 0)
    idx = np.flatnonzero(ok)
    return float(np.log(table.lift[idx[np.argmax(table.starts_ns[idx])]])) if len(idx) else np.nan


def year_before(table: LiftTable, kind: str, start_ns: int, known: np.ndarray, growth: float) -> float:
    """Log peak of the same kind's event about a year before ``start_ns`` x the growth since."""
    age = (start_ns - table.starts_ns) / (DAY_NS * 1.0)
    ok = known & (table.kinds == kind) & (table.peak > 0) & (age >= YEAR_MIN_DAYS) & (age <= YEAR_MAX_DAYS)
    idx = np.flatnonzero(ok)
    if not len(idx) or not np.isfinite(growth):
        return np.nan
    j = idx[np.argmax(table.starts_ns[idx])]
    return float(np.log(table.peak[j]) + growth * age[j] / 365.0)


def candidates(table: LiftTable, kind: str, start_ns: int, known: np.ndarray, base: float, growth: float,
               pooled_lift: float) -> np.ndarray:
    """[pooled, last_lift, year_growth] log forecasts (the last two fall back to pooled)."""
    pooled = base + pooled_lift
    last = base + last_lift(table, kind, known)
    year = year_before(table, kind, start_ns, known, growth)
    return np.array([pooled, last if np.isfinite(last) else pooled, year if np.isfinite(year) else pooled])


def _mse(errors: np.ndarray, prior: np.ndarray | None) -> np.ndarray | None:
    """Mean squared log error per column, shrunk toward ``prior`` (the fleet's) with
    ``FLEET_CASES`` pseudo-cases; None with fewer than two cases and no prior."""
    if prior is not None:
        return (np.square(errors).sum(axis=0) + FLEET_CASES * prior) / (len(errors) + FLEET_CASES)
    return np.mean(np.square(errors), axis=0) if len(errors) >= 2 else None


def _combine(cand: np.ndarray, errors: np.ndarray, prior: np.ndarray | None) -> float:
    """Inverse-MSE weighted mean of the three candidates (equal weights without two cases)."""
    mse = _mse(errors, prior)
    w = np.ones(3) if mse is None else 1.0 / (mse + 1e-4)
    return float(cand @ w / w.sum())


def _mdape(errors: np.ndarray) -> np.ndarray:
    """Median absolute % error per column (NaN without cases)."""
    return np.median(np.abs(np.expm1(errors)), axis=0) if len(errors) else np.full(errors.shape[1], np.nan)


def _latest(mask: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``mask`` (cases x events): (any event, the index of the latest one)."""
    score = np.where(mask, starts[None, :], np.iinfo(np.int64).min)
    return mask.any(axis=1), np.argmax(score, axis=1)


def case_candidates(table: LiftTable, cases: Origins, rows: np.ndarray, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`candidates` at every case in ``rows`` at once (cases x events masks), and whether
    each case's kind had been seen (a known same-kind event with a lift)."""
    ev = cases.row[rows]
    cut = cases.cut_ns[rows]
    kinds = table.kind_codes
    known = table.ends_ns[None, :] <= cut[:, None]
    same = known & (kinds[None, :] == kinds[ev][:, None])
    lifted = same & np.isfinite(table.lift)[None, :] & (table.lift > 0)[None, :]
    seen, j = _latest(lifted, table.starts_ns)
    with np.errstate(divide="ignore", invalid="ignore"):
        last = np.where(seen, cases.base[rows] + np.log(np.where(seen, table.lift[j], 1.0)), np.nan)
        age = (table.starts_ns[ev][:, None] - table.starts_ns[None, :]) / (DAY_NS * 1.0)
        year_ok = same & (table.peak > 0)[None, :] & (age >= YEAR_MIN_DAYS) & (age <= YEAR_MAX_DAYS)
        has_year, y = _latest(year_ok, table.starts_ns)
        k = np.arange(len(rows))
        year = np.where(has_year & np.isfinite(cases.growth[rows]),
                        np.log(np.where(has_year, table.peak[y], 1.0)) + cases.growth[rows] * age[k, y] / 365.0,
                        np.nan)
    cand = np.column_stack([pooled, np.where(np.isfinite(last), last, pooled), np.where(np.isfinite(year), year, pooled)])
    return cand, seen


def case_errors(table: LiftTable, cases: Origins, case_lifts: list[float | None], kind: str, target_seen: bool,
                prior: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(log errors of the four methods on the cases in the target's situation, same-kind flags).

    The situation: a kind seen before, or a first of its kind (a different regime). The
    combination at each case is weighted by the errors of the cases before it."""
    ok = np.array([i for i, lift in enumerate(case_lifts) if lift is not None], dtype=np.int64)
    if not len(ok):
        return np.zeros((0, 4)), np.zeros(0, bool)
    pooled = cases.base[ok] + np.array([case_lifts[i] for i in ok])
    cand, seen = case_candidates(table, cases, ok, pooled)
    err = cand - cases.truth[ok][:, None]
    comb = np.array([_combine(cand[i], err[:i], prior[:3] if prior is not None else None) for i in range(len(ok))])
    err = np.column_stack([err, comb - cases.truth[ok]])
    same = table.kinds[cases.row[ok]] == kind
    keep = seen == target_seen
    return err[keep], np.asarray(same, dtype=bool)[keep]


def _beats_combination(scored: np.ndarray, mse: np.ndarray) -> str:
    """The method with the smallest (shrunk) mean squared error, if it beats the combination by more
    than one standard error of their paired difference on the cases; else the combination (a
    single method must earn its place: on a handful of cases the best of four is mostly luck)."""
    comb = METHODS.index("combined")
    best = int(np.argmin(mse))
    if best == comb:
        return "combined"
    diff = np.square(scored[:, best]) - np.square(scored[:, comb])
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.inf
    return METHODS[best] if mse[best] - mse[comb] + se < 0 else "combined"


def choose(err: np.ndarray, same: np.ndarray, target_cand: np.ndarray, prior: np.ndarray | None = None) -> Choice:
    """Pick the method with the smallest mean squared log error on the cases (the same-kind ones
    when there are ``CHOOSE_CASES``), shrunk toward the fleet's errors when ``prior`` is given (the
    fleet's mean squared error per method); the combination when the cases (with the fleet's
    pseudo-cases) are fewer than ``CHOOSE_CASES``.

    Args:
        err, same: :func:`case_errors`.
        target_cand: :func:`candidates` at the target.
    """
    target = dict(zip(METHODS, [*target_cand, _combine(target_cand, err[:, :3], None if prior is None else prior[:3])]))
    scored, scope = (err[same], "same kind") if same.sum() >= CHOOSE_CASES else (err, "all kinds")
    mse = _mse(scored, prior)
    if mse is None or len(scored) + (FLEET_CASES if prior is not None else 0) < CHOOSE_CASES:
        method = "combined"
    elif prior is not None:      # the fleet's thousands of cases back the shrunk errors
        method = METHODS[int(np.argmin(mse))]
    else:                        # one series alone: a single method must earn its place
        method = _beats_combination(scored, mse)
    errors = err[:, METHODS.index(method)]
    return Choice(method=method, log_point=target[method], candidates=target, errors=errors, case_errors=err,
                  mdape=dict(zip(METHODS, _mdape(err).tolist())), n_cases=len(err), scored_on=scope)


def interval_sd(errors: np.ndarray, model_sd: float) -> float:
    """Spread of the next log error: the past errors' root mean square shrunk toward the model's
    own spread (``PSEUDO_CASES`` pseudo-cases), widened by ``1 + 1/n`` for the mean's uncertainty."""
    n = len(errors)
    var = (float(np.square(errors).sum()) + PSEUDO_CASES * model_sd ** 2) / (n + PSEUDO_CASES)
    return float(np.sqrt(var * (1 + 1 / (n + PSEUDO_CASES))))

