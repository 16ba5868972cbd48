"""Backtest: forecast every past event from the data before it, score against what happened.

Every event with at least one earlier event is forecast from a cutoff ``lead`` days before its
start (1 and 7 by default), with the same data limits a real forecast had. Two naive baselines
run on the same cutoffs:

- ``naive_last``: the last same-kind event's lift x today's level (the last event of any kind
  when the kind has none), where a lift is the event's peak over the mean daily peak of the week
  before its pre-heat, and today's level is the mean daily peak of the last week before the
  cutoff (the planner's spreadsheet);
- ``naive_year``: the same kind's event about a year earlier, its peak x growth (mean daily peak
  of the four weeks before the cutoff over the same four weeks a year earlier).

Scores: median absolute % error (MdAPE), bias (median signed % error) and the share of truths
inside the 80% interval, per series and overall.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from core.errors import ForecastError
from forecasting.events import Event, check_events
from forecasting.model import forecast_event_peak
from forecasting.series import DAY, check_series

LEADS = (1, 7)
#: every candidate method's point forecast (forecasting.methods.METHODS), beside the chosen one
CANDIDATE_COLUMNS = [f"cand_{m}" for m in ("pooled", "last_lift", "year_growth", "combined")]
ROW_COLUMNS = ["series", "event", "kind", "lead_days", "truth", "point", "lower", "upper", "naive_last",
               "naive_year", "n_same_kind", "method", "low_confidence", "error"]


def _mean_daily_peak(s: pd.Series, end: pd.Timestamp, days: int) -> float:
    window = s[(s.index >= end - days * DAY) & (s.index < end)]
    if window.empty:
        return np.nan
    day = (window.index.as_unit("ns").asi8 - end.value) // DAY.value
    return float(window.groupby(day).max().mean())


def peak_of(s: pd.Series, e: Event) -> float:
    """The observed peak of ``e`` in ``s`` (NaN without data)."""
    window = s[(s.index >= e.start) & (s.index < e.end)]
    return float(window.max()) if not window.empty else np.nan


def naive_last(s: pd.Series, past: list[Event], target: Event, cutoff: pd.Timestamp) -> float:
    """Last same-kind event's lift x today's level (see the module docstring)."""
    if not past:
        return np.nan
    same = [e for e in past if e.kind == target.kind]
    last = (same or past)[-1]
    then = _mean_daily_peak(s, last.quiet_from, 7)
    now = _mean_daily_peak(s, min(cutoff, target.quiet_from), 7)
    return peak_of(s, last) / then * now if then > 0 else np.nan


def naive_year(s: pd.Series, past: list[Event], target: Event, cutoff: pd.Timestamp) -> float:
    """Same kind's event about a year earlier x year-on-year growth; NaN when there is none."""
    year = [e for e in past if e.kind == target.kind and 300 <= (target.start - e.start) / DAY <= 430]
    if not year:
        return np.nan
    last = year[-1]
    shift = target.start - last.start
    end = min(cutoff, target.quiet_from)
    then = _mean_daily_peak(s, end - shift, 28)
    now = _mean_daily_peak(s, end, 28)
    return peak_of(s, last) * now / then if then > 0 else np.nan


def backtest_series(series: pd.Series, events: Iterable[Event], *, name: str = "series",
                    leads: Iterable[int] = LEADS, prior=None, prior_weight: float = 1.0) -> pd.DataFrame:
    """One row per (event, lead): truth, forecast, interval and the two naive forecasts."""
    s, _ = check_series(series)
    events = check_events(events)
    rows = []
    for i, target in enumerate(events):
        if i == 0 or target.end > s.index[-1]:
            continue
        truth = peak_of(s, target)
        for lead in leads:
            cutoff = target.start - lead * DAY
            past = [e for e in events[:i] if e.end <= cutoff]
            row = dict(series=name, event=target.name, kind=target.kind, lead_days=lead, truth=truth,
                       point=np.nan, lower=np.nan, upper=np.nan, n_same_kind=0, method="", low_confidence=True,
                       error="",
                       naive_last=naive_last(s, past, target, cutoff),
                       naive_year=naive_year(s, past, target, cutoff))
            p = prior(target) if callable(prior) else prior
            try:
                fc = forecast_event_peak(s, events, target, cutoff, prior=p, prior_weight=prior_weight)
            except ForecastError as exc:
                row["error"] = str(exc)
            else:
                row.update(point=fc.point, lower=fc.lower, upper=fc.upper, n_same_kind=fc.n_same_kind,
                           method=fc.method, low_confidence=fc.low_confidence,
                           **{f"cand_{m}": v for m, v in fc.candidates.items()})
            rows.append(row)
    return pd.DataFrame(rows, columns=ROW_COLUMNS + CANDIDATE_COLUMNS)


def score(rows: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """MdAPE, bias and coverage (model and naive baselines), overall or per ``by`` group."""
    def one(g: pd.DataFrame) -> pd.Series:
        ok = g.dropna(subset=["point", "truth"])
        ok = ok[ok["truth"] > 0]
        err = ok["point"] / ok["truth"] - 1
        inside = (ok["truth"] >= ok["lower"]) & (ok["truth"] <= ok["upper"])
        return pd.Series({
            "n": len(g), "failed": int((g["error"] != "").sum()),
            "mdape": float(err.abs().median()) if len(ok) else np.nan,
            "bias": float(err.median()) if len(ok) else np.nan,
            "coverage_80": float(inside.mean()) if len(ok) else np.nan,
            "mdape_naive_last": _mdape(g, "naive_last"), "mdape_naive_year": _mdape(g, "naive_year"),
            # the model on the same rows as each naive forecast, for a like-for-like comparison
            "mdape_on_last_rows": _mdape(g.dropna(subset=["naive_last"]), "point"),
            "mdape_on_year_rows": _mdape(g.dropna(subset=["naive_year"]), "point"),
        })
    if by is None:
        return one(rows).to_frame().T
    return pd.DataFrame({key: one(g) for key, g in rows.groupby(by, sort=True)}).T.rename_axis(by)


def _mdape(rows: pd.DataFrame, column: str) -> float:
    ok = rows.dropna(subset=[column, "truth"])
    ok = ok[ok["truth"] > 0]
    return float((ok[column] / ok["truth"] - 1).abs().median()) if len(ok) else np.nan


def backtest_many(series: Mapping[str, pd.Series], events: Iterable[Event], **kwargs) -> pd.DataFrame:
    """Backtest rows for several series sharing one event calendar."""
    events = list(events)
    frames = [backtest_series(s, events, name=name, **kwargs) for name, s in series.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS)


def failure_reasons(rows: pd.DataFrame) -> pd.Series:
    """How many backtest cases failed for each reason (names, times and numbers folded, so the
    same reason counts once), most frequent first."""
    failed = rows.loc[rows["error"] != "", "error"]
    if failed.empty:
        return pd.Series(dtype="int64", name="cases")
    folded = (failed.str.replace(r"'[^']*'", "'…'", regex=True)
              .str.replace(r"\d{4}-\d\d-\d\d[ T][\d:+.]*", "…", regex=True)
              .str.replace(r"\d+(\.\d+)?", "N", regex=True))
    return folded.value_counts().rename("cases")
