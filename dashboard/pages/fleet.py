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


def _marks(data: dict, tz: str) -> list[tuple[str, str]]:
    """(local day, promotion name) of the calendar's promotions in the window: the spikes' names."""
    promos = data.get("promotions")
    if promos is None or promos.empty:
        return []
    return list(zip(fg.local_days(promos["start"], tz), promos["name"]))


def _traffic_cards(data: dict, ctx, lang: str, colours: dict) -> list:
    rw, cov = data["rw"], data["coverage"]
    marks = _marks(data, ctx.tz)
    if rw is None:
        req = data["requests"]
        body = (_graph(fg.stacked_area_figure(req, lb.t("daily_requests", lang), "", ctx.tz, days=True, lang=lang,
                                              colours=colours, marks=marks, count_key="requests_axis"),
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
        html.Div([note, _graph(fg.reads_writes_figure(rw["total"], lb.t("daily_rw_total", lang), names, ctx.tz,
                                                      lang, marks), "fleet-daily")], className="card"),
        html.Div([_graph(fg.stacked_area_figure(rw["reads"], lb.t("daily_reads", lang), "", ctx.tz, days=True,
                                                lang=lang, colours=colours, marks=marks, count_key="reads_axis"),
                         "fleet-reads"),
                  _graph(fg.stacked_area_figure(rw["writes"], lb.t("daily_writes", lang), "", ctx.tz, days=True,
                                                lang=lang, colours=colours, marks=marks, count_key="writes_axis"),
                         "fleet-writes")], className="card two"),
    ]


def _top_cards(data: dict, lang: str) -> html.Div:
    top = (_graph(fg.top_bar_figure(data["top"], "business", "qps", lb.t("top_qps", lang),
                                    x_title=lb.t("qps_axis", lang)), "fleet-top")
           if len(data["top"]) else html.P(f"{lb.t('top_qps', lang)}: {lb.t('no_current_qps', lang)}", id="fleet-top"))
    growth = (_graph(fg.top_bar_figure(data["growth"], "business", "growth", lb.t("top_growth", lang), "%{x:.0f}%",
                                       x_title=lb.t("growth_axis", lang), suffix="%"), "fleet-growth")
              if len(data["growth"]) else
              html.P(f"{lb.t('top_growth', lang)}: {lb.t('growth_needs', lang)}", id="fleet-growth"))
    return html.Div([top, growth], className="card two")


@cp.guarded
def layout(kiosk=None, days=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    nav = None if cp.is_on(kiosk) else cp.navbar("/fleet", lang)
    try:
        n_days = fd.parse_days(days, lang)
    except bd.RangeError as exc:
        return html.Div([nav, cp.message(lb.t("bad_input", lang), str(exc), lang)])
    data = cached.fleet_page(ctx, n_days, ctx.now())
    if data["mix"].empty:
        return html.Div([nav, cp.message(lb.t("fleet", lang), lb.t("store_empty", lang), lang)])
    hist = data["history"]
    # one colour per product line on every chart of the page (16 lines need more than plotly's 10)
    lines = fg.group_colours(set(hist["product_line"]["group"]) | set(data["mix"]["product_line"]))
    services = fg.group_colours(set(hist["service"]["group"]) | set(data["mix"]["service"]))
    return html.Div([
        nav,
        html.H1(lb.t("fleet", lang)),
        html.P(f"{int(data['mix']['instances'].sum())} {lb.t('instances', lang).lower()}", className="sub",
               id="fleet-total"),
        _days_picker(n_days, kiosk, lang),
        *_traffic_cards(data, ctx, lang, lines),
        html.Div([_graph(fg.stacked_area_figure(hist["product_line"], lb.t("instances_over_line", lang),
                                                lb.t("instances", lang), ctx.tz, days=True, shift=-1, steps=True,
                                                lang=lang, colours=lines), "fleet-inst-line"),
                  _graph(fg.stacked_area_figure(hist["service"], lb.t("instances_over_service", lang),
                                                lb.t("instances", lang), ctx.tz, days=True, shift=-1, steps=True,
                                                lang=lang, colours=services), "fleet-inst-service")],
                 className="card two"),
        html.Div([_graph(fg.stacked_bar_figure(data["mix"], "product_line", "service", "instances",
                                               lb.t("instances_by", lang), lb.t("instances", lang), services),
                         "fleet-instances")], className="card"),
        _top_cards(data, lang),
    ], className="page fleet kiosk" if cp.is_on(kiosk) else "page fleet")


def register_callbacks(app: dash.Dash) -> None:
    """The fleet page is static between visits (its data refreshes every five minutes)."""
