"""forecast_event_peak on series with a known truth, at several steps, and on bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ForecastError
from forecast_data import TZ, make_series, truth_peak
from forecasting import Event, forecast_event_peak

DAY = pd.Timedelta(days=1)


def by_name(syn, name: str) -> Event:
    return next(e for e in syn.events if e.name == name)


def test_seven_days_ahead_the_known_peak_is_close_and_inside_the_interval(synthetic):
    target = by_name(synthetic, "11.11 2025")
    fc = forecast_event_peak(synthetic.series, synthetic.events, target, cutoff=target.start - 7 * DAY,
                             level=0.95)
    truth = truth_peak(synthetic, target)
    assert abs(fc.point / truth - 1) < 0.10
    assert fc.lower < truth < fc.upper
    assert fc.lower < fc.point < fc.upper
    assert fc.point == pytest.approx(fc.components["baseline"] * fc.components["lift"])
    assert fc.trend > 0                      # the synthetic fleet grows 80% a year
    assert not fc.low_confidence, fc.reasons


def test_lift_comes_from_the_same_kind_of_event(synthetic):
    big = forecast_event_peak(synthetic.series, synthetic.events, by_name(synthetic, "11.11 2025"),
                              cutoff=pd.Timestamp("2025-11-01", tz=TZ))
    small = forecast_event_peak(synthetic.series, synthetic.events, by_name(synthetic, "6.18 2025"),
                                cutoff=pd.Timestamp("2025-06-10", tz=TZ))
    measured = big.lifts.set_index("name")["lift"]
    assert pooled_lift(big) == pytest.approx(measured[["11.11 2023", "11.11 2024"]].mean(), rel=0.03)
    assert big.lift > 1.5 * small.lift


def pooled_lift(fc) -> float:
    """The pooled model's lift (the candidate the prior acts on), whichever method was chosen."""
    return fc.candidates["pooled"] / fc.baseline


def test_cutoff_hides_everything_after_it(synthetic):
    target = by_name(synthetic, "11.11 2025")
    cutoff = target.start - 7 * DAY
    full = forecast_event_peak(synthetic.series, synthetic.events, target, cutoff=cutoff)
    cut = forecast_event_peak(synthetic.series[synthetic.series.index <= cutoff], synthetic.events, target)
    assert full.point == pytest.approx(cut.point)
    assert full.upper == pytest.approx(cut.upper)


@pytest.mark.parametrize("freq", ["1D", "15min"])
def test_daily_and_quarter_hour_steps_work(freq):
    syn = make_series(seed=3, start="2023-06-01")
    resampled = syn.series.resample(freq)
    series = resampled.max() if freq == "1D" else resampled.ffill()
    target = by_name(syn, "11.11 2025")
    # one event: an 80% interval misses one in five by design (this seed's 11.11 2025 lifts 9% less
    # than its past); the 95% one must hold
    fc = forecast_event_peak(series, syn.events, target, cutoff=target.start - 7 * DAY, level=0.95)
    truth = float(series[(series.index >= target.start) & (series.index < target.end)].max())
    assert abs(fc.point / truth - 1) < 0.12
    assert fc.lower < truth < fc.upper


def test_ten_minute_data_from_its_own_generator():
    syn = make_series(seed=5, start="2024-05-01", freq="10min")
    target = by_name(syn, "11.11 2025")
    fc = forecast_event_peak(syn.series, syn.events, target, cutoff=target.start - 7 * DAY)
    assert abs(fc.point / truth_peak(syn, target) - 1) < 0.12


def test_units_and_time_zone_of_the_index_do_not_change_the_answer(synthetic):
    target = by_name(synthetic, "11.11 2025")
    cutoff = target.start - 7 * DAY
    base = forecast_event_peak(synthetic.series, synthetic.events, target, cutoff=cutoff)
    scaled = synthetic.series * 1e6
    scaled.index = scaled.index.tz_convert("UTC")
    other = forecast_event_peak(scaled, synthetic.events, target, cutoff=cutoff)
    assert other.point == pytest.approx(base.point * 1e6, rel=1e-9)
    assert other.lower == pytest.approx(base.lower * 1e6, rel=1e-9)


def test_prior_pulls_a_thin_history_toward_it():
    syn = make_series(seed=1, start="2024-08-01")     # one past 11.11 only
    target = by_name(syn, "11.11 2025")
    cutoff = target.start - 7 * DAY
    alone = forecast_event_peak(syn.series, syn.events, target, cutoff=cutoff)
    shrunk = forecast_event_peak(syn.series, syn.events, target, cutoff=cutoff, prior={"11.11": 2.0},
                                 prior_weight=1.0)
    ruled = forecast_event_peak(syn.series, syn.events, target, cutoff=cutoff, prior={"11.11": 2.0},
                                prior_weight=1000.0)
    assert pooled_lift(alone) > 3.5
    assert 2.0 < pooled_lift(shrunk) < pooled_lift(alone)
    assert pooled_lift(ruled) == pytest.approx(2.0, rel=0.01)


def test_a_kind_never_seen_is_flagged_and_gets_a_wider_interval(synthetic):
    known = by_name(synthetic, "11.11 2025")
    new = Event(name="anniversary 2025", kind="anniversary", start=known.start, end=known.end,
                preheat=known.preheat)
    others = [e for e in synthetic.events if e != known]
    cutoff = known.start - 7 * DAY
    fc_known = forecast_event_peak(synthetic.series, synthetic.events, known, cutoff=cutoff)
    fc_new = forecast_event_peak(synthetic.series, others, new, cutoff=cutoff)
    assert fc_new.low_confidence and "anniversary" in fc_new.reasons[0]
    assert fc_new.upper / fc_new.lower > 1.5 * (fc_known.upper / fc_known.lower)


def test_gaps_in_recent_data_are_reported(synthetic):
    target = by_name(synthetic, "11.11 2025")
    cutoff = target.start - 7 * DAY
    s = synthetic.series[synthetic.series.index <= cutoff]
    rng = np.random.default_rng(0)
    recent = s.index >= cutoff - 40 * DAY
    s = s[~(recent & (rng.random(len(s)) < 0.5))]
    fc = forecast_event_peak(s, synthetic.events, target)
    assert any("missing" in r for r in fc.reasons)


def test_a_flat_series_forecasts_its_level():
    idx = pd.date_range("2025-01-01", "2025-11-04", freq="1h", tz=TZ)
    s = pd.Series(500.0, index=idx)
    events = [Event(name=f"sale {m}", kind="sale", start=pd.Timestamp(2025, m, 10, tz=TZ),
                    end=pd.Timestamp(2025, m, 11, tz=TZ)) for m in (3, 6, 9)]
    target = Event(name="sale 11", kind="sale", start=pd.Timestamp("2025-11-10", tz=TZ),
                   end=pd.Timestamp("2025-11-11", tz=TZ))
    fc = forecast_event_peak(s, events, target)
    assert fc.point == pytest.approx(500.0)
    assert fc.lower < 500.0 < fc.upper


# --- bad input: a clear error that names the problem and the fix -------------------------------

def _target(start="2025-11-11"):
    s = pd.Timestamp(start, tz=TZ)
    return Event(name="11.11 2025", kind="11.11", start=s, end=s + DAY)


def _hourly(start="2025-06-01", end="2025-11-01", value=100.0, tz=TZ):
    idx = pd.date_range(start, end, freq="1h", tz=tz)
    return pd.Series(value + np.arange(len(idx)) % 24, index=idx)


PAST = [Event(name="6.18 2025", kind="6.18", start=pd.Timestamp("2025-06-18", tz=TZ),
              end=pd.Timestamp("2025-06-19", tz=TZ))]


@pytest.mark.parametrize("series,events,target,cutoff,needle", [
    (pd.Series(dtype=float), PAST, _target(), None, "empty"),
    (pd.DataFrame({"qps": [1.0]}), PAST, _target(), None, "frame['qps']"),
    (pd.Series([1.0, 2.0], index=[1700000000, 1700003600]), PAST, _target(), None, "unit='s'"),
    (pd.Series(["a", "b"], index=pd.date_range("2025-01-01", periods=2, tz=TZ)), PAST, _target(), None,
     "pd.to_numeric"),
    (_hourly(), PAST, _target(), pd.Timestamp("2025-11-12", tz=TZ), "move the cutoff before"),
    (_hourly(end="2025-12-01"), PAST, _target(), None, "pass cutoff="),
    (_hourly(start="2025-11-09 12:00", end="2025-11-10"), PAST, _target(), None, "too little normal history"),
    (_hourly(), PAST + [Event(name="dup", kind="6.18", start=pd.Timestamp("2025-06-18 12:00", tz=TZ),
                              end=pd.Timestamp("2025-06-20", tz=TZ))], _target(), None, "overlap"),
    (_hourly(tz=None), PAST, _target(), None, "tz_localize"),
    (_hourly(value=0.0) * 0, PAST, _target(), None, "zero or negative"),
    (_hourly(), [], _target(), None, "prior="),
    (_hourly(), PAST, "11.11", None, "Event(name="),
])
def test_bad_input_gets_an_error_with_the_fix(series, events, target, cutoff, needle):
    with pytest.raises(ForecastError) as info:
        forecast_event_peak(series, events, target, cutoff)
    assert needle in str(info.value)


def test_irregular_step_is_refused_with_the_resample_call():
    hourly = pd.date_range("2025-06-01", periods=3000, freq="1h", tz=TZ)
    idx = hourly + pd.to_timedelta((np.arange(3000) % 3 == 0) * 17, unit="min")
    with pytest.raises(ForecastError, match="resample"):
        forecast_event_peak(pd.Series(1.0, index=idx), PAST, _target())


def test_duplicate_timestamps_are_kept_once_and_said():
    s = _hourly()
    again = s.iloc[:5] * 2          # the same hours sent again, higher: the peak keeps the higher
    fc = forecast_event_peak(pd.concat([s, again]), PAST, _target())
    assert fc.notes == ("5 duplicate timestamp(s) kept once (their maximum)",)
    assert "5 duplicate timestamp(s)" in fc.as_row()["reasons"]
    assert fc.point == pytest.approx(forecast_event_peak(pd.concat([s.iloc[5:], again]), PAST, _target()).point)


def test_all_nan_and_negative_series_get_errors_naming_the_problem():
    with pytest.raises(ForecastError, match="no finite values; it is all NaN"):
        forecast_event_peak(_hourly() * np.nan, PAST, _target())
    with pytest.raises(ForecastError, match="zero or negative"):
        forecast_event_peak(-_hourly(), PAST, _target())


def test_a_few_negative_samples_do_not_stop_the_forecast():
    s = _hourly().copy()
    s.iloc[::500] = -1.0                       # counter resets seen as negative rates
    fc = forecast_event_peak(s, PAST, _target())
    assert fc.point > 0 and fc.lower > 0


def test_samples_after_the_target_start_need_a_cutoff():
    with pytest.raises(ForecastError, match="pass cutoff="):
        forecast_event_peak(_hourly(end="2025-11-20"), PAST, _target())
    fc = forecast_event_peak(_hourly(end="2025-11-20"), PAST, _target(), cutoff=pd.Timestamp("2025-11-01", tz=TZ))
    assert fc.cutoff == pd.Timestamp("2025-11-01", tz=TZ)


def test_events_out_of_order_are_sorted(synthetic):
    target = by_name(synthetic, "11.11 2025")
    cutoff = target.start - 7 * DAY
    shuffled = list(reversed(synthetic.events))
    assert forecast_event_peak(synthetic.series, shuffled, target, cutoff).point == \
        forecast_event_peak(synthetic.series, synthetic.events, target, cutoff).point


def test_a_forecast_orders_of_magnitude_above_the_series_is_capped_and_said():
    s = _hourly()
    fc = forecast_event_peak(s, [], _target(), prior={"11.11": 1e4})
    assert fc.capped and fc.point == pytest.approx(10 * s.max())
    assert any("capped" in r for r in fc.reasons)


def test_far_ahead_a_recent_swell_is_not_run_out_for_eleven_months(synthetic):
    """11 months ahead, after eight weeks of a 50% swell: a straight line through those weeks gave
    16x the truth; last year's same promotion and the year-on-year growth stay near it."""
    target = by_name(synthetic, "11.11 2025")
    cutoff = target.start - 330 * DAY
    s = synthetic.series.copy()
    swell = (s.index > cutoff - 56 * DAY) & (s.index <= cutoff)
    s[swell] *= 1 + 0.5 * ((s.index[swell] - (cutoff - 56 * DAY)) / (56 * DAY)).to_numpy()
    fc = forecast_event_peak(s, synthetic.events, target, cutoff=cutoff)
    assert abs(fc.point / truth_peak(synthetic, target) - 1) < 0.25
    assert fc.lower < truth_peak(synthetic, target) < fc.upper
    assert not any("extrapolated" in r for r in fc.reasons)
