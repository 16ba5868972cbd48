"""Promotions and capacity pages on the synthetic demo fleet (two years with its promotions), in
real headless Chromium."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from dashboard import labels as lb

pytestmark = [pytest.mark.browser, pytest.mark.slow]   # builds a two-year synthetic store (about 10 s)

STATUS_ORDER = {"over": 0, "watch": 1, "ok": 2, "no forecast": 3}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo fleet (scale 50: 5 businesses, 10 clusters, promotions from 12.12 2024 on), with
    a filesystem cache shared by the tests' servers so the fleet forecast is computed once."""
    from collectors.synthetic.fleet import DEFAULT_ANCHOR
    from collectors.synthetic.source import SyntheticSource
    from store import Store

    root = tmp_path_factory.mktemp("demo-forecast")
    store = Store.open(f"sqlite:///{root / 'demo.sqlite'}")
    SyntheticSource(store, scale=50, seed=7, clock=lambda: DEFAULT_ANCHOR).bootstrap(history_days=730, raw_hours=1)
    yield store, root / "cache"
    store.close()


@pytest.fixture
def site(demo, serve):
    store, cache = demo
    return serve(store, cache_type="filesystem", cache_dir=str(cache))


def past_promotions(store, kind: str) -> list[str]:
    p = store.promotions()
    end = int(store.latest(metric="qps")["ts"].max())
    return sorted(p[(p["kind"] == kind) & (p["end"] <= end)]["name"])


def legend(page, graph: str) -> list[str]:
    return page.locator(f"{graph} .legendtext").all_text_contents()


def pick(page, dropdown: str, option: str) -> None:
    page.locator(dropdown).click()
    page.locator(f"[role=option]:has-text('{option}')").first.click()


def table(page, selector: str) -> pd.DataFrame:
    head = page.locator(f"{selector} thead th").all_inner_texts()
    rows = [r.locator("td").all_inner_texts() for r in page.locator(f"{selector} tbody tr").all()]
    return pd.DataFrame(rows, columns=head)


def no_error_box(page) -> None:
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Callback error" not in body
    assert page.locator(".dash-fe-error__title").count() == 0
    assert not page.errors


def test_promotions_overlay_one_line_per_past_promotion_and_lifts_above_one(page, site, demo):
    store = demo[0]
    elevens = past_promotions(store, "11.11")
    assert len(elevens) >= 2
    page.goto(f"{site.url}/promotions?kind=11.11")
    page.wait_for_selector("#promo-lift-table tbody tr", timeout=60_000)
    assert sorted(legend(page, "#promo-overlay")) == sorted(elevens + ["today"])
    lifts = table(page, "#promo-lift-table")
    assert sorted(lifts["promotion"]) == elevens
    values = [float(x.lstrip("×")) for x in lifts["lift = peak / baseline"]]
    assert all(v > 1.5 for v in values), values
    assert set(lifts["hour of peak"]) <= {"+0 h", "+1 h"}      # the midnight spike, in Beijing time

    pick(page, "#promo-kind", "6.18")
    sixes = past_promotions(store, "6.18")
    page.wait_for_function(f"() => [...document.querySelectorAll('#promo-overlay .legendtext')]"
                           f".map(e => e.textContent).includes({sixes[0]!r})", timeout=20_000)
    assert sorted(legend(page, "#promo-overlay")) == sorted(sixes + ["today"])
    assert sorted(table(page, "#promo-lift-table")["promotion"]) == sixes
    no_error_box(page)


def test_promotions_per_business(page, site, demo):
    business = sorted(demo[0].businesses()["name"])[1]
    page.goto(f"{site.url}/promotions?level=business&group={business}&kind=12.12&metric=qps")
    page.wait_for_selector("#promo-lift-table tbody tr", timeout=60_000)
    assert business in page.locator("#promo-group").inner_text()
    assert "12.12" in page.locator("#promo-overlay .gtitle").text_content()
    values = [float(x.lstrip("×")) for x in table(page, "#promo-lift-table")["lift = peak / baseline"]]
    assert values and all(v > 1 for v in values)
    no_error_box(page)


def test_promotions_bad_parameters_get_a_message(page, site):
    page.goto(f"{site.url}/promotions?level=galaxy&kind=1.1&metric=bogus")
    page.wait_for_selector("#promo-overlay .legendtext", timeout=60_000)
    problems = page.locator("#promo-problems").inner_text()
    assert "level='galaxy' is not one of" in problems
    assert "kind='1.1' has no past promotion" in problems
    assert "metric='bogus'" in problems
    no_error_box(page)


def test_capacity_ranks_recommendations_by_risk_and_exports_them(page, site, tmp_path):
    page.goto(f"{site.url}/capacity")
    page.wait_for_selector("#cap-plan-table tbody tr", timeout=120_000)
    page.wait_for_selector("#cap-forecast .point", timeout=60_000)
    assert "12.12 2026" in page.locator("#cap-summary").inner_text()
    shown = table(page, "#cap-plan-table")
    assert list(shown["#"]) == [str(i) for i in range(1, len(shown) + 1)]
    acting = shown["status"].isin(["over", "watch"])
    assert len(shown) == acting.sum() + min(5, 10 - acting.sum())     # those to change, then the 5 closest ok
    status = shown["status"].map(STATUS_ORDER)
    assert status.is_monotonic_increasing
    assert shown.iloc[0]["status"] == "over" and "shards (+" in shown.iloc[0]["action"]
    for _, part in shown.groupby("status"):
        assert part["risk"].astype(float).is_monotonic_decreasing
    assert page.locator("#cap-util .bars path").count() >= 2 * len(shown)
    assert len(legend(page, "#cap-forecast")) == 2

    with page.expect_download() as info:
        page.locator("#cap-export").click()
    path = tmp_path / "plan.csv"
    info.value.save_as(path)
    csv = pd.read_csv(path)
    assert len(csv) == 10 and list(csv["cluster"][:len(shown)]) == list(shown["cluster"])
    assert list(csv["rank"]) == list(range(1, len(csv) + 1))
    assert list(csv["shards"][:len(shown)]) == [int(x) for x in shown["shards now"]]
    splits = shown["action"].str.startswith("split")
    assert splits.any() and list(csv["action"][:len(shown)][splits.to_numpy()]) == \
        [a.replace("→", "->") for a in shown["action"][splits]]
    assert list(csv["status"][:len(shown)]) == list(shown["status"])
    no_error_box(page)


def test_capacity_level_and_metric_change_the_forecast(page, site):
    page.goto(f"{site.url}/capacity?level=cluster&metric=mem_used")
    page.wait_for_selector("#cap-forecast .point", timeout=120_000)
    title = page.locator("#cap-forecast .gtitle").text_content()
    assert "mem_used per cluster" in title
    assert page.locator("#cap-forecast .scatterlayer .trace").first.locator(".point").count() == 10
    no_error_box(page)


def test_capacity_unknown_promotion_gets_a_message(page, site):
    page.goto(f"{site.url}/capacity?promotion=black-friday")
    page.wait_for_selector("#cap-plan-table tbody tr", timeout=120_000)
    problems = page.locator("#cap-problems").inner_text()
    assert "promotion='black-friday' is not an upcoming promotion; showing 12.12 2026." in problems
    no_error_box(page)


@pytest.mark.parametrize("path", ["/promotions", "/capacity"])
def test_empty_store_says_what_to_do(page, tmp_path, serve, path):
    from store import Store

    with Store.open(f"sqlite:///{tmp_path / 'empty.sqlite'}") as store:
        page.goto(serve(store).url + path)
        page.wait_for_selector("#message", timeout=20_000)
        assert "the store has no qps samples; generate the demo fleet" in page.locator("#message").inner_text()
        no_error_box(page)


def test_capacity_links_the_readiness_report(page, site, tmp_path):
    page.goto(f"{site.url}/capacity")
    page.wait_for_selector("#cap-plan-table tbody tr", timeout=120_000)
    shown = table(page, "#cap-plan-table")
    methods = shown["method (past error)"].str.extract(r"^(\S+) \((.+)\)$")
    assert set(methods[0]) <= {"pooled", "last_lift", "year_growth", "combined", "–"}
    assert methods[1].str.fullmatch(r"\d+%|–").all() and "confidence" in shown.columns
    with page.expect_download(timeout=180_000) as info:
        page.locator("#cap-report").click()
    path = tmp_path / "report.html"
    info.value.save_as(path)
    assert info.value.suggested_filename == "readiness-12.12-2026.html"
    text = path.read_text()
    assert "Readiness for 12.12 2026" in text and "Recommended changes and their cost" in text
    for cluster in shown.loc[shown["status"].isin(["over", "watch"]), "cluster"]:
        assert f"<td>{cluster}</td>" in text
    no_error_box(page)


def size_it(page, qps: str, memory: str, star: str, line: str | None = None) -> None:
    page.locator("#size-qps").fill(qps)
    page.locator("#size-memory").fill(memory)
    pick(page, "#size-star", star)
    if line:
        pick(page, "#size-line", line)
    page.locator("#size-go").click()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_sizing_a_new_business_on_the_capacity_page(page, demo, serve, language):
    store, cache = demo
    site = serve(store, cache_type="filesystem", cache_dir=str(cache), language=language)
    line = sorted(store.businesses()["product_line"].unique())[0]
    page.goto(f"{site.url}/capacity")
    page.wait_for_selector("#size-go", timeout=120_000)
    # the plan, then its charts, arrive after the layout: use the form once the page stopped moving
    page.wait_for_selector("#cap-forecast .point", timeout=180_000)
    page.wait_for_selector("#cap-util .bars path", timeout=60_000)
    size_it(page, "200000", "64", "4", line)
    page.wait_for_selector("#size-table tbody tr", timeout=120_000)
    rows = dict(zip(*[page.locator(f"#size-table tbody td:nth-child({i})").all_inner_texts() for i in (1, 2)]))
    shards_label = "shards × instances each" if language == "en" else "分片数 × 每分片实例数"
    shards, per_shard = re.match(r"(\d+) × (\d+)", rows[shards_label]).groups()
    total = rows["instances in all" if language == "en" else "实例总数"]
    proxies = rows["proxies" if language == "en" else "代理数"]
    assert int(total) == int(shards) * int(per_shard) + int(proxies) and int(proxies) >= 2
    lift = float(re.search(r"×([\d.]+)", rows["lift applied" if language == "en" else "放大倍数"]).group(1))
    assert lift > 1.5                                  # sized for its first big promotion, not a normal day
    assert line.split("-")[0] in rows["similar businesses" if language == "en" else "同类业务"]
    why = rows[lb.t("size_why", language)]
    if language == "zh":                               # how it was reached, in Chinese too
        assert "峰值" in why and english_words(why, set(store.businesses()["name"])) == [], why
    else:
        assert why.startswith("peak ") and "-star business may use" in why
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
                             / f"capacity-sizing-{language}.png"), full_page=True)

    size_it(page, "-5", "64", "4")                     # a bad number is named, nothing breaks
    page.wait_for_selector("#size-error", timeout=60_000)
    assert ("Give the expected peak QPS as a positive number." if language == "en" else "请把预计峰值 QPS填写为正数。") \
        in page.locator("#size-error").inner_text()
    no_error_box(page)


#: Latin words a Chinese page may keep: names of things, units, setting and column names
LATIN_OK = {"Peakwatch", "UTC", "qps", "QPS", "GiB", "MiB", "TiB", "maxmemory", "CSV", "capacity_lead_days",
            "confidence_note", "redis", "memcached", "twemproxy", "proxy_qps", "mem_used", "Asia", "Shanghai", "HTML",
            "PDF", "A4", "Zabbix"}


def english_words(text: str, names) -> list[str]:
    tokens = re.findall(r"[A-Za-z0-9_.-]+", text)
    return sorted({t for t in tokens if re.search(r"[A-Za-z]{2,}", t) and t not in names and t not in LATIN_OK})


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_capacity_table_first_with_shard_counts_nothing_cut_off_or_untranslated(browser, demo, serve, language, size):
    store, cache = demo
    site = serve(store, cache_type="filesystem", cache_dir=str(cache), language=language)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{site.url}/capacity")
    page.wait_for_selector("#cap-plan-table tbody tr", timeout=180_000)
    page.wait_for_selector("#cap-util .bars path", timeout=60_000)
    page.wait_for_selector("#cap-forecast .point", timeout=60_000)
    page.screenshot(path=str(Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
                             / f"capacity-{language}-{size[0]}x{size[1]}.png"))
    shown = table(page, "#cap-plan-table")
    shards = "shards now" if language == "en" else "分片数"
    clusters = store.clusters().set_index("name")
    assert [int(x) for x in shown[shards]] == [int(clusters.loc[c, "shard_count"]) for c in shown["集群" if language == "zh" else "cluster"]]
    # the table comes before the charts, its first rows on the first screen
    table_top = page.locator("#cap-plan-table").bounding_box()["y"]
    assert table_top < size[1] - 100 and table_top < page.locator("#cap-util").bounding_box()["y"]
    # nothing cut off: no sideways scrolling of the page or the table, no cell clipping its text
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    right, room = page.evaluate("() => { const t = document.querySelector('#cap-plan-table'); "
                                "return [t.getBoundingClientRect().right, t.parentElement.getBoundingClientRect().right]; }")
    assert right <= room + 1, (right, room)
    clipped = page.evaluate("() => [...document.querySelectorAll('#cap-plan-table td, #cap-plan-table th')]"
                            ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)")
    assert clipped == []
    # the definitions and the deadline are on the page
    summary = page.locator("#cap-summary").inner_text()
    definitions = page.locator("#cap-definitions").inner_text()
    if language == "en":
        assert "Act by " in summary or "The deadline to act" in summary
        assert "over:" in definitions and "watch:" in definitions and "risk:" in definitions
    else:
        assert "请在 " in summary or "变更截止日" in summary
        assert "超限：" in definitions and "关注：" in definitions and "风险：" in definitions
        names = set(clusters.index) | set(store.businesses()["name"]) | set(store.promotions()["name"])
        names |= {w for n in names for w in re.findall(r"[A-Za-z0-9_.-]+", n)}
        texts = [page.locator(sel).inner_text() for sel in
                 ("#navbar", "h1", "#cap-problems", "#cap-summary", "#cap-plan-card", "#size-card")]
        texts += page.locator(".controls").all_inner_texts()
        texts += page.locator("#cap-util .gtitle, #cap-util .xtitle, #cap-util .legendtext, #cap-forecast .gtitle, "
                              "#cap-forecast .legendtext").all_text_contents()
        assert english_words("\n".join(texts), names) == []
    no_error_box(page)
    context.close()
