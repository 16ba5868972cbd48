"""The forecaster on real series as they come: daily, hourly and 5-minute data, events that lower
traffic, events a week apart, a peak after midnight, months-long gaps, duplicate timestamps.

Data (tests/data, each folder's README names the source and licence): US births per day 2000-2014
with the federal holidays, Capital Bikeshare rentals per hour 2012-2019 with the same holidays,
NAB's NYC taxi passengers (30 min) and an AWS load balancer's requests (5 min).
"""
from __future__ import annotations

import pandas as pd
import pytest

from core.errors import ForecastError
from forecasting import forecast_event_peak
from forecasting.compare import lift_table
from forecasting.events import events_from_records
from forecasting.methods import METHODS

DAY = pd.Timedelta(days=1)


def named(events, name):
    return next(e for e in events if e.name == name)


def truth(s, e) -> float:
    return float(s[(s.index >= e.start) & (s.index < e.end)].max())


def test_daily_births_on_christmas_are_forecast_low_from_its_own_past_holidays(births):
    s, events = births
    xmas = named(events, "christmas 2014")
    fc = forecast_event_peak(s, events, xmas, cutoff=xmas.start - 7 * DAY)
    assert fc.lift < 0.7                             # holidays lower births: about half a normal day
    assert fc.lower < truth(s, xmas) < fc.upper
    assert abs(fc.point / truth(s, xmas) - 1) < 0.05
    assert fc.method in METHODS and fc.n_cases >= 100 and 0 < fc.past_mdape < 0.1
    assert not fc.low_confidence, fc.reasons


def test_new_year_a_week_after_christmas_keeps_a_normal_baseline(births):
    """Christmas' low week sits inside New Year's baseline window: listed as an event, its days
    are left out of the normal level, which otherwise drops by a tenth."""
    s, events = births
    ny = named(events, "new-year 2014")
    fc = forecast_event_peak(s, events, ny, cutoff=ny.start - DAY)
    blind = forecast_event_peak(s, [e for e in events if e.kind != "christmas"], ny, cutoff=ny.start - DAY)
    assert fc.baseline > 1.1 * blind.baseline
    assert fc.lower < truth(s, ny) < fc.upper


def test_hourly_bikeshare_thanksgiving_is_a_drop_inside_its_interval(bikeshare):
    s, events = bikeshare
    tg = named(events, "thanksgiving 2018")
    fc = forecast_event_peak(s, events, tg, cutoff=tg.start - 7 * DAY)
    assert fc.lift < 0.5 and fc.point < fc.baseline
    assert fc.lower < truth(s, tg) < fc.upper
    assert fc.n_cases >= 40


def test_a_months_long_gap_far_back_changes_nothing_and_a_recent_one_is_said(bikeshare):
    s, events = bikeshare
    tg = named(events, "thanksgiving 2018")
    cutoff = tg.start - 7 * DAY
    full = forecast_event_peak(s, events, tg, cutoff=cutoff)
    spring = s[(s.index < "2018-03-01") | (s.index >= "2018-06-01")]          # three months lost
    assert forecast_event_peak(spring, events, tg, cutoff=cutoff).point == pytest.approx(full.point, rel=0.01)
    autumn = s[(s.index < "2018-08-01") | (s.index >= "2018-11-01")]          # the last three months lost
    fc = forecast_event_peak(autumn, events, tg, cutoff=cutoff)
    assert fc.low_confidence and any("missing" in r for r in fc.reasons)
    assert fc.lower < truth(s, tg) < fc.upper


def test_duplicate_hours_are_kept_once_and_counted(bikeshare):
    s, events = bikeshare
    tg = named(events, "thanksgiving 2018")
    resent = pd.concat([s, s["2018-11-01":"2018-11-03"]])        # a collector sent three days twice
    fc = forecast_event_peak(resent, events, tg, cutoff=tg.start - 7 * DAY)
    assert fc.notes == ("72 duplicate timestamp(s) kept once (their maximum)",)
    assert fc.point == pytest.approx(forecast_event_peak(s, events, tg, cutoff=tg.start - 7 * DAY).point)


def test_five_minute_data_with_one_past_spike_gets_a_clear_error_or_a_flagged_forecast(elb):
    s, events = elb
    second = named(events, "spike 2")
    with pytest.raises(ForecastError, match="no past event .* has a measurable lift.*prior="):
        forecast_event_peak(s, events, second, cutoff=second.start - DAY)
    fc = forecast_event_peak(s, events, second, cutoff=second.start - DAY, prior={"spike": 2.0})
    assert fc.low_confidence and any("normal days" in r for r in fc.reasons)
    assert not any("missing" in r for r in fc.reasons)        # 12 days of data is short, not gappy
    assert fc.n_cases == 0 and fc.method == "combined"


def test_an_evening_event_peaks_after_midnight_and_is_measured_there(nyc_taxi):
    eve = events_from_records([{"name": "New Year's Eve 2014", "kind": "new-year",
                                "start": "2014-12-31 18:00", "end": "2015-01-01 06:00"}])
    row = lift_table(nyc_taxi, eve).iloc[0]
    assert row["peak_time"] == pd.Timestamp("2015-01-01 01:00") and row["peak_offset_hours"] == 7
    assert row["lift"] > 1.3                         # the day's normal peak is the evening rush
