"""Pure figure builders: DataFrames in, ``go.Figure`` out. No store, no Dash."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import labels as lb
from store.metrics import METRICS

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


def realtime_figure(per_instance: pd.DataFrame, total: pd.DataFrame, metric: str, tz: str, lang: str,
                    max_instances: int = 64) -> go.Figure:
    """Trace 0 = the business total (by the metric's rule), then one thin line per instance.

    per_instance: [instance, ts, value]; total: [ts, value]."""
    fig = _base(f"{lb.metric_name(metric, lang)} · {lb.t('realtime', lang)}", lb.unit_name(units(metric), lang))
    date_axis(fig, lang)
    fig.add_trace(go.Scattergl(x=local_times(total["ts"], tz), y=total["value"].tolist(),
                               name=lb.t("summed", lang), line={"color": SUM_COLOUR, "width": 3}))
    for name, g in list(per_instance.groupby("instance", sort=True))[:max_instances]:
        fig.add_trace(go.Scattergl(x=local_times(g["ts"], tz), y=g["value"].tolist(), name=name,
                                   line={"width": 1}, opacity=0.7))
    return fig


def history_figure(total: pd.DataFrame, per_cluster: pd.DataFrame, metric: str, tz: str, lang: str,
                   overlay: pd.DataFrame | None = None, overlay_name: str = "") -> go.Figure:
    """The business total with its min/max band, per-cluster lines, optionally a shifted overlay
    (e.g. the same range last year, drawn on this year's time axis).

    total: [ts, value, min, max]; per_cluster: [group, ts, value]; overlay: [ts, value]."""
    fig = _base(f"{lb.metric_name(metric, lang)} · {lb.t('history', lang)}", lb.unit_name(units(metric), lang),
                height=380)
    date_axis(fig, lang)
    x = local_times(total["ts"], tz)
    if {"min", "max"} <= set(total.columns) and len(total):
        fig.add_trace(go.Scatter(x=x, y=total["max"].tolist(), line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=total["min"].tolist(), line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(23,32,43,0.15)", showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=total["value"].tolist(), name=lb.t("summed", lang),
                             line={"color": SUM_COLOUR, "width": 2}))
    if per_cluster["group"].nunique() > 1:
        for name, g in list(per_cluster.groupby("group", sort=True))[:MAX_LINES]:
            fig.add_trace(go.Scatter(x=local_times(g["ts"], tz), y=g["value"].tolist(), name=name,
                                     line={"width": 1}))
    if overlay is not None and len(overlay):
        fig.add_trace(go.Scatter(x=local_times(overlay["ts"], tz), y=overlay["value"].tolist(), name=overlay_name,
                                 line={"color": "#e07b00", "width": 2, "dash": "dot"}))
    return fig


def hot_shards(frame: pd.DataFrame) -> pd.Series:
    """True for shards above ``HOT_RATIO`` times their cluster's median (frame: [cluster, value])."""
    median = frame.groupby("cluster")["value"].transform("median")
    return (frame["value"] > HOT_RATIO * median) & (median > 0)


def shard_balance_figure(frame: pd.DataFrame, metric: str, lang: str) -> go.Figure:
    """One bar per shard (frame: [cluster, instance, shard, value]), hot shards red, median dashed."""
    frame = frame.sort_values(["cluster", "shard"]).reset_index(drop=True)
    hot = hot_shards(frame)
    colours = np.where(hot, "#d32f2f", "#5b7db1").tolist()
    labels = [f"{c} #{s}" for c, s in zip(frame["cluster"], frame["shard"])]
    name = lb.metric_name(metric, lang)
    fig = _base(f"{lb.t('shard_balance', lang)} · {name}", lb.unit_name(units(metric), lang), height=300)
    fig.add_trace(go.Bar(x=labels, y=frame["value"].tolist(), marker_color=colours,
                         hovertext=frame["instance"].tolist(), name=name))
    for cluster, g in frame.groupby("cluster"):
        med = float(g["value"].median())
        fig.add_hline(y=med, line_dash="dash", line_color="#888", annotation_text=f"{cluster} {lb.t('median', lang)}",
                      annotation_position="top left")
    for lab, val in zip(np.array(labels)[hot.to_numpy()], frame.loc[hot, "value"]):
        fig.add_annotation(x=lab, y=float(val), text=lb.t("hot_shard", lang), showarrow=True, arrowhead=2,
                           font={"color": "#d32f2f"})
    fig.update_xaxes(type="category", tickangle=-45)
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
