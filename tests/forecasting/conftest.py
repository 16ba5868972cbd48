"""Fixtures: the seeded synthetic series and the real NAB data (tests/data/nab, a copy of ../shared/data/nab)."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from forecast_data import Synthetic, make_series

REPO = Path(__file__).resolve().parents[2]
NAB = REPO / "tests" / "data" / "nab"  # copied from ../shared/data/nab with its licence note


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
