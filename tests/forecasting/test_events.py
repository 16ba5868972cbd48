"""Events: construction from strings and from store promotions, and refusals."""
from __future__ import annotations

import pandas as pd
import pytest

from core.errors import ForecastError
from forecasting import Event
from forecasting.events import check_events, events_from_frame
from store.inventory_types import Promotion


def test_strings_become_timestamps_and_preheat_a_duration():
    e = Event(name="11.11 2025", kind="11.11", start="2025-11-11 00:00+08:00", end="2025-11-12 00:00+08:00",
              preheat="3D")
    assert e.start == pd.Timestamp("2025-11-10 16:00", tz="UTC")
    assert e.quiet_from == pd.Timestamp("2025-11-08 00:00+08:00")


def test_a_promotion_keeps_its_own_time_zone():
    start = int(pd.Timestamp("2025-11-11 00:00", tz="Asia/Shanghai").timestamp())
    promo = Promotion(name="11.11 2025", kind="11.11", start=start, end=start + 86400, preheat_days=3)
    e = Event.from_promotion(promo)
    assert (e.start.hour, str(e.start.tz)) == (0, "Asia/Shanghai")
    assert e.preheat == pd.Timedelta(days=3)
    frame = pd.DataFrame([{"name": "6.18", "kind": "6.18", "start": start, "end": start + 3600,
                           "preheat_days": 0, "tz": "UTC"}])
    assert events_from_frame(frame)[0].start.hour == 16


@pytest.mark.parametrize("kwargs,needle", [
    (dict(start="2025-11-12", end="2025-11-11"), "not after start"),
    (dict(start="2025-11-11", end="2025-11-12T00:00+08:00"), "mix"),
    (dict(start="not a date", end="2025-11-12"), "not a timestamp"),
    (dict(start="2025-11-11", end="2025-11-12", preheat="-1D"), "negative"),
])
def test_bad_events_are_refused(kwargs, needle):
    with pytest.raises(ForecastError, match=needle):
        Event(name="x", kind="custom", **kwargs)


def test_events_are_sorted_and_overlaps_named():
    a = Event(name="a", kind="k", start="2025-01-05", end="2025-01-06")
    b = Event(name="b", kind="k", start="2025-01-01", end="2025-01-02")
    assert [e.name for e in check_events([a, b])] == ["b", "a"]
    c = Event(name="c", kind="k", start="2025-01-05 12:00", end="2025-01-07")
    with pytest.raises(ForecastError, match="'a'.*'c'.*overlap"):
        check_events([a, b, c])
