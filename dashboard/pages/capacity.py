"""Capacity page ``/capacity``: the next (or a picked) promotion's peak forecast with 80% intervals,
utilisation at the predicted peak and its upper bound against the star level's headroom, the
recommendations ranked by risk, and a CSV export of the plan.

URL parameters: ``promotion`` (an upcoming promotion's name or kind), ``level``, ``metric``.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as cp
from dashboard import context
from dashboard import inputs
from dashboard import forecast_data as fd
from dashboard import forecast_figures as ff
from dashboard import labels as lb
from forecasting.sizing import SERVICES

dash.register_page(__name__, path="/capacity", title="Peakwatch · capacity", name="capacity")

PLAN_COLUMNS = ("rank", "cluster", "business", "star", "service", "status", "risk", "resource", "util_point",
                "util_upper", "allowed", "add_shards", "add_proxies", "add_mem", "method", "past_error", "confidence",
                "reason")
FORECAST_LEVELS = ("business", "cluster")
TOP = 40


@cp.guarded
def layout(promotion=None, level=None, metric=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    cal = fd.calendar(ctx)
    problems = []
    try:
        target = fd.pick_target(cal, promotion)
    except fd.PageInputError as exc:
        if not cal["upcoming"]:
            return html.Div([cp.navbar("/capacity", lang), cp.message(lb.t("capacity", lang), str(exc), lang)])
        problems.append(f"{exc} Showing {cal['upcoming'][0].name}.")
        target = cal["upcoming"][0]
    if level is not None and level not in FORECAST_LEVELS:
        problems.append(f"level={level!r} is not one of {', '.join(FORECAST_LEVELS)}; showing business.")
    if metric is not None and metric not in fd.FORECAST_METRICS:
        problems.append(f"metric={metric!r} is not one of {', '.join(fd.FORECAST_METRICS)}; showing qps.")
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
                        title="one HTML file for the change ticket: forecast, clusters at risk, changes and their "
                              "cost, accuracy on past promotions (prints to A4 PDF)"),
            dcc.Download(id="cap-report-download"),
        ], className="controls"),
        dcc.Loading(html.P(lb.t("computing", lang), id="cap-summary", className="sub")),
        html.Div([
            html.Div([
                html.Label(lb.t("level", lang)),
                dcc.RadioItems([{"label": lb.t(f"level_{v}", lang), "value": v} for v in FORECAST_LEVELS],
                               level if level in FORECAST_LEVELS else "business", id="cap-level", inline=True),
                html.Label(lb.t("metric", lang)),
                dcc.Dropdown(list(fd.FORECAST_METRICS), metric if metric in fd.FORECAST_METRICS else "qps",
                             id="cap-metric", clearable=False),
            ], className="controls"),
            dcc.Loading(dcc.Graph(id="cap-forecast", config={"displaylogo": False})),
        ], className="card"),
        html.Div(dcc.Loading(dcc.Graph(id="cap-util", config={"displaylogo": False})), className="card"),
        html.Div([html.H2(lb.t("recommendations", lang)), dcc.Loading(html.Div(id="cap-plan"))], className="card"),
        sizing_form(ctx, cal, lang),
    ], className="page capacity")


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


@inputs.guarded_callback(3)
def plan_view(name):
    """Utilisation bars, recommendation table and summary of the promotion's plan."""
    ctx = context.current()
    name = inputs.text(name, "promotion", optional=True)
    lang = ctx.lang
    try:
        target = _target(ctx, name)
    except fd.PageInputError as exc:
        return {}, html.P(str(exc), className="inline-message"), str(exc)
    plan = fd.capacity(ctx, target)
    counts = plan["status"].value_counts()
    summary = (f"{target.name} starts {target.start:%Y-%m-%d %H:%M %Z}; data up to "
               f"{fd.calendar(ctx)['cutoff'].tz_convert(ctx.tz):%Y-%m-%d %H:%M}. {len(plan)} clusters: "
               f"{counts.get('over', 0)} over their headroom at the predicted peak, "
               f"{counts.get('watch', 0)} over it at the upper bound, {counts.get('ok', 0)} ok.")
    acting = plan[plan["status"].isin(["over", "watch"])]
    weak = int(acting["low_confidence"].sum()) if "low_confidence" in acting else 0
    if weak:
        summary += " " + lb.t("low_conf_summary", lang).format(n=weak, m=len(acting))
    table = cp.table(ff.plan_rows(plan, lang), [(c, lb.t(f"col_{c}", lang)) for c in PLAN_COLUMNS], "cap-plan-table")
    return ff.utilisation_figure(plan, lang), table, summary


@inputs.guarded_callback(1)
def forecast_view(name, level, metric):
    """Predicted peaks with their 80% intervals for the level and metric."""
    ctx = context.current()
    name = inputs.text(name, "promotion", optional=True)
    level = inputs.choice(level, FORECAST_LEVELS, "level")
    metric = inputs.choice(metric, fd.FORECAST_METRICS, "metric")
    try:
        target = _target(ctx, name)
    except fd.PageInputError:
        return {}
    t = fd.fleet_forecast(ctx, target).table
    rows = t[(t["level"] == level) & (t["metric"] == metric)]
    shown = f" (top {TOP} of {len(rows)})" if len(rows) > TOP else ""
    title = f"{lb.t('forecast', ctx.lang)} · {target.name} · {metric} per {level}{shown}"
    return ff.forecast_figure(rows, metric, title, ctx.lang, top=TOP)


@inputs.guarded_callback(1)
def export(n_clicks, name):
    """The plan as CSV, the same rows and columns as ``app.py forecast --csv``."""
    if not n_clicks:
        return no_update
    ctx = context.current()
    name = inputs.text(name, "promotion", optional=True)
    try:
        target = _target(ctx, name)
    except fd.PageInputError:
        return no_update          # the page already says why (plan_view shows the same message)
    return dcc.send_string(fd.plan_csv(fd.capacity(ctx, target)), f"capacity-{target.name.replace(' ', '-')}.csv")


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
    try:
        result = fd.sizing(ctx, qps, memory, star, service, line, kind)
    except fd.PageInputError as exc:
        return html.P(str(exc), className="inline-message", id="size-error")
    return cp.table(ff.sizing_rows(result, ctx.lang), [("what", ""), ("value", "")], "size-table")


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output("cap-util", "figure"), Output("cap-plan", "children"), Output("cap-summary", "children"),
                 Input("cap-promotion", "value"))(plan_view)
    app.callback(Output("cap-forecast", "figure"), Input("cap-promotion", "value"), Input("cap-level", "value"),
                 Input("cap-metric", "value"))(forecast_view)
    app.callback(Output("cap-download", "data"), Input("cap-export", "n_clicks"), State("cap-promotion", "value"),
                 prevent_initial_call=True)(export)
    app.callback(Output("cap-report-download", "data"), Input("cap-report", "n_clicks"),
                 State("cap-promotion", "value"), prevent_initial_call=True)(report)
    app.callback(Output("size-result", "children"), Input("size-go", "n_clicks"),
                 State("size-qps", "value"), State("size-memory", "value"), State("size-star", "value"),
                 State("size-service", "value"), State("size-line", "value"), State("size-kind", "value"),
                 prevent_initial_call=True)(size_view)
