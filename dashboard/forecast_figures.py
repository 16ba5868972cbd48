"""Pure builders for the ``/promotions`` and ``/capacity`` pages: DataFrames in, ``go.Figure`` or
table rows out. No store, no Dash."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import figures as fg
from dashboard import labels as lb
from forecasting import capacity

TODAY = "today"
TODAY_COLOUR = "#17202b"
PAST_COLOURS = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")   # older = lighter
POINT_COLOUR, UPPER_COLOUR, LIMIT_COLOUR = "#5b7db1", "#f0a04b", "#d32f2f"
STATUS_SEV = {"over": "crit", "watch": "warn", "ok": "ok", "no forecast": "stale"}
RESOURCES = {"qps": "qps", "proxy": "proxy_qps", "mem": "memory"}
GIB = 1 << 30


def _scaled(metric: str) -> tuple[float, str]:
    """(divisor, axis title): bytes in GiB (plotly's "B" suffix would read as billions)."""
    units = fg.units(metric)
    return (float(GIB), "GiB") if units == "B" else (1.0, units)


def _colours(n: int) -> list[str]:
    """``n`` blues from light (oldest) to dark (newest)."""
    if n <= 1:
        return list(PAST_COLOURS[-1:] * n)
    return [PAST_COLOURS[int(i)] for i in np.linspace(1 if n <= 5 else 0, len(PAST_COLOURS) - 1, n).round()]


def overlay_figure(aligned: pd.DataFrame, kind: str, metric: str, lang: str, relative: bool = False) -> go.Figure:
    """One line per past promotion of ``kind`` on hours from its start, today's traffic on top.

    aligned: ``forecasting.compare.align`` rows [event, kind, offset_hours, local_time, value, relative]
    (event ``"today"`` is the current traffic, hour 0 = the latest midnight)."""
    y = "relative" if relative else "value"
    div, units = (1.0, lb.t("x_normal_peak", lang)) if relative else _scaled(metric)
    aligned = aligned.assign(**{y: aligned[y] / div})
    fig = fg._base(f"{lb.metric_name(metric, lang)} · {kind} · {lb.t('aligned_on_start', lang)}",
                   lb.unit_name(units, lang), height=420)
    past = aligned[aligned["kind"] == kind]
    names = list(dict.fromkeys(past["event"]))
    for name, colour in zip(names, _colours(len(names))):
        g = past[past["event"] == name]
        fig.add_trace(go.Scatter(x=g["offset_hours"].tolist(), y=g[y].tolist(), name=name, mode="lines",
                                 line={"color": colour, "width": 2}, customdata=_when(g["local_time"]),
                                 hovertemplate="%{customdata}<br>%{y:.4s}<extra>" + name + "</extra>"))
    today = aligned[aligned["event"] == TODAY]
    if len(today):
        fig.add_trace(go.Scatter(x=today["offset_hours"].tolist(), y=today[y].tolist(), name=lb.t("today", lang),
                                 mode="lines", line={"color": TODAY_COLOUR, "width": 3, "dash": "dot"},
                                 customdata=_when(today["local_time"]),
                                 hovertemplate="%{customdata}<br>%{y:.4s}<extra>" + lb.t("today", lang) + "</extra>"))
    fig.add_vline(x=0, line_dash="dash", line_color="#888")
    fig.add_annotation(x=0, y=1, yref="paper", text=lb.t("start_hour", lang), showarrow=False, xanchor="left",
                       yanchor="bottom", font={"color": "#555"})
    fig.update_xaxes(title_text=lb.t("hours_from_start", lang), dtick=12, zeroline=False)
    fig.update_layout(margin=dict(l=60, r=10, t=44, b=40), legend={"orientation": "v", "x": 1.01, "y": 1})
    return fig


def _when(times: pd.Series) -> list[str]:
    return pd.to_datetime(times).dt.strftime("%Y-%m-%d %H:%M").tolist()


def _zone(when: pd.Timestamp, lang: str) -> str:
    """'CST' in en; 'UTC+8' in zh (the abbreviation is English)."""
    if lang != "zh":
        return when.strftime("%Z")
    minutes = int(when.utcoffset().total_seconds() // 60) if when.utcoffset() is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def lift_rows(lifts: pd.DataFrame, kind: str | None = None, lang: str = "en") -> list[dict]:
    """Table rows of ``forecasting.compare.lift_table`` (optionally one kind), newest first."""
    t = lifts if kind is None else lifts[lifts["kind"] == kind]
    rows = []
    hours = lb.t("hours_short", lang)
    for r in t.iloc[::-1].itertuples(index=False):
        peak_time = r.peak_time.strftime("%Y-%m-%d %H:%M") if isinstance(r.peak_time, pd.Timestamp) else "–"
        rows.append({"name": r.name, "kind": r.kind, "start": f"{r.start.strftime('%Y-%m-%d %H:%M')} {_zone(r.start, lang)}",
                     "baseline": lb.si(r.baseline), "peak": lb.si(r.peak),
                     "lift": "–" if pd.isna(r.lift) else f"×{r.lift:.2f}", "peak_time": peak_time,
                     "peak_offset": "–" if pd.isna(r.peak_offset_hours) else f"{r.peak_offset_hours:+.0f} {hours}",
                     "note": lb.note(r.note or "", lang)})
    return rows


def forecast_figure(rows: pd.DataFrame, metric: str, title: str, lang: str, top: int = 40) -> go.Figure:
    """Predicted peak with its 80% interval per group (the ``top`` highest), normal peak beside it.

    rows: [group, point, lower, upper, baseline, low_confidence]."""
    div, units = _scaled(metric)
    rows = rows.dropna(subset=["point"]).sort_values("point", ascending=False).head(top).iloc[::-1]
    rows = rows.assign(**{c: rows[c] / div for c in ("point", "lower", "upper", "baseline")})
    fig = fg._base(title, "", height=max(300, 24 * len(rows) + 110))
    fig.add_trace(go.Scatter(
        y=rows["group"].tolist(), x=rows["point"].tolist(), mode="markers", name=lb.t("forecast_80", lang),
        marker={"color": POINT_COLOUR, "size": 10,
                "symbol": ["circle-open" if low else "circle" for low in rows["low_confidence"]]},
        error_x={"type": "data", "array": (rows["upper"] - rows["point"]).tolist(),
                 "arrayminus": (rows["point"] - rows["lower"]).tolist(), "thickness": 2, "width": 6},
        customdata=np.stack([rows["lower"], rows["upper"]], axis=-1).tolist(),
        hovertemplate="%{y}: %{x:.4s} (80%: %{customdata[0]:.4s} – %{customdata[1]:.4s})<extra></extra>"))
    fig.add_trace(go.Scatter(y=rows["group"].tolist(), x=rows["baseline"].tolist(), mode="markers",
                             name=lb.t("normal_peak", lang), marker={"color": "#9aa5b1", "size": 9, "symbol": "diamond"},
                             hovertemplate="%{y}: %{x:.4s}<extra>" + lb.t("normal_peak", lang) + "</extra>"))
    fig.update_xaxes(title_text=lb.unit_name(units, lang), rangemode="tozero", side="top")   # values on the first screen
    fig.update_yaxes(type="category", automargin=True)
    _top_axis(fig)
    return fig


def _top_axis(fig: go.Figure) -> None:
    """Tall horizontal charts: values on an x axis at the top (seen without scrolling), title on the
    left and legend on the right of the band above it."""
    fig.update_layout(title={"x": 0.01, "xanchor": "left", "y": 0.995, "yref": "container", "yanchor": "top"},
                      legend={"orientation": "h", "yref": "container", "y": 0.995, "yanchor": "top", "x": 1,
                              "xanchor": "right"},
                      margin=dict(l=10, r=20, t=100, b=20))


def worst_utilisation(plan: pd.DataFrame) -> pd.DataFrame:
    """Per cluster, the resource closest to its limit at the upper bound:
    [cluster, resource, point, upper, allowed, status] in plan order (utilisations as fractions)."""
    keys = list(RESOURCES)
    upper = plan[[f"{k}_util_upper" for k in keys]].to_numpy(float)
    point = plan[[f"{k}_util_point" for k in keys]].to_numpy(float)
    known = ~np.isnan(upper).all(axis=1)
    pick = np.nanargmax(np.where(np.isnan(upper), -np.inf, upper), axis=1)
    rows = np.arange(len(plan))
    return pd.DataFrame({"cluster": plan["cluster"].to_numpy(), "resource": [RESOURCES[keys[i]] for i in pick],
                         "point": point[rows, pick], "upper": upper[rows, pick],
                         "allowed": plan["max_util"].to_numpy(float), "status": plan["status"].to_numpy()})[known]


def utilisation_figure(plan: pd.DataFrame, lang: str, top: int = 30) -> go.Figure:
    """Utilisation of each cluster's tightest resource at the predicted peak and at its upper bound,
    against the share its star level may use (red tick); the ``top`` riskiest, rank 1 on top."""
    w = worst_utilisation(plan).head(top).iloc[::-1]
    labels = [f"{c} · {lb.metric_name(r, lang)}" for c, r in zip(w["cluster"], w["resource"])]
    fig = fg._base(lb.t("utilisation_title", lang), "", height=max(300, 30 * len(w) + 110))
    fig.add_trace(go.Bar(y=labels, x=(w["point"] * 100).tolist(), orientation="h", name=lb.t("at_point", lang),
                         marker_color=POINT_COLOUR, hovertemplate="%{y}: %{x:.0f}%<extra>" + lb.t("at_point", lang) + "</extra>"))
    fig.add_trace(go.Bar(y=labels, x=(w["upper"] * 100).tolist(), orientation="h", name=lb.t("at_upper", lang),
                         marker_color=UPPER_COLOUR, hovertemplate="%{y}: %{x:.0f}%<extra>" + lb.t("at_upper", lang) + "</extra>"))
    fig.add_trace(go.Scatter(y=labels, x=(w["allowed"] * 100).tolist(), mode="markers", name=lb.t("allowed", lang),
                             marker={"symbol": "line-ns-open", "size": 20, "color": LIMIT_COLOUR,
                                     "line": {"width": 3, "color": LIMIT_COLOUR}},
                             hovertemplate="%{y}: %{x:.0f}%<extra>" + lb.t("allowed", lang) + "</extra>"))
    fig.update_layout(barmode="group", bargap=0.25)
    _top_axis(fig)
    fig.update_xaxes(title_text=lb.t("pct_of_capacity", lang), ticksuffix="%", rangemode="tozero", side="top")
    fig.update_yaxes(type="category", automargin=True)
    return fig


def _pct(x: float) -> str:
    return "–" if pd.isna(x) else f"{x:.0%}"


def action_label(a, lang: str) -> str:
    """``forecasting.capacity.Action`` in words: the split with its shard counts, the maxmemory
    alternative when only memory is short, the proxies with their counts."""
    if a.none:
        return lb.t("act_none", lang)
    parts = []
    split = lb.t("act_split", lang).format(a=a.shards, b=a.shards_to, n=a.shards_to - a.shards)
    mem = lb.t("act_mem", lang).format(to=lb.bytes_(a.mem_per_shard_to), add=lb.bytes_(a.mem_per_shard))
    if a.shards_to > a.shards and a.mem_per_shard > 0:
        parts.append(lb.t("act_mem_or_split", lang).format(mem=mem, split=split))
    elif a.shards_to > a.shards:
        parts.append(split)
    elif a.mem_per_shard > 0:
        parts.append(mem)
    if a.proxies_to > a.proxies:
        parts.append(lb.t("act_proxies", lang).format(n=a.proxies_to - a.proxies, a=a.proxies, b=a.proxies_to))
    return "; ".join(parts)


def reason_label(r, worst, lang: str) -> str:
    """Why the row has its status, in the page's language (the plan's ``reason`` is the CLI's English)."""
    if r.status == "no forecast" or worst is None:
        return lb.t("why_none", lang)
    pts = {k: getattr(r, f"{k}_util_point") for k in RESOURCES}
    if r.status == "over":
        key = max((k for k in pts if pd.notna(pts[k])), key=lambda k: pts[k])
        res, pct = RESOURCES[key], pts[key]
    else:
        res, pct = worst["resource"], worst["upper"]
    text = lb.t(f"why_{r.status}", lang).format(res=lb.metric_name(res, lang), pct=_pct(pct), allowed=_pct(r.max_util),
                                                star=int(r.star))
    if getattr(r, "low_confidence", False) and r.status in ("over", "watch"):
        text += "; " + lb.t("why_weak", lang)
    unlimited = int(getattr(r, "unlimited_shards", 0) or 0)
    if unlimited:
        text += "; " + lb.t("why_unlimited", lang).format(n=unlimited, m=int(r.shards))
    return text


def plan_rows(plan: pd.DataFrame, lang: str = "en") -> list[dict]:
    """Recommendation table rows, in the plan's (risk) order; ``sev`` colours the row by status."""
    w = worst_utilisation(plan).set_index("cluster")
    rows = []
    for r in plan.itertuples(index=False):
        worst = w.loc[r.cluster] if r.cluster in w.index else None
        proxies = int(getattr(r, "proxies", 0) or 0)
        rows.append({
            "rank": int(r.rank), "cluster": r.cluster, "business": r.business, "star": f"{int(r.star)}★",
            "service": r.service, "status": lb.status(r.status, lang),
            "shards": int(r.shards), "proxies": proxies if proxies or r.service == "twemproxy" else "–",
            "action": action_label(capacity.action(r._asdict()), lang),
            "risk": "–" if pd.isna(r.risk) else f"{r.risk:.2f}",
            "resource": "–" if worst is None else lb.metric_name(worst["resource"], lang),
            "util_point": "–" if worst is None else _pct(worst["point"]),
            "util_upper": "–" if worst is None else _pct(worst["upper"]), "allowed": _pct(r.max_util),
            "add_shards": int(r.add_shards), "add_proxies": int(r.add_proxies),
            "add_mem": lb.bytes_(r.add_mem_bytes) if r.add_mem_bytes > 0 else "0",
            "method": lb.named("method", getattr(r, "method", "") or "–", lang),
            "past_error": _pct(getattr(r, "past_mdape", np.nan)),
            "utilisation": "–" if worst is None else
            f"{_pct(worst['point'])} / {_pct(worst['upper'])} ({_pct(r.max_util)})",
            "method_error": f"{lb.named('method', getattr(r, 'method', '') or '–', lang)} "
                            f"({_pct(getattr(r, 'past_mdape', np.nan))})",
            "confidence": lb.t("low_confidence" if getattr(r, "low_confidence", False) else "confident", lang),
            "reason": reason_label(r, worst, lang), "sev": STATUS_SEV.get(r.status, "ok")})
    return rows


def shown_plan(plan: pd.DataFrame, acting_rows: int = 50, ok_rows: int = 5) -> pd.DataFrame:
    """The rows the page's table shows: the ``acting_rows`` riskiest clusters to change (over,
    watch), then the ``ok_rows`` ok clusters closest to their limit (the CSV has them all)."""
    acting = plan["status"].isin(["over", "watch"])
    return pd.concat([plan[acting].head(acting_rows), plan[plan["status"] == "ok"].head(ok_rows)])


def sizing_rows(s, lang: str) -> list[dict]:
    """One-column table of a ``forecasting.sizing.Sizing``: (what, value) rows."""
    p = s.profile
    rows = [("size_shards", f"{s.shards} × {p.instances_per_shard}"),
            ("size_mem_per_shard", lb.bytes_(s.mem_per_shard)),
            ("size_proxies", str(s.proxies) if p.service == "twemproxy" else "–"),
            ("size_instances", str(s.instances)),
            ("size_peak", lb.si(s.peak_qps) + " QPS"),
            ("size_lift", f"×{p.lift:.2f}" + (f" ({p.kind})" if p.kind else "")),
            ("size_similar", ", ".join(p.similar) or "–"),
            ("size_why", "; ".join(sizing_why(s, lang)))]
    return [{"what": lb.t(k, lang), "value": v} for k, v in rows]


def sizing_why(s, lang: str) -> list[str]:
    """How the sizing was reached, in ``lang`` (the sizing's own lines are English, for the CLI)."""
    p = s.profile
    if lang != "zh":
        return list(s.why + p.notes)
    from forecasting.sizing import GIB, MIN_PROXIES
    peak = lb.t("size_why_peak", lang).format(peak=f"{s.peak_qps:,.0f}", qps=f"{s.qps:,.0f}", lift=f"{p.lift:.2f}")
    if p.similar:
        peak += lb.t("size_why_similar", lang).format(kind=p.kind, n=len(p.similar))
    out = [peak, lb.t("size_why_util", lang).format(star=s.star, util=f"{s.max_util:.0%}"),
           lb.t("size_why_shards", lang).format(by_qps=s.by_qps, qps_inst=f"{p.qps_per_instance:,.0f}", by_mem=s.by_mem,
                                                mem_inst=f"{p.mem_per_instance / GIB:.0f}")]
    if s.proxies:
        out.append(lb.t("size_why_proxies", lang).format(proxies=s.proxies, proxy_qps=f"{s.proxy_qps:,.0f}",
                                                         least=MIN_PROXIES))
    return out + [lb.note(n, lang) for n in p.notes]


def _zone_label(tz: str, now: int, lang: str) -> str:
    """The display time zone as a reader names it: its id in en, its UTC offset in zh (UTC+08:00)."""
    if lang != "zh":
        return tz
    offset = pd.Timestamp(now, unit="s", tz="UTC").tz_convert(tz).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def capacity_summary(target, plan: pd.DataFrame, result: dict, backtest: dict | None, settings, now: int,
                     lang: str) -> list[str]:
    """The lines above the capacity table: what (counts by status), by when (the deadline to act),
    how sure (the methods' past error, low-confidence rows, the backtest)."""
    tz = settings.timezone
    counts = plan["status"].value_counts()
    lines = [lb.t("cap_summary", lang).format(
        name=target.name, start=target.start.tz_convert(tz).strftime("%Y-%m-%d %H:%M"),
        cutoff=lb.when(result["cutoff"], tz), tz=_zone_label(tz, now, lang), n=len(plan), over=int(counts.get("over", 0)),
        watch=int(counts.get("watch", 0)), ok=int(counts.get("ok", 0)))]
    if counts.get("no forecast", 0):
        lines[0] += " " + lb.t("cap_no_forecast", lang).format(n=int(counts["no forecast"]))
    lead = int(settings.capacity_lead_days)
    due = capacity.act_by(target.start, lead).tz_convert(tz)
    today = pd.Timestamp(now, unit="s", tz="UTC").tz_convert(tz).normalize()
    left = (due.normalize() - today).days
    date = due.strftime("%Y-%m-%d %H:%M")
    lines.append(lb.t("cap_deadline", lang).format(date=date, lead=lead, left=left) if left >= 0 else
                 lb.t("cap_deadline_passed", lang).format(date=date, lead=lead, ago=-left))
    acting = plan[plan["status"].isin(["over", "watch"])]
    errors = plan["past_mdape"].dropna() if "past_mdape" in plan else pd.Series(dtype=float)
    weak = int(acting["low_confidence"].sum()) if "low_confidence" in acting else 0
    lines.append(lb.t("cap_accuracy", lang).format(err=_pct(errors.median()) if len(errors) else "–", weak=weak,
                                                   m=len(acting)))
    if backtest is not None and backtest.get("n"):
        lines.append(lb.t("cap_backtest", lang).format(n=backtest["n"], mdape=_pct(backtest["mdape"]),
                                                       coverage=_pct(backtest["coverage_80"])))
    else:
        lines.append(lb.t("cap_backtest_pending", lang))
    return lines
