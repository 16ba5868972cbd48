"""Promotion comparison: alignment on the start hour in the promotion's time zone; lift table."""
from __future__ import annotations

import pandas as pd
import pytest

from core.errors import ForecastError
from forecasting.compare import align, lift_table


def test_every_promotion_peaks_at_hour_zero_even_from_a_utc_series(synthetic):
    utc = synthetic.series.tz_convert("UTC")
    frame = align(utc, synthetic.events)
    assert set(frame["event"]) == {e.name for e in synthetic.events}
    top = frame.loc[frame.groupby("event")["value"].idxmax()]
    assert (top["offset_hours"] == 0).all()
    assert frame["offset_hours"].min() == -72 and frame["offset_hours"].max() == 47
    assert (top["local_time"].dt.hour == 0).all()          # Beijing midnight, not 16:00 UTC


def test_relative_values_make_years_comparable_despite_growth(synthetic):
    frame = align(synthetic.series, [e for e in synthetic.events if e.kind == "11.11"])
    top = frame.groupby("event")["value"].max()
    rel = frame.groupby("event")["relative"].max()
    assert top["11.11 2024"] > 1.4 * top["11.11 2023"]      # absolute peaks grew with the fleet
    assert rel["11.11 2024"] == pytest.approx(rel["11.11 2023"], rel=0.12)


def test_today_is_overlaid_on_the_same_axis(synthetic):
    quiet_october = synthetic.series[synthetic.series.index < pd.Timestamp("2025-10-20", tz="Asia/Shanghai")]
    frame = align(quiet_october, synthetic.events[:-1], today=True)
    today = frame[frame["event"] == "today"]
    assert not today.empty
    assert today["offset_hours"].max() < 24
    assert 0.7 < today["relative"].max() < 1.3               # an ordinary day peaks near its baseline


def test_lift_table_shows_each_kinds_lift_and_peak_time(synthetic):
    table = lift_table(synthetic.series, synthetic.events).set_index("name")
    assert list(table.columns[:3]) == ["kind", "start", "baseline"]
    assert (table["peak_offset_hours"] == 0).all()
    assert (table["peak"] / table["baseline"] == table["lift"]).all()
    by_kind = table.groupby("kind")["lift"].mean()
    assert by_kind["11.11"] > by_kind["6.18"] > by_kind["12.12"] > 1.5
    assert str(table["peak_time"].iloc[0].tz) == "Asia/Shanghai"


def test_align_without_events_says_what_to_pass(synthetic):
    with pytest.raises(ForecastError, match="promotions to compare"):
        align(synthetic.series, [])
