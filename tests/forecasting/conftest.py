"""Fixtures: the seeded synthetic series and the real NAB data (read from ../shared/data)."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from forecast_data import Synthetic, make_series

REPO = Path(__file__).resolve().parents[2]
NAB = REPO.parent / "shared" / "data" / "nab"


@pytest.fixture
def synthetic() -> Synthetic:
    return make_series(seed=0)


@pytest.fixture
def nyc_taxi() -> pd.Series:
    path = NAB / "nyc_taxi.csv"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; CI must provide ../shared/data/nab (the NAB copy).")
        pytest.skip(f"real data {path} not present (../shared/data/nab next to the repository)")
    return pd.read_csv(path, index_col="timestamp", parse_dates=True)["value"]
