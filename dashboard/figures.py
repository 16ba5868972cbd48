"""Pure figure builders: DataFrames in, ``go.Figure`` out. No store, no Dash."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import labels as lb
from store.metrics import METRICS, agg_of

SUM_COLOUR = "#17202b"
HOT_RATIO = 1.5   # a shard above 1.5x the cluster median is hot
MAX_LINES = 128   # per-instance lines drawn at most (a 128-shard cluster fits)
#: group colours: 16 picked for the largest least distance (CIE L*a*b*) from plotly's Dark24,
#: Alphabet and Light24, Kelly's colours and D3 (none too light for a white page), then the rest of
#: Dark24: 16 product lines stay apart (plotly's default 10 colours repeat)
PALETTE = ("#1F77B4", "#FB0D0D", "#86CE00", "#FE00FA", "#6C4516", "#E15F99", "#FEAF16", "#008856",
           "#A777F1", "#511CFB", "#F99379", "#17BECF", "#848482", "#BE0032", "#B10DA1", "#875692",
           "#2E91E5", "#1CA71C", "#DA16FF", "#222A2A", "#B68100", "#750D86", "#EB663B", "#00A08B")
PROMO_COLOUR = "#6b7280"
#: the series' colours (plotly's own ten); the last-year overlay and thresholds use none of them
COLOURWAY = ("#636efa", "#00cc96", "#ab63fa", "#19d3f3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
             "#1f77b4", "#2ca02c")
OVERLAY_COLOUR = "#8c564b"     # brown, long dashes: last year's line, never a series colour
THRESHOLD_COLOURS = {"warn": "#e69f00", "crit": "#d32f2f"}
#: the thick line's name by the metric's rule (a mean is not a sum)
AGG_LABELS = {"sum": "agg_sum", "mean": "agg_mean", "max": "agg_max"}
MAX_UNIFIED = 16   # lines listed in one hover at most (more would be cut off by the chart's height)


def local_times(ts, tz: str) -> list[str]:
    """Epoch seconds -> wall-clock strings in the display time zone (what plotly shows as is)."""
    t = pd.to_datetime(pd.Series(ts, dtype="int64"), unit="s", utc=True).dt.tz_convert(tz)
    return t.dt.strftime("%Y-%m-%d %H:%M:%S").tolist()


def _base(title: str, units: str, height: int = 340) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title={"text": title, "font": {"size": 14}}, height=height, margin=dict(l=50, r=10, t=36, b=30),
                      yaxis_title=units, legend={"orientation": "h", "y": -0.15}, template="plotly_white",
                      uirevision="keep")
    # 2G, never 2B: plotly's "B" for billions reads as bytes
    fig.update_xaxes(exponentformat="SI")
    fig.update_yaxes(exponentformat="SI")
    return fig


def date_axis(fig: go.Figure, lang: str) -> go.Figure:
    """Chinese dates on a time axis ("2025年1月", "11月15日") at every zoom level; plotly's own
    are English ("Jan 2025")."""
    if lang == "zh":
        stops = [{"dtickrange": [lo, hi], "value": fmt} for lo, hi, fmt in lb.ZH_DATE_TICKS]
        fig.update_xaxes(type="date", tickformatstops=stops, hoverformat="%Y年%-m月%-d日 %H:%M")
    return fig


def group_colours(names) -> dict[str, str]:
    """A stable colour per group name (sorted), the same in every chart of a page."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(map(str, set(names))))}


def mark_promotions(fig: go.Figure, marks: list[tuple[str, str]]) -> go.Figure:
    """A dotted line and the promotion's name on each (day, name) of ``marks``: the spikes say
    which promotion they were."""
    for day, name in marks:
        fig.add_shape(type="line", x0=day, x1=day, xref="x", y0=0, y1=1, yref="paper",
                      line={"color": PROMO_COLOUR, "width": 1, "dash": "dot"})
        fig.add_annotation(x=day, y=1, xref="x", yref="paper", text=name, showarrow=False, xanchor="left",
                           yanchor="top", xshift=3, font={"size": 11, "color": "#374151"},
                           bgcolor="rgba(255,255,255,0.8)")
    return fig


def units(metric: str) -> str:
    m = METRICS.get(metric)
    return m.units if m else ""


def utc_offset(tz: str, at: float | None = None) -> str:
    """'UTC+08:00' of ``tz`` (now, or at epoch ``at``)."""
    z = datetime.now(ZoneInfo(tz)) if at is None else datetime.fromtimestamp(at, ZoneInfo(tz))
    off = z.strftime("%z")
    return f"UTC{off[:3]}:{off[3:]}"


def time_axis_title(tz: str, lang: str) -> str:
    """'time (Asia/Shanghai, UTC+08:00)': which clock the axis and the hover read."""
    return lb.t("time_axis", lang).format(tz=tz, offset=utc_offset(tz))


def value_text(metric: str, v, lang: str = "en") -> str:
    """A value with its unit as a DBA reads it: '53.7k/s', '3.2 GiB', '61.0%'."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    u = units(metric)
    v = float(v)
    if u == "%":
        return f"{v:.1f}%"
    if u == "B":
        return lb.bytes_(v)
    if u == "B/s":
        return f"{lb.bytes_(v)}/s"
    if u.endswith("/s"):
        return f"{lb.si(v)} {lb.unit_name(u, lang)}" if lang == "zh" else f"{lb.si(v)}/s"
    if u == "ratio":
        return f"{v:.2f}"
    return lb.si(v)


def value_texts(metric: str, values, lang: str = "en") -> list[str]:
    return [value_text(metric, v, lang) for v in values]


def agg_name(metric: str, lang: str) -> str:
    """The business line's name: 'sum' for traffic, 'mean' for a ratio, 'max' for the worst shard."""
    return lb.t(AGG_LABELS[agg_of(metric)], lang)


def timeline(fig: go.Figure, metric: str, tz: str, lang: str, values=None) -> go.Figure:
    """Time axes as users of Grafana expect: the zone in the axis title and the hover header, one
    hover for every line at the cursor's time (a shared crosshair; above ``MAX_UNIFIED`` lines each
    line's own hover, with its time, and the spike line still across), values with units; a
    percentage reads on a fixed 0-100 % axis (a chart auto-scaled to 0-30 % looks full)."""
    lines = [t for t in fig.data if t.hovertemplate == "%{customdata}"]
    unified = len(lines) <= MAX_UNIFIED
    if not unified:    # a list of 33 lines outgrows the chart: each line's own hover, with its time
        for t in lines:
            t.hovertemplate = f"%{{x|%Y-%m-%d %H:%M}} ({utc_offset(tz)})<br>%{{customdata}}"
    fig.update_layout(hovermode="x unified" if unified else "closest", colorway=list(COLOURWAY),
                      margin=dict(l=60, r=10, t=36, b=90),
                      height=(fig.layout.height or 340) + 50,
                      legend={"orientation": "h", "y": -0.3, "yanchor": "top"})   # below the axis title
    fig.update_xaxes(title_text=time_axis_title(tz, lang), hoverformat=f"%Y-%m-%d %H:%M ({utc_offset(tz)})",
                     # numeric dates: no month names to translate ("Dec 7" in a zh page)
                     tickformatstops=[{"dtickrange": [None, 86_400_000], "value": "%H:%M<br>%m-%d"},
                                      {"dtickrange": [86_400_000, None], "value": "%m-%d<br>%Y"}],
                     showspikes=True, spikemode="across", spikesnap="cursor", spikethickness=1,
                     spikedash="solid", spikecolor="#999")
    fig.update_yaxes(showspikes=False)
    if units(metric) == "%":
        top = 100.0
        if values is not None and len(values):
            top = max(100.0, float(np.nanmax(np.asarray(values, dtype=float))) * 1.02)
        fig.update_yaxes(range=[0, top], ticksuffix="%", title_text="")
    return fig


def _line(x, y, metric: str, name: str, lang: str = "en", **kw) -> go.Scatter:
    return go.Scatter(x=x, y=list(y), name=name, customdata=value_texts(metric, y, lang),
                      hovertemplate="%{customdata}", **kw)


def threshold_lines(fig: go.Figure, thresholds, metric: str, lang: str) -> go.Figure:
    """Dotted horizontal lines at the rules' warn and crit values, labelled on the right."""
    top = max((float(v) for _, v in thresholds or ()), default=None)
    for sev, value in thresholds or ():
        # the higher line's label above it, the lower's below: two close lines never share a spot
        fig.add_hline(y=float(value), line_dash="dot", line_width=1.5, line_color=THRESHOLD_COLOURS[sev],
                      annotation_text=f"{lb.t(sev, lang)} {value_text(metric, value, lang)}",
                      annotation_position="top right" if float(value) == top else "bottom right",
                      annotation_font_color=THRESHOLD_COLOURS[sev])
    return fig


def realtime_figure(per_instance: pd.DataFrame, total: pd.DataFrame, metric: str, tz: str, lang: str,
                    max_instances: int = 64, thresholds=()) -> go.Figure:
    """Trace 0 = the business total (by the metric's rule), then one thin line per instance.

    per_instance: [instance, ts, value]; total: [ts, value]."""
    fig = _base(f"{lb.metric_name(metric, lang)} · {lb.t('realtime', lang)}", lb.unit_name(units(metric), lang))
    # SVG, not WebGL: a few dozen short lines draw faster in SVG, and a WebGL context per chart is
    # slow to create where there is no GPU (the wall PC, headless Chromium)
    fig.add_trace(go.Scatter(x=local_times(total["ts"], tz), y=total["value"].tolist(),
                               customdata=value_texts(metric, total["value"], lang), hovertemplate="%{customdata}",
                               name=agg_name(metric, lang), line={"color": SUM_COLOUR, "width": 3}))
    for name, g in list(per_instance.groupby("instance", sort=True))[:max_instances]:
        fig.add_trace(go.Scatter(x=local_times(g["ts"], tz), y=g["value"].tolist(), name=name,
                                   customdata=value_texts(metric, g["value"], lang), hovertemplate="%{customdata}",
                                   line={"width": 1}, opacity=0.7))
    threshold_lines(fig, thresholds, metric, lang)
    return timeline(fig, metric, tz, lang, per_instance["value"] if len(per_instance) else None)


def history_figure(total: pd.DataFrame, per_cluster: pd.DataFrame, metric: str, tz: str, lang: str,
                   overlay: pd.DataFrame | None = None, overlay_name: str = "", thresholds=()) -> go.Figure:
    """The business line (by the metric's rule) with the min/max band of its series, per-cluster
    lines, optionally a shifted overlay (e.g. the same range last year, drawn on this year's time
    axis) in a colour and dash no series uses, and the rules' thresholds.

    total: [ts, value, min, max]; per_cluster: [group, ts, value]; overlay: [ts, value]."""
    fig = _base(f"{lb.metric_name(metric, lang)} · {lb.t('history', lang)}", lb.unit_name(units(metric), lang),
                height=380)
    x = local_times(total["ts"], tz)
    if {"min", "max"} <= set(total.columns) and len(total):
        fig.add_trace(go.Scatter(x=x, y=total["max"].tolist(), line={"width": 0}, showlegend=False,
                                 hoverinfo="skip", legendgroup="band"))
        fig.add_trace(_line(x, total["min"].tolist(), metric, lb.t("band_min_max", lang), lang, line={"width": 0},
                            fill="tonexty", fillcolor="rgba(23,32,43,0.15)", legendgroup="band"))
    fig.add_trace(_line(x, total["value"].tolist(), metric, agg_name(metric, lang), lang,
                        line={"color": SUM_COLOUR, "width": 2.5}))
    if per_cluster["group"].nunique() > 1:
        for name, g in list(per_cluster.groupby("group", sort=True))[:MAX_LINES]:
            fig.add_trace(_line(local_times(g["ts"], tz), g["value"].tolist(), metric, str(name), lang, line={"width": 1}))
    if overlay is not None and len(overlay):
        fig.add_trace(_line(local_times(overlay["ts"], tz), overlay["value"].tolist(), metric, overlay_name, lang,
                            line={"color": OVERLAY_COLOUR, "width": 2, "dash": "longdash"}))
    threshold_lines(fig, thresholds, metric, lang)
    peak = total["max"] if "max" in total and len(total) else total["value"]
    return timeline(fig, metric, tz, lang, peak)


def hot_shards(frame: pd.DataFrame) -> pd.Series:
    """True for shards above ``HOT_RATIO`` times their cluster's median (frame: [cluster, value])."""
    median = frame.groupby("cluster")["value"].transform("median")
    return (frame["value"] > HOT_RATIO * median) & (median > 0)


MEDIAN_LABEL_MIN_BARS = 3   # a cluster narrower than this gets its median line without text (no overlap)


def shard_balance_figure(frame: pd.DataFrame, metric: str, lang: str, thresholds=()) -> go.Figure:
    """One bar per shard (frame: [cluster, instance, shard, value]), hot shards red, each cluster's
    median a dashed segment over its own bars, labelled once above its middle (never on top of
    another cluster's label)."""
    frame = frame.sort_values(["cluster", "shard"]).reset_index(drop=True)
    hot = hot_shards(frame)
    colours = np.where(hot, "#d32f2f", "#5b7db1").tolist()
    labels = [f"{c} #{s}" for c, s in zip(frame["cluster"], frame["shard"])]
    name = lb.metric_name(metric, lang)
    fig = _base(f"{lb.t('shard_balance', lang)} · {name}", lb.unit_name(units(metric), lang), height=300)
    fig.add_trace(go.Bar(x=labels, y=frame["value"].tolist(), marker_color=colours, name=name,
                         customdata=[[i, value_text(metric, v, lang)] for i, v in zip(frame["instance"], frame["value"])],
                         hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>"))
    for cluster, g in frame.groupby("cluster", sort=False):
        med = float(g["value"].median())
        first, last = int(g.index.min()), int(g.index.max())
        fig.add_shape(type="line", xref="x", yref="y", x0=first - 0.45, x1=last + 0.45, y0=med, y1=med,
                      line={"dash": "dash", "color": "#666", "width": 1.5})
        if last - first + 1 >= MEDIAN_LABEL_MIN_BARS:
            fig.add_annotation(x=(first + last) / 2, y=med, xref="x", yref="y", yshift=9, showarrow=False,
                               text=f"{lb.t('median', lang)} {value_text(metric, med, lang)}",
                               font={"size": 11, "color": "#444"}, bgcolor="rgba(255,255,255,0.7)")
    for lab, val in zip(np.array(labels)[hot.to_numpy()], frame.loc[hot, "value"]):
        fig.add_annotation(x=lab, y=float(val), text=lb.t("hot_shard", lang), showarrow=True, arrowhead=2,
                           font={"color": "#d32f2f"})
    threshold_lines(fig, thresholds, metric, lang)
    fig.update_xaxes(type="category", tickangle=-45)
    if units(metric) == "%":
        fig.update_yaxes(range=[0, max(100.0, float(frame["value"].max() or 0) * 1.02)], ticksuffix="%")
    return fig


def instance_figure(frame: pd.DataFrame, metric: str, tz: str, lang: str) -> go.Figure:
    """One metric of one instance (frame: [label, ts, value]); a Twemproxy's per-backend series one
    line each, named by backend."""
    fig = _base(lb.metric_name(metric, lang), lb.unit_name(units(metric), lang), height=240)
    for label, g in frame.groupby("label", sort=True):
        fig.add_trace(_line(local_times(g["ts"], tz), g["value"].tolist(), metric, str(label) or metric, lang,
                            line={"width": 1.5}))
    fig = timeline(fig, metric, tz, lang, frame["value"] if len(frame) else None)
    fig.update_layout(showlegend=frame["label"].nunique() > 1)
    if units(metric) != "%":     # a flat line (a memory limit) reads against zero, not to ten digits
        fig.update_yaxes(rangemode="tozero", tickformat="~s" if units(metric) in ("B", "B/s") else None)
    return fig


def local_days(ts, tz: str) -> list[str]:
    """Epoch seconds -> dates (YYYY-MM-DD) in the display time zone."""
    t = pd.to_datetime(pd.Series(ts, dtype="int64"), unit="s", utc=True).dt.tz_convert(tz)
    return t.dt.strftime("%Y-%m-%d").tolist()


def stacked_area_figure(frame: pd.DataFrame, title: str, y_title: str, tz: str, days: bool = False,
                        shift: int = 0, steps: bool = False, lang: str = "en", colours: dict | None = None,
                        marks: list[tuple[str, str]] = (), count_key: str = "") -> go.Figure:
    """One stacked area per group (frame: [group, ts, value]); ``days`` labels x with dates
    (of ``ts + shift``: a count taken at the end of a day is that day's); ``steps`` draws counts
    as steps: the segment up to a day shows that day's count (an instance joins on a day).
    ``colours``: group -> colour (default :func:`group_colours`); ``marks``: promotions to name;
    ``count_key``: the label of a large-count axis, shown in billions / 亿 (then ``y_title`` is unused)."""
    colours = colours or group_colours(frame["group"])
    div, unit = 1.0, ""
    if count_key:
        div, unit = lb.count_unit(float(frame.groupby("ts")["value"].sum().max()) if len(frame) else 0.0, lang)
        y_title = lb.axis_title(count_key, unit, lang)
    fig = _base(title, y_title, height=360)
    when = local_days if days else local_times
    for name, g in frame.groupby("group", sort=True):
        colour = colours.get(str(name), PALETTE[0])
        line = {"width": 0.5, "color": colour, **({"shape": "vh"} if steps else {})}
        fig.add_trace(go.Scatter(x=when(g["ts"] + shift, tz), y=(g["value"] / div).tolist(), name=str(name),
                                 stackgroup="one", mode="lines", line=line, fillcolor=colour,
                                 hovertemplate="%{y:,.3~f}" + (" " + unit if unit else "")))
    date_axis(fig, lang)
    return mark_promotions(fig, list(marks))


def reads_writes_figure(total: pd.DataFrame, title: str, names: tuple[str, str], tz: str, lang: str = "en",
                        marks: list[tuple[str, str]] = ()) -> go.Figure:
    """Stacked bars per day: reads below, writes above (total: [ts, reads, writes]), in billions
    (亿 in zh): "500B" would read as bytes."""
    div, unit = lb.count_unit(float((total["reads"] + total["writes"]).max()) if len(total) else 0.0, lang)
    fig = _base(title, lb.axis_title("rw_axis", unit, lang), height=340)
    x = local_days(total["ts"], tz)
    for column, name, colour in (("reads", names[0], "#5b7db1"), ("writes", names[1], "#e07b00")):
        fig.add_trace(go.Bar(x=x, y=(total[column] / div).tolist(), name=name, marker_color=colour,
                             hovertemplate="%{y:,.3~f}" + (" " + unit if unit else "")))
    fig.update_layout(barmode="stack", bargap=0.15)
    date_axis(fig, lang)
    return mark_promotions(fig, list(marks))


def stacked_bar_figure(frame: pd.DataFrame, x: str, colour: str, value: str, title: str,
                       y_title: str | None = None, colours: dict | None = None) -> go.Figure:
    fig = _base(title, value if y_title is None else y_title, height=360)
    colours = colours or group_colours(frame[colour])
    for name, g in frame.groupby(colour, sort=True):
        fig.add_trace(go.Bar(x=g[x].tolist(), y=g[value].tolist(), name=str(name),
                             marker_color=colours.get(str(name), PALETTE[0])))
    fig.update_layout(barmode="stack")
    return fig


def top_bar_figure(frame: pd.DataFrame, label: str, value: str, title: str, fmt: str = "",
                   x_title: str = "", suffix: str = "") -> go.Figure:
    """Horizontal bars, biggest on top (frame already sorted descending); ``suffix`` on the
    value axis' ticks (a growth axis reads "+20%")."""
    frame = frame.iloc[::-1]
    fig = _base(title, "", height=max(260, 22 * len(frame) + 60))
    fig.add_trace(go.Bar(y=frame[label].tolist(), x=frame[value].tolist(), orientation="h",
                         marker_color="#5b7db1", texttemplate=fmt or None))
    fig.update_xaxes(title_text=x_title or None, ticksuffix=suffix)
    if x_title:
        fig.update_layout(margin=dict(l=50, r=10, t=36, b=44))
    return fig
