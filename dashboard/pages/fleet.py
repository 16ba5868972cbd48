"""Fleet page ``/fleet`` (``?days=N``, 7..730, default 90): daily reads and writes (whole fleet and
by product line), instances by product line and by service type over time, today's instance
mix, top businesses by QPS and by growth. Data: dashboard/fleet_data.py."""
from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import business_data as bd
from dashboard import page_cache as cached
from dashboard import components as cp
from dashboard import context
from dashboard import figures as fg
from dashboard import fleet_data as fd
from dashboard import labels as lb

dash.register_page(__name__, path="/fleet", title="Peakwatch · fleet", name="fleet")

DAY_CHOICES = (30, 90, 365, 730)


def _graph(fig, id_):
    return dcc.Graph(figure=fig, id=id_, config={"displaylogo": False})


def _days_picker(days: int, kiosk, lang: str) -> html.Div:
    extra = "&kiosk=1" if cp.is_on(kiosk) else ""
    return html.Div([html.Span(lb.t("fleet_days", lang) + " ")] + [
        dcc.Link(f"{d} {lb.t('days_unit', lang)}", href=f"/fleet?days={d}{extra}",
                 className="days-link active" if d == days else "days-link", id=f"fleet-days-{d}")
        for d in DAY_CHOICES], className="sub days-picker", id="fleet-days")


def _traffic_cards(data: dict, ctx, lang: str) -> list:
    rw, cov = data["rw"], data["coverage"]
    if rw is None:
        req = data["requests"]
        body = (_graph(fg.stacked_area_figure(req, lb.t("daily_requests", lang), "requests/day", ctx.tz, days=True),
                       "fleet-daily") if req["ts"].nunique() >= 2 else
                html.P(f"{lb.t('daily_requests', lang)}: {lb.t('one_day_yet', lang)}", id="fleet-daily"))
        return [html.Div([html.P(lb.t("rw_missing", lang), className="sub", id="fleet-rw-note"), body],
                         className="card")]
    if rw["total"]["ts"].nunique() < 2:
        return [html.Div(html.P(f"{lb.t('daily_rw_total', lang)}: {lb.t('one_day_yet', lang)}", id="fleet-daily"),
                         className="card")]
    note = None if cov["with_split"] == cov["clusters"] else html.P(
        lb.t("rw_coverage", lang).format(n=cov["with_split"], m=cov["clusters"]), className="sub",
        id="fleet-rw-note")
    names = (lb.t("reads", lang), lb.t("writes", lang))
    return [
        html.Div([note, _graph(fg.reads_writes_figure(rw["total"], lb.t("daily_rw_total", lang), names, ctx.tz),
                               "fleet-daily")], className="card"),
        html.Div([_graph(fg.stacked_area_figure(rw["reads"], lb.t("daily_reads", lang), "reads/day", ctx.tz,
                                                days=True), "fleet-reads"),
                  _graph(fg.stacked_area_figure(rw["writes"], lb.t("daily_writes", lang), "writes/day", ctx.tz,
                                                days=True), "fleet-writes")], className="card two"),
    ]


@cp.guarded
def layout(kiosk=None, days=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    nav = None if cp.is_on(kiosk) else cp.navbar("/fleet", lang)
    try:
        n_days = fd.parse_days(days)
    except bd.RangeError as exc:
        return html.Div([nav, cp.message(lb.t("bad_input", lang), str(exc), lang)])
    data = cached.fleet_page(ctx, n_days, ctx.now())
    if data["mix"].empty:
        return html.Div([nav, cp.message(lb.t("fleet", lang), lb.t("store_empty", lang), lang)])
    hist = data["history"]
    return html.Div([
        nav,
        html.H1(lb.t("fleet", lang)),
        html.P(f"{int(data['mix']['instances'].sum())} {lb.t('instances', lang).lower()}", className="sub",
               id="fleet-total"),
        _days_picker(n_days, kiosk, lang),
        *_traffic_cards(data, ctx, lang),
        html.Div([_graph(fg.stacked_area_figure(hist["product_line"], lb.t("instances_over_line", lang),
                                                lb.t("instances", lang), ctx.tz, days=True, shift=-1, steps=True),
                         "fleet-inst-line"),
                  _graph(fg.stacked_area_figure(hist["service"], lb.t("instances_over_service", lang),
                                                lb.t("instances", lang), ctx.tz, days=True, shift=-1, steps=True),
                         "fleet-inst-service")], className="card two"),
        html.Div([_graph(fg.stacked_bar_figure(data["mix"], "product_line", "service", "instances",
                                               lb.t("instances_by", lang)), "fleet-instances")], className="card"),
        html.Div([_graph(fg.top_bar_figure(data["top"], "business", "qps", lb.t("top_qps", lang)), "fleet-top")
                  if len(data["top"]) else html.P(f"{lb.t('top_qps', lang)}: {lb.t('no_current_qps', lang)}",
                                                  id="fleet-top"),
                  _graph(fg.top_bar_figure(data["growth"], "business", "growth", lb.t("top_growth", lang),
                                           "%{x:.0f}%"), "fleet-growth") if len(data["growth"]) else
                  html.P(f"{lb.t('top_growth', lang)}: needs 37 days of history.", id="fleet-growth")],
                 className="card two"),
    ], className="page fleet kiosk" if cp.is_on(kiosk) else "page fleet")


def register_callbacks(app: dash.Dash) -> None:
    """The fleet page is static between visits (its data refreshes every five minutes)."""
