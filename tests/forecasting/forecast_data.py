"""Seeded synthetic traffic with known promotions (ground truth for the forecasting tests).

Kept beside the synthetic fleet because these tests need one series whose true lift per kind is
set by the test (9x, 5x, 4x) and varied independently of the fleet's generator; the fleet's own
store-level forecasts are tested on the fleet (tests/forecasting/test_fleet_store.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting import Event

TZ = "Asia/Shanghai"

#: true lift of each kind's midnight spike over the normal traffic at that hour
KIND_LIFT = {"11.11": 9.0, "6.18": 5.0, "12.12": 4.0}
DATES = {"11.11": (11, 11), "6.18": (6, 18), "12.12": (12, 12)}


@dataclass
class Synthetic:
    series: pd.Series          # hourly, Asia/Shanghai
    events: list[Event]        # every promotion inside the series, in order


def diurnal(hour: np.ndarray) -> np.ndarray:
    """Quiet night, 10:00 flash sale, 21:00 evening peak (1.0)."""
    def bump(centre, width):
        d = np.minimum(np.abs(hour - centre), 24 - np.abs(hour - centre))
        return np.exp(-0.5 * (d / width) ** 2)
    return 0.25 + 0.55 * bump(10, 1.5) + 0.75 * bump(21, 2.0)


def make_series(seed: int = 0, start: str = "2023-01-01", end: str = "2025-11-14", level: float = 1000.0,
                growth_per_year: float = 0.8, noise: float = 0.03, lift_jitter: float = 0.04,
                freq: str = "1h", preheat_days: int = 3, lift_scale: float = 1.0) -> Synthetic:
    """Diurnal + weekly + growth + promotions (pre-heat, midnight spike) with lognormal noise."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, end, freq=freq, tz=TZ, inclusive="left")
    days = (idx - idx[0]) / pd.Timedelta(days=1)
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60
    weekly = np.where(idx.day_of_week.to_numpy() >= 5, 1.12, 1.0)
    trend = np.exp(np.log1p(growth_per_year) * days.to_numpy() / 365.0)
    mult = np.ones(len(idx))
    events = []
    for year in range(idx[0].year, idx[-1].year + 1):
        for kind, (month, day) in DATES.items():
            s = pd.Timestamp(year=year, month=month, day=day, tz=TZ)
            if s < idx[0] + pd.Timedelta(days=30) or s + pd.Timedelta(days=1) > idx[-1]:
                continue
            e = Event(name=f"{kind} {year}", kind=kind, start=s, end=s + pd.Timedelta(days=1),
                      preheat=pd.Timedelta(days=preheat_days))
            events.append(e)
            # a business with lift_scale 2 lifts twice as much above normal in every kind
            lift = (1 + (KIND_LIFT[kind] - 1) * lift_scale) * np.exp(rng.normal(0, lift_jitter))
            hrs = ((idx - s) / pd.Timedelta(hours=1)).to_numpy()
            inside = (hrs >= 0) & (hrs < 24)
            mult[inside] *= 1 + (lift - 1) * np.exp(-hrs[inside] / 2.0) + 0.3
            pre = (hrs >= -24 * preheat_days) & (hrs < 0)
            mult[pre] *= 1.25
    values = level * trend * weekly * diurnal(hour) * mult * np.exp(rng.normal(0, noise, len(idx)))
    return Synthetic(series=pd.Series(values, index=idx, name="qps"), events=sorted(events, key=lambda e: e.start))


def truth_peak(syn: Synthetic, event: Event) -> float:
    s = syn.series
    return float(s[(s.index >= event.start) & (s.index < event.end)].max())
