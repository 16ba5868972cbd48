"""Capacity page ``/capacity``: the next (or a picked) promotion's recommendations ranked by risk
(current shard and proxy counts, the action, why), when to act by and how sure the forecast is;
then utilisation at the predicted peak and its upper bound against the star level's headroom, the
peak forecast with 80% intervals, and a CSV export of the plan.

The plan comes from the page cache, computed by the background warmer (minutes at 3,000
instances): a request never forecasts the fleet. The page polls until a plan is stored, and shows
an older plan (saying so) while a newer one is computed.

URL parameters: ``promotion`` (an upcoming promotion's name or kind), ``level``, ``metric``.
"""
from __future__ import annotations

import dash
import flask
from dash import Input, Output, State, dcc, html, no_update

from core.errors import ForecastError
from dashboard import components as cp
from dashboard import context
from dashboard import inputs
from dashboard import forecast_data as fd
from dashboard import forecast_figures as ff
from dashboard import page_cache as cached
from dashboard import labels as lb
from forecasting.sizing import SERVICES

dash.register_page(__name__, path="/capacity", title="Peakwatch · capacity", name="capacity")

PLAN_COLUMNS = ("rank", "cluster", "business", "star", "service", "status", "shards", "proxies", "action", "resource",
                "utilisation", "risk", "method_error", "confidence", "reason")
FORECAST_LEVELS = ("business", "cluster")
TOP = 40
POLL_MS = 3000    # how often an open page looks for a newly stored plan


@cp.guarded
def layout(promotion=None, level=None, metric=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    try:
        cal = fd.calendar(ctx)
    except ForecastError as exc:       # an empty store: say what to do, in the page's language
        text = str(exc) if lang == "en" else lb.t("store_empty", lang)
        return html.Div([cp.navbar("/capacity", lang), cp.message(lb.t("capacity", lang), text, lang)])
    problems = []
    if not cal["upcoming"]:
        return html.Div([cp.navbar("/capacity", lang), cp.message(lb.t("capacity", lang), lb.t("no_upcoming", lang),
                                                                   lang)])
    try:
        target = fd.pick_target(cal, promotion)
        if target not in cal["upcoming"]:
            raise fd.PageInputError("past promotion")
    except fd.PageInputError:
        target = cal["upcoming"][0]
        problems.append(lb.t("bad_promotion", lang).format(value=promotion, name=target.name))
    if level is not None and level not in FORECAST_LEVELS:
        problems.append(lb.t("cap_bad_level", lang).format(value=level, choices=", ".join(FORECAST_LEVELS)))
    if metric is not None and metric not in fd.FORECAST_METRICS:
        problems.append(lb.t("bad_metric", lang).format(value=metric, choices=", ".join(fd.FORECAST_METRICS)))
    return html.Div([
        cp.navbar("/capacity", lang),
        html.H1(lb.t("capacity", lang)),
        html.Div([html.P(p, className="inline-message") for p in problems], id="cap-problems"),
        html.Div([
            html.Label(lb.t("promotion", lang)),
            dcc.Dropdown([e.name for e in cal["upcoming"]], target.name, id="cap-promotion", clearable=False,
                         style={"minWidth": "200px"}),
            html.Button(lb.t("export_csv", lang), id="cap-export", className="button"),
            dcc.Download(id="cap-download"),
            html.Button(lb.t("readiness_report", lang), id="cap-report", className="button",
                        title=lb.t("readiness_title", lang)),
            dcc.Download(id="cap-report-download"),
        ], className="controls"),
        # the plan is computed in the background: poll until it (or a newer one) is stored
        dcc.Interval(id="cap-poll", interval=POLL_MS, n_intervals=0),
        dcc.Store(id="cap-ready"),
        html.Div([html.P(lb.t("computing", lang), className="sub")], id="cap-summary"),
        html.Div([html.H2(lb.t("recommendations", lang)), html.Div(id="cap-plan"), definitions(lang)],
                 className="card", id="cap-plan-card"),
        # the charts' Graphs are made by their callbacks once the table is shown, so plotly.js (3.5 MB)
        # loads after the table's first paint rather than before it
        html.Div(html.Div(id="cap-util"), className="card"),
        html.Div([
            html.Div([
                html.Label(lb.t("level", lang)),
                dcc.RadioItems([{"label": lb.t(f"level_{v}", lang), "value": v} for v in FORECAST_LEVELS],
                               level if level in FORECAST_LEVELS else "business", id="cap-level", inline=True),
                html.Label(lb.t("metric", lang)),
                dcc.Dropdown(list(fd.FORECAST_METRICS), metric if metric in fd.FORECAST_METRICS else "qps",
                             id="cap-metric", clearable=False),
            ], className="controls"),
            html.Div(id="cap-forecast"),
        ], className="card"),
        sizing_form(ctx, cal, lang),
    ], className="page capacity")


def definitions(lang: str) -> html.Div:
    """What over, watch, ok, risk and the action mean, under the table they describe."""
    return html.Div([html.Strong(lb.t("cap_definitions", lang))]
                    + [html.P(lb.t(k, lang)) for k in ("def_over", "def_watch", "def_ok", "def_risk", "def_action")],
                    className="sub definitions", id="cap-definitions")


def sizing_form(ctx, cal, lang):
    """The "size a new business" card: expected QPS, memory, star (and service, similar product
    line, promotion kind), and the result."""
    lines = sorted(ctx.store.businesses()["product_line"].dropna().unique())
    kinds = sorted({e.kind for e in cal["past"]})

    def field(label, control):
        return html.Div([html.Label(lb.t(label, lang)), control], className="field",
                        style={"display": "flex", "flexDirection": "column", "minWidth": "150px"})
    return html.Div([
        html.H2(lb.t("size_title", lang)),
        html.P(lb.t("size_intro", lang), className="sub"),
        html.Div([
            field("size_qps", dcc.Input(id="size-qps", type="number", min=1, value=20000, debounce=True)),
            field("size_memory", dcc.Input(id="size-memory", type="number", min=0.1, step=0.1, value=32,
                                           debounce=True)),
            field("size_star", dcc.Dropdown([1, 2, 3, 4, 5], 3, id="size-star", clearable=False)),
            field("size_service", dcc.Dropdown(list(SERVICES), "twemproxy", id="size-service", clearable=False)),
            field("size_line", dcc.Dropdown([{"label": lb.t("size_any_line", lang), "value": ""}]
                                            + [{"label": x, "value": x} for x in lines], "", id="size-line",
                                            clearable=False)),
            field("size_kind", dcc.Dropdown([{"label": lb.t("size_biggest", lang), "value": ""}]
                                            + [{"label": k, "value": k} for k in kinds], "", id="size-kind",
                                            clearable=False)),
            html.Button(lb.t("size_button", lang), id="size-go", className="button"),
        ], className="controls sizing"),
        dcc.Loading(html.Div(id="size-result")),
    ], className="card", id="size-card")


# ------------------------------------------------------------------------------- callbacks
def _target(ctx, name):
    return fd.pick_target(fd.calendar(ctx), name)


def _stored(ctx, name):
    """(target, the newest stored capacity result or None); never computes the plan."""
    target = _target(ctx, name)
    return target, cached.capacity_result(ctx, target.name)


@inputs.guarded_callback(4)
def plan_view(_tick, name, shown):
    """Summary, deadline, how sure, and the recommendation table, from the stored plan (the
    background warmer computes it); the charts follow once ``cap-ready`` says which plan."""
    ctx = context.current()
    name = inputs.text(name, "promotion", optional=True)
    lang = ctx.lang
    try:
        target, result = _stored(ctx, name)
    except fd.PageInputError as exc:
        return [html.P(str(exc), className="inline-message")], None, None, True
    if result is None and "peakwatch_warmer" not in flask.current_app.extensions:
        # no background warmer (wall_warm_seconds = 0): the first viewer computes it, as before
        result = fd.once(ctx, f"cap:compute:{target.name}:{fd.data_version(ctx)}",
                         lambda: cached.compute_capacity(ctx, target.name))
    if result is None:
        pending = lb.t("cap_pending", lang).format(name=target.name)
        return [html.P(pending, className="inline-message", id="cap-pending")], None, None, False
    fresh = result["version"] == fd.data_version(ctx)
    backtest = cached.backtest_summary(ctx)
    tested = backtest is not None and backtest["version"] == result["version"]
    ready = f"{target.name}|{result['version']}|{int(tested)}"
    done = fresh and tested       # nothing newer to wait for: stop polling
    if ready == shown:
        return no_update, no_update, no_update, done
    plan = result["plan"]
    summary = ff.capacity_summary(target, plan, result, backtest, ctx.settings, ctx.now(), lang)
    if not fresh:
        summary.append(lb.t("cap_stale_plan", lang).format(at=lb.when(result["cutoff"], ctx.tz)))
    rows = ff.shown_plan(plan)
    shown, acting = int(rows["status"].isin(["over", "watch"]).sum()), int(plan["status"].isin(["over", "watch"]).sum())
    note = lb.t("cap_rows_all" if shown == acting else "cap_rows_shown", lang).format(
        shown=shown, n=acting, k=int((rows["status"] == "ok").sum()), total=len(plan))
    table = html.Div([html.P(note, className="sub"),
                      cp.table(ff.plan_rows(rows, lang), [(c, lb.t(f"col_{c}", lang)) for c in PLAN_COLUMNS],
                               "cap-plan-table")], className="table-wrap")
    return [html.P(line, className="sub") for line in summary], table, ready, done


def _stored_or_none(ctx, name):
    """(target, stored result or None while it is computed) of the promotion shown; None for a bad
    name (plan_view shows the message)."""
    try:
        return _stored(ctx, name)
    except fd.PageInputError:
        return None


@inputs.guarded_callback(1)
def util_view(ready, name):
    """Utilisation of each cluster's tightest resource at the peak, from the stored plan."""
    if not ready:
        return no_update
    ctx = context.current()
    stored = _stored_or_none(ctx, inputs.text(name, "promotion", optional=True))
    if stored is None or stored[1] is None:
        return no_update if stored else None
    return dcc.Graph(figure=ff.utilisation_figure(stored[1]["plan"], ctx.lang), config={"displaylogo": False})


@inputs.guarded_callback(1)
def forecast_view(ready, name, level, metric):
    """Predicted peaks with their 80% intervals for the level and metric, from the stored forecast."""
    if not ready:
        return no_update
    ctx = context.current()
    name = inputs.text(name, "promotion", optional=True)
    level = inputs.choice(level, FORECAST_LEVELS, "level")
    metric = inputs.choice(metric, fd.FORECAST_METRICS, "metric")
    lang = ctx.lang
    stored = _stored_or_none(ctx, name)
    if stored is None or stored[1] is None:
        return no_update if stored else None
    target, result = stored
    t = result["forecast"]
    rows = t[(t["level"] == level) & (t["metric"] == metric)]
    shown = lb.t("top_of", lang).format(top=TOP, n=len(rows)) if len(rows) > TOP else ""
    title = lb.t("forecast_title", lang).format(title=lb.t("forecast", lang), name=target.name, metric=metric,
                                                level=lb.t(f"level_{level}", lang), shown=shown)
    return dcc.Graph(figure=ff.forecast_figure(rows, metric, title, lang, top=TOP), config={"displaylogo": False})


@inputs.guarded_callback(1)
def export(n_clicks, name):
    """The plan as CSV, the same rows and columns as ``app.py forecast --csv``."""
    if not n_clicks:
        return no_update
    ctx = context.current()
    stored = _stored_or_none(ctx, inputs.text(name, "promotion", optional=True))
    if stored is None or stored[1] is None:
        return no_update          # the page already says why, or that the plan is being computed
    target, result = stored
    return dcc.send_string(fd.plan_csv(result["plan"]), f"capacity-{target.name.replace(' ', '-')}.csv")


def report(n_clicks, name):
    """The readiness report for the promotion, the same file as ``app.py report``."""
    if not n_clicks:
        return no_update
    ctx = context.current()
    target = _target(ctx, name)
    return dcc.send_string(fd.readiness_html(ctx, target), f"readiness-{target.name.replace(' ', '-')}.html")


def size_view(n_clicks, qps, memory, star, service, line, kind):
    """The new business's shards, proxies and memory per shard, or what to fix in the form."""
    if not n_clicks:
        return no_update
    ctx = context.current()
    lang = ctx.lang
    missing = [lb.t(key, lang) for key, v in (("sizing_qps", qps), ("sizing_mem", memory), ("sizing_star", star))
               if not isinstance(v, (int, float)) or v != v or v <= 0]
    if missing:   # the browser sends nothing for a number outside the field's range
        text = lb.t("sizing_missing", lang).format(what=lb.t("sizing_and", lang).join(missing))
        return html.P(text, className="inline-message", id="size-error")
    try:
        result = fd.sizing(ctx, qps, memory, star, service, line, kind)
    except fd.PageInputError as exc:
        return html.P(str(exc), className="inline-message", id="size-error")
    return cp.table(ff.sizing_rows(result, ctx.lang), [("what", ""), ("value", "")], "size-table")


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output("cap-summary", "children"), Output("cap-plan", "children"), Output("cap-ready", "data"),
                 Output("cap-poll", "disabled"), Input("cap-poll", "n_intervals"), Input("cap-promotion", "value"),
                 State("cap-ready", "data"))(plan_view)
    app.callback(Output("cap-util", "children"), Input("cap-ready", "data"), State("cap-promotion", "value"))(util_view)
    app.callback(Output("cap-forecast", "children"), Input("cap-ready", "data"), State("cap-promotion", "value"),
                 Input("cap-level", "value"), Input("cap-metric", "value"))(forecast_view)
    app.callback(Output("cap-download", "data"), Input("cap-export", "n_clicks"), State("cap-promotion", "value"),
                 prevent_initial_call=True)(export)
    app.callback(Output("cap-report-download", "data"), Input("cap-report", "n_clicks"),
                 State("cap-promotion", "value"), prevent_initial_call=True)(report)
    app.callback(Output("size-result", "children"), Input("size-go", "n_clicks"),
                 State("size-qps", "value"), State("size-memory", "value"), State("size-star", "value"),
                 State("size-service", "value"), State("size-line", "value"), State("size-kind", "value"),
                 prevent_initial_call=True)(size_view)
