"""The promotion calendar on /promotions, in real Chromium, on a store that has no promotion of its
own (as a Zabbix store starts): the built-in yearly ones are there, a user adds and removes."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory):
    """Sixty days of the demo fleet without its promotion calendar (the built-in one remains)."""
    from collectors.synthetic.fleet import DEFAULT_ANCHOR
    from collectors.synthetic.source import SyntheticSource
    from store import Store
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('cal') / 's.sqlite'}")
    SyntheticSource(store, scale=30, seed=7, clock=lambda: DEFAULT_ANCHOR).bootstrap(history_days=60, raw_hours=1)
    for name in store.promotions()["name"]:
        store.delete_promotion(name)
    yield store
    store.close()


def rows(page) -> dict[str, list[str]]:
    return {r.locator("td").first.inner_text(): r.locator("td").all_inner_texts()
            for r in page.locator("#cal-table tbody tr").all()}


def test_the_built_in_calendar_then_add_and_remove(page, serve, bare_store):
    site = serve(bare_store)
    page.goto(f"{site.url}/promotions")
    page.wait_for_selector("#cal-table tbody tr", timeout=60_000)
    have = rows(page)
    assert have["11.11 2026"][2] == "2026-11-11 00:00" and have["11.11 2026"][5] == "yearly"
    assert have["12.12 2026"][6] == "upcoming"
    page.wait_for_selector("#promo-lift-table tbody tr", timeout=60_000)     # the comparison uses it at once
    page.fill("#cal-kind", "anniversary")
    page.fill("#cal-start", "2026-12-20")
    page.fill("#cal-preheat", "2")
    page.click("#cal-add")
    page.wait_for_selector("#cal-table td:has-text('anniversary 2026')", timeout=20_000)
    assert "starts 2026-12-20 00:00" in page.inner_text("#cal-msg")
    assert rows(page)["anniversary 2026"][5] == "entered"
    page.click("#cal-table tr:has(td:text-is('12.12 2026')) button")
    page.wait_for_function("() => ![...document.querySelectorAll('#cal-table td')]"
                           ".some(td => td.textContent === '12.12 2026')", timeout=20_000)
    assert "left out of the calendar" in page.inner_text("#cal-msg")
    names = bare_store.calendar()["name"].tolist()
    assert "anniversary 2026" in names and "12.12 2026" not in names
    page.fill("#cal-kind", "x")
    page.fill("#cal-start", "20/12/2026")
    page.click("#cal-add")
    page.wait_for_function("() => document.querySelector('#cal-msg').textContent.includes('is not a date')",
                           timeout=20_000)
    assert bare_store.calendar()["name"].tolist() == names                 # a bad date changes nothing


def test_the_calendar_reads_in_chinese_and_is_read_only_when_editing_is_off(page, serve, bare_store):
    site = serve(bare_store, language="zh", calendar_editable=False)
    page.goto(f"{site.url}/promotions")
    page.wait_for_selector("#cal-table tbody tr", timeout=60_000)
    card = page.inner_text("#calendar-card")
    assert "大促日历" in card and "每年" in card and "未开启日历编辑" in card
    assert page.locator("#cal-add").count() == 0 and page.locator("#cal-table button").count() == 0
