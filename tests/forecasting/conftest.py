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


@pytest.fixture(scope="session")
def demo_store_url(tmp_path_factory) -> str:
    """A small synthetic fleet (scale 50: 5 businesses, 10 clusters, one Twemproxy) with two years
    of hourly history, written through the synthetic source exactly as the demo does."""
    from collectors.synthetic.fleet import DEFAULT_ANCHOR
    from collectors.synthetic.source import SyntheticSource
    from store import Store

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    with Store.open(url) as store:
        SyntheticSource(store, scale=50, seed=7, clock=lambda: DEFAULT_ANCHOR).bootstrap(
            history_days=730, raw_hours=1)
    return url


@pytest.fixture
def demo_store(demo_store_url):
    from store import Store

    with Store.open(demo_store_url) as store:
        yield store
