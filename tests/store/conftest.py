"""Store fixtures: a fresh Store on SQLite and PostgreSQL, and one holding the small fleet."""
from __future__ import annotations

import pytest
from storekit import make_inventory

from store import Store


@pytest.fixture
def store(db_url):
    with Store.open(db_url) as s:
        yield s


@pytest.fixture
def fleet(store):
    """(store, {series key: id}) holding storekit.make_inventory()."""
    return store, store.upsert_inventory(make_inventory())
