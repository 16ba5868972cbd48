"""The forecaster on real traffic: NYC taxi passengers (NAB), the New Year 2015 peak.

The series has no earlier New Year, so its own history only offers other holidays (which lower
taxi demand): the forecast must say it is weak and keep the truth inside a wide interval. With
a New Year lift given as a prior (what a product line or last year would supply) it must land
close.
"""
from __future__ import annotations

import pandas as pd
import pytest

from forecasting import Event, forecast_event_peak

DAY = pd.Timedelta(days=1)


def _event(name, kind, start, end):
    return Event(name=name, kind=kind, start=pd.Timestamp(start), end=pd.Timestamp(end))


HOLIDAYS = [
    _event("Independence Day", "holiday", "2014-07-04", "2014-07-05"),
    _event("Labor Day", "holiday", "2014-09-01", "2014-09-02"),
    _event("NYC marathon", "city", "2014-11-02", "2014-11-03"),
    _event("Thanksgiving", "holiday", "2014-11-27", "2014-11-28"),
    _event("Christmas", "holiday", "2014-12-25", "2014-12-26"),
]
NEW_YEAR = _event("New Year 2015", "new-year", "2014-12-31 12:00", "2015-01-01 12:00")


def _truth(series: pd.Series) -> float:
    return float(series[(series.index >= NEW_YEAR.start) & (series.index < NEW_YEAR.end)].max())


def test_nyc_taxi_new_year_without_a_same_kind_history_is_flagged_and_covered(nyc_taxi):
    fc = forecast_event_peak(nyc_taxi, HOLIDAYS, NEW_YEAR, cutoff=NEW_YEAR.start - 7 * DAY)
    truth = _truth(nyc_taxi)
    assert truth == 30236.0                      # 2015-01-01 01:00, 30-minute passenger count
    assert fc.low_confidence and "new-year" in fc.reasons[0]
    assert fc.lower < truth < fc.upper
    assert 20000 < fc.baseline < 27000           # the normal late-December evening peak


@pytest.mark.parametrize("lead", [1, 7])
def test_nyc_taxi_new_year_with_a_prior_lands_close(nyc_taxi, lead):
    fc = forecast_event_peak(nyc_taxi, HOLIDAYS, NEW_YEAR, cutoff=NEW_YEAR.start - lead * DAY,
                             prior={"new-year": 1.3})
    assert abs(fc.point / _truth(nyc_taxi) - 1) < 0.08
    assert fc.lower < _truth(nyc_taxi) < fc.upper
