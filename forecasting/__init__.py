"""Big-promotion comparison, peak forecast, backtest and capacity planning.

Pure functions on pandas objects; only :mod:`forecasting.fleet` and :mod:`forecasting.cli` read
the store. The public entry point works on any series::

    from forecasting import Event, forecast_event_peak
    fc = forecast_event_peak(series, events, target=Event(name="11.11 2026", kind="11.11",
                             start="2026-11-11 00:00+08:00", end="2026-11-12 00:00+08:00"))
    fc.point, fc.lower, fc.upper, fc.components
"""
from forecasting.events import Event
from forecasting.model import PeakForecast, forecast_event_peak

__all__ = ["Event", "PeakForecast", "forecast_event_peak"]
