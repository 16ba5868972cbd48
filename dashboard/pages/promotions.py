"""Promotions page ``/promotions``: past promotions of a kind overlaid on hours from their start
(in the promotion's own time zone) with today's traffic, and their lift table.

URL parameters: ``level`` (business, cluster, product_line, fleet), ``group``, ``metric``, ``kind``,
``scale`` (absolute, or relative: over each promotion's normal daily peak, comparable across years).
"""
from __future__ import annotations

import dash
from dash import Input, Output, dcc, html, no_update

from dashboard import calendar_card
from dashboard import components as cp
from dashboard import context
from dashboard import inputs
from dashboard import forecast_data as fd
from dashboard import forecast_figures as ff
from dashboard import labels as lb

dash.register_page(__name__, path="/promotions", title="Peakwatch · promotions", name="promotions")

LIFT_COLUMNS = ("name", "kind", "start", "baseline", "peak", "lift", "peak_time", "peak_offset", "note")


def default_kind(cal: dict) -> str:
    """The next promotion's kind when it happened before, else the latest past promotion's."""
    seen = {e.kind for e in cal["past"]}
    nxt = [e.kind for e in cal["upcoming"] if e.kind in seen]
    return nxt[0] if nxt else cal["past"][-1].kind


def choose(ctx, cal: dict, level, group, metric, kind) -> tuple[dict, list[str]]:
    """The selection from URL parameters, with a message (in the page's language) for each one
    that was not usable."""
    lang = ctx.lang
    problems = []
    if level is not None and level not in fd.COMPARE_LEVELS:
        problems.append(lb.t("bad_level", lang).format(value=level, choices=_choices("level", fd.COMPARE_LEVELS, lang)))
    level = level if level in fd.COMPARE_LEVELS else "fleet"
    names = fd.groups(ctx, level)
    if group is not None and group not in names:
        shown = group_label(names[0], level, lang) if names else lb.t("none", lang)
        problems.append(lb.t("bad_group", lang).format(value=group, level=lb.t(f"level_{level}", lang), shown=shown))
    group = group if group in names else (names[0] if names else None)
    if metric is not None and metric not in fd.COMPARE_METRICS:
        problems.append(lb.t("bad_metric", lang).format(value=metric, choices=_choices("metric", fd.COMPARE_METRICS, lang)))
    metric = metric if metric in fd.COMPARE_METRICS else "qps"
    kinds = sorted({e.kind for e in cal["past"]})
    if kind is not None and kind not in kinds:
        problems.append(lb.t("bad_kind", lang).format(value=kind, choices=_choices("kind", kinds, lang)))
    kind = kind if kind in kinds else default_kind(cal)
    return {"level": level, "group": group, "metric": metric, "kind": kind, "kinds": kinds}, problems


def _choices(param: str, values, lang: str) -> str:
    """The accepted values as the user types them: 'business, cluster' (en); in zh as URL
    parameters ('level=business、level=cluster'), so no bare English word stands in the sentence."""
    return "、".join(f"{param}={v}" for v in values) if lang == "zh" else ", ".join(values)


def group_label(name: str, level: str, lang: str) -> str:
    """The fleet's one group reads 全局 in zh; other groups are names."""
    return lb.t("fleet_group", lang) if level == "fleet" else name


def group_options(names: list[str], level: str, lang: str) -> list[dict]:
    return [{"label": group_label(n, level, lang), "value": n} for n in names]


@cp.guarded
def layout(level=None, group=None, metric=None, kind=None, scale=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    cal = fd.calendar(ctx)
    if not cal["past"]:
        return html.Div([cp.navbar("/promotions", lang), html.H1(lb.t("promotions", lang)),
                         html.P(lb.t("no_past_promotion", lang), className="inline-message", id="promo-problems"),
                         calendar_card.card(ctx, lang)], className="page promotions")
    sel, problems = choose(ctx, cal, level, group, metric, kind)
    level_options = [{"label": lb.t(f"level_{v}", lang), "value": v} for v in fd.COMPARE_LEVELS]
    return html.Div([
        cp.navbar("/promotions", lang),
        html.H1(lb.t("promotions", lang)),
        html.Div([html.P(p, className="inline-message") for p in problems], id="promo-problems"),
        html.Div([
            html.Div([
                html.Label(lb.t("level", lang)),
                dcc.Dropdown(level_options, sel["level"], id="promo-level", clearable=False),
                html.Label(lb.t("group", lang)),
                dcc.Dropdown(group_options(fd.groups(ctx, sel["level"]), sel["level"], lang), sel["group"],
                             id="promo-group", clearable=False,
                             style={"minWidth": "240px"}),
                html.Label(lb.t("metric", lang)),
                dcc.Dropdown([{"label": lb.metric_name(m, lang), "value": m} for m in fd.COMPARE_METRICS],
                             sel["metric"], id="promo-metric", clearable=False),
                html.Label(lb.t("kind", lang)),
                dcc.Dropdown(sel["kinds"], sel["kind"], id="promo-kind", clearable=False),
                html.Label(lb.t("scale", lang)),
                dcc.RadioItems([{"label": lb.t("absolute", lang), "value": "absolute"},
                                {"label": lb.t("relative", lang), "value": "relative"}],
                               "relative" if scale == "relative" else "absolute",
                               id="promo-scale", inline=True),
            ], className="controls"),
            html.Div(id="promo-msg", className="inline-message"),
            dcc.Loading(dcc.Graph(id="promo-overlay", config={"displaylogo": False})),
        ], className="card"),
        html.Div([html.H2(lb.t("lift_table", lang)), dcc.Loading(html.Div(id="promo-lifts"))], className="card"),
        calendar_card.card(ctx, lang),
    ], className="page promotions")


# ------------------------------------------------------------------------------- callbacks
@inputs.guarded_callback(2)
def level_groups(level):
    """The groups of the chosen level (the first one selected)."""
    ctx = context.current()
    level = inputs.choice(level, fd.COMPARE_LEVELS, "level")
    names = fd.groups(ctx, level)
    return group_options(names, level, ctx.lang), names[0] if names else None


@inputs.guarded_callback(3)
def compare(level, group, metric, kind, scale):
    """Overlay and lift table of the selection (cached per data version)."""
    ctx = context.current()
    level = inputs.choice(level, fd.COMPARE_LEVELS, "level")
    group = inputs.text(group, "group")
    metric = inputs.choice(metric, fd.FORECAST_METRICS, "metric")
    kind = inputs.text(kind, "kind", 40)
    scale = inputs.text(scale, "scale", 20, optional=True)
    if group not in fd.groups(ctx, level):
        return no_update, no_update, no_update
    try:
        data = fd.comparison(ctx, level, group, metric)
    except fd.PageInputError as exc:
        return {}, html.P(str(exc)), str(exc)
    lang = ctx.lang
    fig = ff.overlay_figure(data["aligned"], kind, metric, lang, relative=scale == "relative")
    rows = ff.lift_rows(data["lifts"], kind, lang)
    table = cp.table(rows, [(c, lb.t(f"col_{c}", lang)) for c in LIFT_COLUMNS], "promo-lift-table")
    msg = "" if rows else lb.t("no_promotion_in_history", lang).format(
        kind=kind, group=group_label(group, level, lang), metric=lb.metric_name(metric, lang))
    return fig, table, msg


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output("promo-group", "options"), Output("promo-group", "value"),
                 Input("promo-level", "value"), prevent_initial_call=True)(level_groups)
    app.callback(Output("promo-overlay", "figure"), Output("promo-lifts", "children"), Output("promo-msg", "children"),
                 Input("promo-level", "value"), Input("promo-group", "value"), Input("promo-metric", "value"),
                 Input("promo-kind", "value"), Input("promo-scale", "value"))(compare)
    calendar_card.register_callbacks(app)
