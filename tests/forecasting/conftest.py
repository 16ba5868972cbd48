"""Fixtures: the seeded synthetic series and real data (tests/data: NAB, US births, Capital
Bikeshare; each folder's README gives its source and licence)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from forecast_data import Synthetic, make_series
from forecasting.events import events_from_records

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
NAB = DATA / "nab"  # copied from ../shared/data/nab with its licence note


@pytest.fixture
def synthetic() -> Synthetic:
    return make_series(seed=0)


@pytest.fixture
def nyc_taxi() -> pd.Series:
    path = NAB / "nyc_taxi.csv"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; it is part of the repository (tests/data/nab).")
        pytest.skip(f"real data {path} not present (tests/data/nab)")
    return pd.read_csv(path, index_col="timestamp", parse_dates=True)["value"]


def _real(path: Path):
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; it is part of the repository (tests/data).")
        pytest.skip(f"real data {path} not present (tests/data)")
    return path


@pytest.fixture(scope="session")
def births():
    """(US births per day 2000-2014, the federal holidays as events): holidays lower births."""
    s = pd.read_csv(_real(DATA / "births" / "us_births_2000_2014.csv"), index_col="date", parse_dates=True)["births"]
    return s.astype(float), events_from_records(json.loads((DATA / "births" / "holidays.json").read_text()))


@pytest.fixture(scope="session")
def bikeshare():
    """(Capital Bikeshare rentals per hour 2012-2019, the federal holidays as events)."""
    path = _real(DATA / "bikeshare" / "capital_bikeshare_hourly_2012_2019.csv.gz")
    s = pd.read_csv(path, index_col="ts", parse_dates=True)["count"].astype(float)
    return s, events_from_records(json.loads((DATA / "bikeshare" / "holidays.json").read_text()))


@pytest.fixture(scope="session")
def elb():
    """(AWS load-balancer requests per 5 minutes, 14 days, NAB; its two labelled spikes as events)."""
    s = pd.read_csv(_real(NAB / "elb_request_count_8c0756.csv"), index_col="timestamp", parse_dates=True)["value"]
    return s.astype(float), events_from_records([
        {"name": "spike 1", "kind": "spike", "start": "2014-04-12 09:04", "end": "2014-04-13 01:44"},
        {"name": "spike 2", "kind": "spike", "start": "2014-04-22 11:14", "end": "2014-04-23 03:54"}])
