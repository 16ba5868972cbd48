"""Business page ``/business/<name>``: realtime, history, shard balance, flags, instances.

Realtime refreshes append new points with ``extendData``; history reads rollups for long ranges.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

import dash
import pandas as pd
from dash import Input, Output, State, callback_context, dcc, html, no_update

from dashboard import business_data as bd
from dashboard import page_cache as cached
from dashboard import components as cp
from dashboard import context
from dashboard import figures as fg
from dashboard import inputs
from dashboard import instance_rows as ir
from dashboard import labels as lb
from alerting import config as acfg
from store.alert_types import PROBLEM_SEVERITIES

dash.register_page(__name__, path_template="/business/<name>", title="Peakwatch · business", name="business")

WINDOWS = (1, 3, 6)
ZABBIX_SEVERITY_NAMES = dict(enumerate(PROBLEM_SEVERITIES))
OVERLAY_DAYS = 364   # same weekday a year earlier


@cp.guarded
def layout(name=None, start=None, end=None, metric=None, window=None, kiosk=None, range=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    name = unquote(name or "")
    biz = bd.business_frame(ctx.store, name)
    if biz is None:
        return html.Div([cp.navbar("", lang), cp.message(
            f"{lb.t('unknown_business', lang)}: {name}", lb.t("unknown_business_text", lang).format(name=name), lang)])
    series = bd.business_series(ctx.store, name)
    head = header(ctx, biz, name)
    if series.empty:
        return html.Div([cp.navbar("", lang), head, cp.message(lb.t("no_series", lang),
                         lb.t("no_series_yet", lang).format(name=name), lang)], className="page")
    metrics = bd.instance_metrics(series)
    problems = []
    # a link from a flag carries its metric; without one the page opens on the worst flag's
    metric = metric if metric in metrics else (bd.flagged_metric(stored_alerts(ctx, name), metrics)
                                               or ("qps" if "qps" in metrics else metrics[0]))
    try:
        win = int(window) if window is not None else 3
        if win not in WINDOWS:
            raise ValueError
    except ValueError:
        problems.append(lb.t("bad_window", lang).format(window=repr(window), allowed=", ".join(map(str, WINDOWS))))
        win = 3
    try:
        lo, hi = bd.parse_range(start, end, ctx.tz, ctx.now())
    except bd.RangeError as exc:
        problems.append(lb.t("bad_range", lang).format(error=exc, days=bd.DEFAULT_DAYS))
        lo, hi = bd.parse_range(None, None, ctx.tz, ctx.now())
    preset = range if range in bd.PRESETS else ("7d" if start is None and end is None else None)
    return html.Div([
        None if cp.is_on(kiosk) else cp.navbar("", lang),
        head,
        html.Div([html.P(p, className="inline-message") for p in problems], id="biz-problems"),
        flags_card(ctx, name),
        realtime_card(ctx, name, metrics, metric, win),
        history_card(ctx, name, metrics, metric, lo, hi, preset),
        # below the fold at 1080p: drawn by a callback after the charts above (first paint sooner)
        html.Div(html.Div([html.H2(lb.t("shard_balance", lang))], className="card"), id="shard-card"),
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


FLAG_COLUMNS = ("where", "metric", "severity", "what", "since", "state")


def instance_href(instance: str) -> str:
    return f"/instance?name={quote(instance, safe='')}"


def flag_where(r: dict, lang: str):
    """One instance: a link to its view; several of one cluster: 'cluster X: 32 instances', which
    opens to list them."""
    if not r["instances"]:
        return r["where"]
    if len(r["instances"]) == 1:
        return dcc.Link(r["instances"][0], href=instance_href(r["instances"][0]))
    summary = f"{r['cluster']}: {lb.t('n_instances', lang).format(n=len(r['instances']))}"
    return html.Details([html.Summary(summary, className="flag-group"),
                         html.Div([dcc.Link(i, href=instance_href(i), className="flag-member")
                                   for i in r["instances"]], className="flag-members")])


def shown(text: str, key: str | None, lang: str) -> str:
    """The engine's fixed words in the page's language; a metric and its reason ('mem_util 97')
    with the metric's name in the page's language (内存利用率 97 in zh)."""
    if key:
        return lb.t(key, lang)
    return lb.metric_name(text, lang) if text in lb.METRIC_NAMES else lb.note(text, lang)


def metric_options(metrics, lang: str) -> list[dict]:
    """The metric pickers' choices: the metric's name in the page's language, its id as the value."""
    return [{"label": lb.metric_name(m, lang), "value": m} for m in metrics]


def flags_card(ctx, name: str) -> html.Div:
    lang = ctx.lang
    rows = [{"where": flag_where(r, lang), "metric": shown(r["metric"], bd.rule_key(r["metric"]), lang),
             "severity": lb.t(r["severity"], lang),
             "what": (f"{lb.t('worst', lang)}: " if len(r["instances"]) > 1 else "")
             + shown(r["reason"], bd.reason_key(r["reason"]), lang),
             # acknowledged / silenced rows dimmed (peakwatch.css); "what" links to the (worst) alert on /alerts
             "sev": r["severity"] + (f" {r['mark']}" if r["mark"] else ""), "alert_url": f"/alerts?alert={r['id']}",
             "since": lb.when(r["since"], ctx.tz),
             "state": (lb.t("silenced", lang) if r["mark"] == "silenced" else
                       f"{lb.t('acked', lang)} ({r['acked_by']})" if r["mark"] == "acked" else "")}
            for r in bd.flag_rows(stored_alerts(ctx, name))]
    body = (html.P(lb.t("no_flags", lang), className="no-flags") if not rows else
            cp.table(rows, [(c, lb.t(f"bf_{c}", lang)) for c in FLAG_COLUMNS], "flags-table",
                     links={"what": "alert_url"}))
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
    fig, state = realtime_payload(ctx, name, bd.business_series(ctx.store, name), metric, win)
    return html.Div([
        html.H2(lb.t("realtime", lang)),
        html.Div([html.Label(lb.t("metric", lang)),
                  dcc.Dropdown(metric_options(metrics, lang), metric, id="rt-metric", clearable=False),
                  html.Label(lb.t("window", lang)),
                  dcc.RadioItems([{"label": f"{w} {lb.t('hours_short', lang)}", "value": w} for w in WINDOWS], win, id="rt-window",
                                 inline=True)], className="controls"),
        # drawn with the page (no callback round trip before the first chart); changes go through
        # the callbacks
        dcc.Graph(id="rt-graph", figure=fig, config={"displaylogo": False}),
        dcc.Store(id="rt-state", data=state),
        dcc.Interval(id="rt-tick", interval=ctx.settings.refresh_seconds * 1000),
    ], className="card")


def history_card(ctx, name, metrics, metric, lo, hi, preset) -> html.Div:
    lang = ctx.lang
    fig, msg, span = history_payload(ctx, name, metric, *(bd.preset_range(preset, ctx.now()) if preset else (lo, hi)),
                                     [])
    start = lb.when(lo, ctx.tz, "%Y-%m-%d")
    end = lb.when(hi - 1, ctx.tz, "%Y-%m-%d")
    return html.Div([
        html.H2(lb.t("history", lang)),
        html.Div([html.Label(lb.t("quick_range", lang)),
                  dcc.RadioItems([{"label": lb.t(f"preset_{p}", lang), "value": p} for p in bd.PRESETS], preset,
                                 id="hist-preset", inline=True, className="presets"),
                  html.Label(lb.t("range", lang)),
                  dcc.DatePickerRange(id="hist-range", start_date=start, end_date=end, display_format="YYYY-MM-DD",
                                      minimum_nights=0),
                  html.Label(lb.t("metric", lang)),
                  dcc.Dropdown(metric_options(metrics, lang), metric, id="hist-metric", clearable=False),
                  dcc.Checklist([{"label": lb.t("last_year", lang), "value": "year"},
                                 {"label": lb.t("per_instance", lang), "value": "instances"}], [], id="hist-overlay",
                                inline=True)], className="controls"),
        html.Div(msg, id="hist-msg", className="inline-message"),
        dcc.Graph(id="hist-graph", figure=fig, config={"displaylogo": False}),
        html.P(span, id="hist-points", className="sub"),
    ], className="card")


def thresholds(ctx, name: str, metric: str) -> list[tuple[str, float]]:
    """The rules' warn/crit on ``metric`` for this business's star level (as the engine applies them)."""
    biz = bd.business_frame(ctx.store, name)
    star = int(biz["star"]) if biz is not None else 3
    cfg = ctx.cached("biz:alerting-config", 300, lambda: acfg.load(ctx.settings))
    return bd.rule_thresholds(cfg.rules, metric, star, cfg.tighten)


@inputs.guarded_callback(1)
def shard_update(name):
    """The shard-balance card, after the charts above it."""
    ctx = context.current()
    name = inputs.text(name, "business")
    return shard_card(ctx, name)


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
        graphs.append(dcc.Graph(figure=fg.shard_balance_figure(frame, metric, lang, thresholds(ctx, name, metric)),
                                id=f"shard-{metric}", config={"displaylogo": False}))
    body = html.Div(graphs, className="two") if graphs else html.P(lb.t("no_current_shards", lang), className="sub",
                                                                    id="shard-none")
    return html.Div([html.H2(lb.t("shard_balance", lang)), body], className="card")


def instances_card(ctx, name) -> html.Div:
    lang = ctx.lang
    frame = bd.instance_table(ctx.store, cached.latest_flags(ctx), name, ctx.now())
    out = [html.H2(lb.t("instances", lang))]
    if frame.empty:
        return html.Div(out + [html.P(lb.t("no_series", lang))], className="card")
    for fam, rows in ir.tables(frame, lang, ctx.settings.zabbix_url).items():
        cols = ir.columns(fam, lang, bool(ctx.settings.zabbix_url))
        for r in rows:      # the instance's own view (same tab: a DBA goes back and forth)
            r["instance"] = dcc.Link(r["instance"], href=instance_href(r["instance"]), className="inst-link")
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
    name, series = _business(ctx, name)
    metric = inputs.choice(metric, bd.instance_metrics(series), "metric")
    window = inputs.choice(inputs.whole(window, "window", 1, 24), WINDOWS, "window")
    return realtime_payload(ctx, name, series, metric, window)


def realtime_payload(ctx, name, series, metric, window) -> tuple:
    """(figure, state) of the realtime chart: the last ``window`` hours of ``metric``."""
    now = ctx.now()
    frame = bd.realtime(ctx.store, series, metric, now - int(window) * 3600, now + 1)
    total = bd.combine(frame, metric)
    fig = fg.realtime_figure(frame, total, metric, ctx.tz, ctx.lang, thresholds=thresholds(ctx, name, metric))
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
    metric = state["metric"]
    xs, ys = [fg.local_times(total["ts"], ctx.tz)], [total["value"].tolist()]
    cs = [fg.value_texts(metric, total["value"], ctx.lang)]
    for inst in state["order"]:
        g = frame[frame["instance"] == inst]
        xs.append(fg.local_times(g["ts"], ctx.tz))
        ys.append(g["value"].tolist())
        cs.append(fg.value_texts(metric, g["value"], ctx.lang))
    keep = state["window"] * 60 + 5
    state = {**state, "last": int(frame["ts"].max())}
    return ({"x": xs, "y": ys, "customdata": cs}, list(range(len(xs))), keep), state


@inputs.guarded_callback(4, on_bad=lambda exc: (no_update, str(exc), no_update, no_update))
def history_update(start_date, end_date, preset, metric, overlay, name):
    """History of the chosen range (a quick range rolls up to now; picking dates clears it); long
    ranges come from the rollups."""
    ctx = context.current()
    start_date = inputs.text(start_date, "start date", 40, optional=True)
    end_date = inputs.text(end_date, "end date", 40, optional=True)
    preset = None if preset is None else inputs.choice(preset, tuple(bd.PRESETS), "range")
    picked = callback_context.triggered_id == "hist-range"
    now = ctx.now()
    try:
        if preset and not picked:
            lo, hi = bd.preset_range(preset, now)
        else:
            lo, hi = bd.parse_range(start_date, end_date, ctx.tz, now)
    except bd.RangeError as exc:
        return no_update, lb.t("bad_range_short", ctx.lang).format(error=exc), no_update, no_update
    name, series = _business(ctx, name)
    metric = inputs.choice(metric, bd.instance_metrics(series), "metric")
    overlay = inputs.texts(overlay, "overlay", allowed=("year", "instances"))
    fig, msg, span = history_payload(ctx, name, metric, lo, hi, overlay)
    return fig, msg, span, (None if picked and preset else no_update)


def history_payload(ctx, name, metric, lo, hi, overlay) -> tuple:
    """(figure, message, footer) of the history chart, shared for a minute by every viewer."""
    if hi - lo < 40 * 86400:            # a rolling quick range: on a minute's grid, one entry a minute
        lo, hi = lo - lo % 60, hi - hi % 60 + (60 if hi % 60 else 0)
    key = f"hist:{ctx.lang}:{name}:{metric}:{lo}:{hi}:{sorted(overlay)}"
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
    fig = fg.history_figure(total, per_cluster, metric, ctx.tz, ctx.lang, over, lb.t("last_year", ctx.lang),
                            thresholds(ctx, name, metric))
    msg = "" if len(total) else lb.t("no_data_in_range", ctx.lang).format(metric=metric, name=name)
    span = (f"{lb.when(lo, ctx.tz)} – {lb.when(bd.shown_end(hi, ctx.now()), ctx.tz)} ({fg.utc_offset(ctx.tz)})"
            f" · {lb.t('n_points', ctx.lang).format(n=len(total))}")
    return fig, msg, span


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output("rt-graph", "figure"), Output("rt-state", "data"),
                 Input("rt-metric", "value"), Input("rt-window", "value"), State("biz-name", "data"),
                 prevent_initial_call=True)(realtime_full)
    app.callback(Output("shard-card", "children"), Input("biz-name", "data"))(shard_update)
    app.callback(Output("rt-graph", "extendData"), Output("rt-state", "data", allow_duplicate=True),
                 Input("rt-tick", "n_intervals"), State("rt-state", "data"), State("biz-name", "data"),
                 prevent_initial_call=True)(realtime_extend)
    app.callback(Output("hist-graph", "figure"), Output("hist-msg", "children"), Output("hist-points", "children"),
                 Output("hist-preset", "value"),
                 Input("hist-range", "start_date"), Input("hist-range", "end_date"), Input("hist-preset", "value"),
                 Input("hist-metric", "value"), Input("hist-overlay", "value"), State("biz-name", "data"),
                 prevent_initial_call=True)(history_update)
