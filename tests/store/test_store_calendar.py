"""The promotion calendar the user owns: built-in yearly kinds, entered promotions, skips, own kinds."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from core.errors import StoreInputError
from store import Store
from store.calendar import Kind
from store.inventory_types import Promotion

NOW = int(dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc).timestamp())


def bj(y, m, d, h=0) -> int:
    return int(dt.datetime(y, m, d, h, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'c.sqlite'}")
    yield s
    s.close()


def names(cal) -> list[str]:
    return cal["name"].tolist()


def test_a_new_store_has_the_built_in_yearly_promotions_at_beijing_midnight(store):
    cal = store.calendar(now=NOW)
    assert names(cal) == [f"{k} {y}" for y in (2024, 2025, 2026) for k in ("6.18", "11.11", "12.12")] + \
        ["6.18 2027", "11.11 2027", "12.12 2027"]
    row = cal.set_index("name").loc["11.11 2026"]
    assert row["start"] == bj(2026, 11, 11) and row["end"] == bj(2026, 11, 12)
    assert row["preheat_days"] == 10 and row["origin"] == "yearly"


def test_an_entered_date_replaces_the_yearly_one_of_its_kind_and_year(store):
    store.upsert_promotions([Promotion("Double 11 2026", "11.11", bj(2026, 11, 10, 20), bj(2026, 11, 12), 14)])
    cal = store.calendar(now=NOW).set_index("name")
    assert "11.11 2026" not in cal.index and cal.loc["Double 11 2026", "origin"] == "user"
    assert "11.11 2025" in cal.index                            # other years keep the rule


def test_skipping_a_yearly_occurrence_and_bringing_it_back(store):
    store.skip_promotion(Promotion("12.12 2025", "12.12", bj(2025, 12, 12), bj(2025, 12, 13), 3))
    assert "12.12 2025" not in names(store.calendar(now=NOW))
    assert store.promotions().empty                             # a skip is not a promotion
    assert store.delete_promotion("12.12 2025")
    assert "12.12 2025" in names(store.calendar(now=NOW))


def test_own_yearly_kinds_and_disabling_a_built_in_one(store):
    store.set_promotion_kind(Kind("anniversary", 4, 19, preheat_days=2))
    assert store.remove_promotion_kind("12.12")
    kinds = store.promotion_kinds().set_index("kind")
    assert kinds.loc["anniversary", "origin"] == "user" and not kinds.loc["12.12", "enabled"]
    cal = names(store.calendar(now=NOW))
    assert "anniversary 2026" in cal and not any(n.startswith("12.12") for n in cal)
    assert store.remove_promotion_kind("anniversary") and not store.remove_promotion_kind("anniversary")


def test_yearly_promotions_begin_with_the_data(store):
    from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec
    inv = Inventory([ProductLine("p")], [Business("b", "p", 3)], [Cluster("c", "b", "redis", 1)],
                    [Instance("i", "c", "h", 1, "master")], [SeriesSpec("i/qps", "qps", "c", "i")])
    sid = store.upsert_inventory(inv)["i/qps"]
    first = bj(2025, 7, 1)
    store.write_rollups(np.array([sid]), np.array([first]), np.array([1.0]), np.array([1.0]), np.array([1.0]),
                        np.array([60]))
    assert store.data_start() == first
    cal = names(store.calendar(now=NOW))
    assert cal[0] == "11.11 2025" and "6.18 2025" not in cal    # ended before the data begins


@pytest.mark.parametrize("bad, match", [
    (Kind("x", 2, 30), "not a day of the year"), (Kind("x", 4, 19, preheat_days=90), "pre-heat"),
    (Kind("x", 4, 19, tz="Mars/Olympus"), "time zone"), (Kind("", 4, 19), "name of 1 to 40"),
])
def test_bad_kinds_change_nothing(store, bad, match):
    with pytest.raises(StoreInputError, match=match):
        store.set_promotion_kind(bad)
    assert list(store.promotion_kinds()["origin"]) == ["built-in"] * 3


def test_bad_promotions_change_nothing(store):
    with pytest.raises(StoreInputError, match="time zone"):
        store.upsert_promotions([Promotion("a", "a", 10, 20), Promotion("b", "b", 10, 20, tz="Nowhere/Else")])
    with pytest.raises(StoreInputError, match="origin"):
        store.upsert_promotions([Promotion("a", "a", 10, 20)], origin="martians")
    assert store.promotions().empty
