"""The fleet page's charts as a planner reads them: 16 product lines apart, counts that never read
as bytes, growth in percent, promotion spikes named."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from dashboard import figures as fg
from dashboard import fleet_data as fd

DAY = 86_400
START = 1_790_000_000


def lab(hex_colour: str) -> np.ndarray:
    """CIE L*a*b* of an sRGB colour (D65)."""
    rgb = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]) / 255
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def daily(groups: list[str], per_day: float) -> pd.DataFrame:
    rows = [(g, START + d * DAY, per_day) for g in groups for d in range(10)]
    return pd.DataFrame(rows, columns=["group", "ts", "value"])


def test_sixteen_product_lines_get_sixteen_colours_that_look_apart():
    lines = [f"line{i:02d}" for i in range(16)]
    fig = fg.stacked_area_figure(daily(lines, 1e9), "t", "", "Asia/Shanghai", days=True, count_key="reads_axis")
    colours = [tr.line.color for tr in fig.data]
    assert None not in colours and len(set(colours)) == 16
    closest = min(np.linalg.norm(lab(a) - lab(b)) for a, b in itertools.combinations(colours, 2))
    assert closest > 30, closest          # CIE76: about 2.3 is "just noticeable"; 30 reads as another colour


def test_a_product_line_keeps_its_colour_across_charts():
    colours = fg.group_colours(["trade", "search", "ads"])
    a = fg.stacked_area_figure(daily(["trade", "search", "ads"], 5.0), "t", "", "UTC", days=True, colours=colours)
    b = fg.stacked_area_figure(daily(["search"], 5.0), "t", "", "UTC", days=True, colours=colours)
    assert a.data[[t.name for t in a.data].index("search")].line.color == b.data[0].line.color


def test_five_hundred_billion_writes_a_day_read_as_a_count_not_bytes():
    total = pd.DataFrame({"ts": [START, START + DAY], "reads": [4.2e11, 4.4e11], "writes": [5.0e11, 5.1e11]})
    en = fg.reads_writes_figure(total, "t", ("reads", "writes"), "UTC", "en")
    assert "billions" in en.layout.yaxis.title.text
    assert max(en.data[1].y) == 510.0 and en.layout.yaxis.exponentformat == "SI"
    zh = fg.reads_writes_figure(total, "t", ("读", "写"), "UTC", "zh")
    assert "亿" in zh.layout.yaxis.title.text and max(zh.data[1].y) == 5100.0


def test_growth_axis_is_in_percent():
    growth = pd.DataFrame({"business": ["a", "b"], "growth": [12.0, -3.0]})
    fig = fg.top_bar_figure(growth, "business", "growth", "t", "%{x:.0f}%", x_title="growth", suffix="%")
    assert fig.layout.xaxis.ticksuffix == "%"


def test_promotion_spikes_are_named_from_the_calendar(demo_store):
    from collectors.synthetic.fleet import DEFAULT_ANCHOR   # the demo fleet's last hour, 2026-11-29
    start, end = fd.day_window(DEFAULT_ANCHOR, 90, "Asia/Shanghai")
    promos = fd.promotions_in(demo_store, start, end, DEFAULT_ANCHOR)
    assert "11.11 2026" in list(promos["name"])
    marks = list(zip(fg.local_days(promos["start"], "Asia/Shanghai"), promos["name"]))
    total = pd.DataFrame({"ts": [start, start + DAY], "reads": [1.0, 2.0], "writes": [1.0, 2.0]})
    fig = fg.reads_writes_figure(total, "t", ("reads", "writes"), "Asia/Shanghai", "en", marks)
    assert ("2026-11-11", "11.11 2026") in [(a.x, a.text) for a in fig.layout.annotations]
