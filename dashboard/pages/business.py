"""Business page ``/business/<name>``: realtime, history, shard balance, flags, instances.

Realtime refreshes append new points with ``extendData``; history reads rollups for long ranges.
"""
from __future__ import annotations

from urllib.parse import unquote

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import business_data as bd
from dashboard import page_cache as cached
from dashboard import components as cp
from dashboard import context
from dashboard import figures as fg
from dashboard import inputs
from dashboard import instance_rows as ir
from dashboard import labels as lb
from store.alert_types import PROBLEM_SEVERITIES

dash.register_page(__name__, path_template="/business/<name>", title="Peakwatch · business", name="business")

WINDOWS = (1, 3, 6)
ZABBIX_SEVERITY_NAMES = dict(enumerate(PROBLEM_SEVERITIES))
OVERLAY_DAYS = 364   # same weekday a year earlier


@cp.guarded
def layout(name=None, start=None, end=None, metric=None, window=None, kiosk=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    name = unquote(name or "")
    biz = bd.business_frame(ctx.store, name)
    if biz is None:
        return html.Div([cp.navbar("", lang), cp.message(
            f"{lb.t('unknown_business', lang)}: {name}",
            f"No business named “{name}” is in the store. Check the link or pick it on the wall.", lang)])
    series = bd.business_series(ctx.store, name)
    head = header(ctx, biz, name)
    if series.empty:
        return html.Div([cp.navbar("", lang), head, cp.message(lb.t("no_series", lang),
                         f"{name}: no series yet; they appear after the next collection.", lang)], className="page")
    metrics = bd.instance_metrics(series)
    problems = []
    metric = metric if metric in metrics else ("qps" if "qps" in metrics else metrics[0])
    try:
        win = int(window) if window is not None else 3
        if win not in WINDOWS:
            raise ValueError
    except ValueError:
        problems.append(f"window={window!r} is not one of {', '.join(map(str, WINDOWS))} hours; showing 3 h.")
        win = 3
    try:
        lo, hi = bd.parse_range(start, end, ctx.tz, ctx.now())
    except bd.RangeError as exc:
        problems.append(f"History range: {exc} Showing the last {bd.DEFAULT_DAYS} days.")
        lo, hi = bd.parse_range(None, None, ctx.tz, ctx.now())
    return html.Div([
        None if cp.is_on(kiosk) else cp.navbar("", lang),
        head,
        html.Div([html.P(p, className="inline-message") for p in problems], id="biz-problems"),
        flags_card(ctx, name),
        realtime_card(ctx, name, metrics, metric, win),
        history_card(ctx, name, metrics, metric, lo, hi),
        shard_card(ctx, name),
        instances_card(ctx, name),
        dcc.Store(id="biz-name", data=name),
    ], className="page business")


def header(ctx, biz, name: str) -> html.Div:
    lang = ctx.lang
    # the alert engine's stored flags (what was paged), not a re-evaluation
    mine = stored_alerts(ctx, name)
    has_series = not bd.business_series(ctx.store, name).empty
    sev = (max(mine["severity"], key=lambda s: ["ok", "stale", "warn", "crit"].index(s)) if not mine.empty
           else "ok" if has_series else "stale")
    return html.Div([
        html.H1([name, html.Span(lb.t(sev, lang), className=f"badge sev-{sev}", id="biz-severity")]),
        html.P(f"{lb.t('product_line', lang)} {biz['product_line']} · {lb.t('star', lang)} {'★' * int(biz['star'])}"
               f" · {lb.t('oncall', lang)}: {cp.mask_phones(biz['oncall'])}",
               className="sub"),
    ])


def stored_alerts(ctx, name: str) -> pd.DataFrame:
    """The business's open alerts as the engine stored them (firing and acknowledged)."""
    alerts = ctx.store.open_alerts(include_pending=False)
    return alerts[alerts["business"] == name]


def flags_card(ctx, name: str) -> html.Div:
    lang = ctx.lang
    bad = stored_alerts(ctx, name)
    rows = [{"where": r["instance"] if isinstance(r["instance"], str) else r["cluster"],
             "metric": r["metric"] or r["rule"], "severity": lb.t(r["severity"], lang), "what": r["reason"],
             # acknowledged / silenced rows dimmed (peakwatch.css); each links to its alert on /alerts
             "sev": r["severity"] + (" silenced" if not pd.isna(r["silenced_by"]) else
                                     " acked" if r["state"] == "acknowledged" else ""),
             "alert_url": f"/alerts?alert={int(r['id'])}", "since": lb.when(r["fired_at"], ctx.tz),
             "state": (f"{lb.t('silenced', lang)}" if not pd.isna(r["silenced_by"]) else
                       f"{lb.t('acked', lang)} ({r['acked_by']})" if r["state"] == "acknowledged" else "")}
            for _, r in bad.iterrows()]
    body = (html.P(lb.t("no_flags", lang), className="no-flags") if not rows else
            cp.table(rows, [(c, c) for c in ("where", "metric", "severity", "what", "since", "state")], "flags-table",
                     links={"where": "alert_url"}))
    return html.Div([html.H2(lb.t("current_flags", lang)), body, problems_block(ctx, name)], className="card")


def problems_block(ctx, name: str) -> html.Div:
    """The business's active Zabbix problems (most severe first), times in the display zone."""
    lang = ctx.lang
    probs = cached.problems(ctx)
    mine = probs[probs["business"] == name]
    title = html.H3(lb.t("zabbix_problems", lang))
    if mine.empty:
        return html.Div([title, html.P(lb.t("no_zabbix_problems", lang), className="sub")], id="zabbix-problems")
    rows = [{"severity": ZABBIX_SEVERITY_NAMES.get(int(r.zabbix_severity), str(r.zabbix_severity)),
             "sev": r.severity, "host": r.host or r.instance, "instance": r.instance, "name": r.name,
             "since": lb.when(r.clock, ctx.tz)} for r in mine.itertuples(index=False)]
    cols = [(c, lb.t(f"zp_{c}", lang)) for c in ("severity", "host", "instance", "name", "since")]
    return html.Div([title, cp.table(rows, cols, "zabbix-problems-table")], id="zabbix-problems")


def realtime_card(ctx, name, metrics, metric, win) -> html.Div:
    lang = ctx.lang
    return html.Div([
        html.H2(lb.t("realtime", lang)),
        html.Div([html.Label(lb.t("metric", lang)),
                  dcc.Dropdown(metrics, metric, id="rt-metric", clearable=False),
                  html.Label(lb.t("window", lang)),
                  dcc.RadioItems([{"label": f"{w} h", "value": w} for w in WINDOWS], win, id="rt-window",
                                 inline=True)], className="controls"),
        dcc.Graph(id="rt-graph", config={"displaylogo": False}),
        dcc.Store(id="rt-state"),
        dcc.Interval(id="rt-tick", interval=ctx.settings.refresh_seconds * 1000),
    ], className="card")


def history_card(ctx, name, metrics, metric, lo, hi) -> html.Div:
    lang = ctx.lang
    start = lb.when(lo, ctx.tz, "%Y-%m-%d")
    end = lb.when(hi - 1, ctx.tz, "%Y-%m-%d")
    return html.Div([
        html.H2(lb.t("history", lang)),
        html.Div([html.Label(lb.t("range", lang)),
                  dcc.DatePickerRange(id="hist-range", start_date=start, end_date=end, display_format="YYYY-MM-DD",
                                      minimum_nights=0),
                  html.Label(lb.t("metric", lang)),
                  dcc.Dropdown(metrics, metric, id="hist-metric", clearable=False),
                  dcc.Checklist([{"label": "same range last year", "value": "year"},
                                 {"label": lb.t("per_instance", lang), "value": "instances"}], [], id="hist-overlay",
                                inline=True)], className="controls"),
        html.Div(id="hist-msg", className="inline-message"),
        dcc.Graph(id="hist-graph", config={"displaylogo": False}),
        html.P(id="hist-points", className="sub"),
    ], className="card")


def shard_card(ctx, name) -> html.Div:
    lang = ctx.lang
    flags = cached.latest_flags(ctx)
    flags = flags[flags["business"] == name]
    inst = ctx.store.instances()
    graphs = []
    for metric in ("qps", "proxy_qps", "mem_util"):
        frame = bd.shard_frame(flags, inst, metric)
        if frame.empty or (metric == "qps" and frame["cluster"].nunique() == 0):
            continue
        graphs.append(dcc.Graph(figure=fg.shard_balance_figure(frame, metric, lang), id=f"shard-{metric}",
                                config={"displaylogo": False}))
    return html.Div([html.H2(lb.t("shard_balance", lang)), html.Div(graphs, className="two")], className="card")


def instances_card(ctx, name) -> html.Div:
    lang = ctx.lang
    frame = bd.instance_table(ctx.store, cached.latest_flags(ctx), name, ctx.now())
    out = [html.H2(lb.t("instances", lang))]
    if frame.empty:
        return html.Div(out + [html.P(lb.t("no_series", lang))], className="card")
    for fam, rows in ir.tables(frame, lang, ctx.settings.zabbix_url).items():
        cols = ir.columns(fam, lang, bool(ctx.settings.zabbix_url))
        out += [html.H3(fam), cp.table(rows, cols, f"inst-{fam}", links={"zabbix": "zabbix_href"})]
    notes = frame[frame["notes"].fillna("") != ""] if "notes" in frame else frame.iloc[0:0]
    if len(notes):      # what the collector had to assume from malformed or missing tags
        out += [html.H3(lb.t("assumed", lang)),
                html.Ul([html.Li(f"{r.instance}: {r.notes}") for r in notes.itertuples()], id="inst-notes")]
    return html.Div(out, className="card")


# ------------------------------------------------------------------------------- callbacks
def _business(ctx, name) -> tuple[str, pd.DataFrame]:
    name = inputs.text(name, "business")
    return name, bd.business_series(ctx.store, name)


@inputs.guarded_callback(2)
def realtime_full(metric, window, name):
    """Rebuild the realtime figure when the metric or window changes."""
    ctx = context.current()
    now = ctx.now()
    name, series = _business(ctx, name)
    metric = inputs.choice(metric, bd.instance_metrics(series), "metric")
    window = inputs.choice(inputs.whole(window, "window", 1, 24), WINDOWS, "window")
    frame = bd.realtime(ctx.store, series, metric, now - int(window) * 3600, now + 1)
    total = bd.combine(frame, metric)
    fig = fg.realtime_figure(frame, total, metric, ctx.tz, ctx.lang)
    order = sorted(frame["instance"].unique())[:64]
    last = int(frame["ts"].max()) if len(frame) else now - int(window) * 3600
    return fig, {"metric": metric, "window": int(window), "last": last, "order": order}


def _realtime_state(state, series: pd.DataFrame, now: int) -> dict:
    """The figure's state as the browser sent it back, checked: known metric and window, a last
    point inside the window, and only this business's instances (at most 64, as drawn)."""
    state = inputs.mapping(state, "rt-state")
    window = inputs.choice(inputs.whole(state.get("window"), "window", 1, 24), WINDOWS, "window")
    metric = inputs.choice(state.get("metric"), bd.instance_metrics(series), "metric")
    last = inputs.whole(state.get("last"), "last", 0, 2**32)
    order = inputs.texts(state.get("order"), "order", allowed=set(series["instance"].dropna()), max_items=64)
    return {"metric": metric, "window": window, "last": max(last, now - window * 3600), "order": order}


@inputs.guarded_callback(2)
def realtime_extend(_n, state, name):
    """Append points newer than the last one shown (extendData), never rebuild the figure."""
    if not state:
        return no_update, no_update
    ctx = context.current()
    name, series = _business(ctx, name)
    state = _realtime_state(state, series, ctx.now())
    frame = bd.realtime(ctx.store, series, state["metric"], state["last"] + 1, ctx.now() + 1)
    if frame.empty:
        return no_update, no_update
    total = bd.combine(frame, state["metric"])
    xs, ys = [fg.local_times(total["ts"], ctx.tz)], [total["value"].tolist()]
    for inst in state["order"]:
        g = frame[frame["instance"] == inst]
        xs.append(fg.local_times(g["ts"], ctx.tz))
        ys.append(g["value"].tolist())
    keep = state["window"] * 60 + 5
    state = {**state, "last": int(frame["ts"].max())}
    return ({"x": xs, "y": ys}, list(range(len(xs))), keep), state


@inputs.guarded_callback(3, on_bad=lambda exc: (no_update, str(exc), no_update))
def history_update(start_date, end_date, metric, overlay, name):
    """History of the chosen range; long ranges come from the rollups."""
    ctx = context.current()
    start_date = inputs.text(start_date, "start date", 40, optional=True)
    end_date = inputs.text(end_date, "end date", 40, optional=True)
    try:
        lo, hi = bd.parse_range(start_date, end_date, ctx.tz, ctx.now())
    except bd.RangeError as exc:
        return no_update, f"History range: {exc}", no_update
    name, series = _business(ctx, name)
    metric = inputs.choice(metric, bd.instance_metrics(series), "metric")
    overlay = inputs.texts(overlay, "overlay", allowed=("year", "instances"))
    key = f"hist:{name}:{metric}:{lo}:{hi}:{sorted(overlay)}"
    return ctx.cached(key, 60, lambda: history_result(ctx, name, metric, lo, hi, "year" in overlay,
                                                      "instances" in overlay))


def history_result(ctx, name, metric, lo, hi, with_overlay: bool, per_instance: bool = False):
    series = bd.business_series(ctx.store, name)
    total, per_cluster = bd.history(ctx.store, series, name, metric, lo, hi)
    if per_instance:   # one line per instance instead of per cluster (rollups for long ranges)
        inst = bd.metric_range(ctx.store, series, metric, lo, hi, max_points=400)
        per_cluster = inst.rename(columns={"instance": "group"})[["group", "ts", "value"]]
    over = None
    if with_overlay:
        shift = OVERLAY_DAYS * 86400
        over, _ = bd.history(ctx.store, series, name, metric, lo - shift, hi - shift)
        over = over.assign(ts=over["ts"] + shift)
    fig = fg.history_figure(total, per_cluster, metric, ctx.tz, ctx.lang, over, "same range last year")
    msg = "" if len(total) else f"No {metric} data for {name} in this range."
    span = f"{lb.when(lo, ctx.tz)} – {lb.when(hi, ctx.tz)} · {len(total)} points"
    return fig, msg, span


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output("rt-graph", "figure"), Output("rt-state", "data"),
                 Input("rt-metric", "value"), Input("rt-window", "value"), State("biz-name", "data"))(realtime_full)
    app.callback(Output("rt-graph", "extendData"), Output("rt-state", "data", allow_duplicate=True),
                 Input("rt-tick", "n_intervals"), State("rt-state", "data"), State("biz-name", "data"),
                 prevent_initial_call=True)(realtime_extend)
    app.callback(Output("hist-graph", "figure"), Output("hist-msg", "children"), Output("hist-points", "children"),
                 Input("hist-range", "start_date"), Input("hist-range", "end_date"), Input("hist-metric", "value"),
                 Input("hist-overlay", "value"), State("biz-name", "data"))(history_update)
