"""Fleet page ``/fleet``: daily requests by product line, instances by product line and service,
top businesses by QPS and by growth."""
from __future__ import annotations

import dash
import pandas as pd
from dash import dcc, html

from dashboard import cached
from dashboard import components as cp
from dashboard import context
from dashboard import figures as fg
from dashboard import labels as lb

dash.register_page(__name__, path="/fleet", title="Peakwatch · fleet", name="fleet")

DAYS = 90
TTL = 300


def daily_requests(store, now: int) -> pd.DataFrame:
    """[group, ts, value]: requests per day (mean qps x 86400) by product line, last ``DAYS`` days."""
    end = now - now % 86400
    df = store.aggregate("product_line", "qps", end - DAYS * 86400, end, max_points=DAYS)
    return df.assign(value=df["value"] * 86400)


def instance_counts(store) -> pd.DataFrame:
    inst = store.instances()
    inst = inst[inst["removed_at"].isna()]
    cl = store.clusters()[["name", "service", "product_line"]]
    df = inst.merge(cl, left_on="cluster", right_on="name", suffixes=("", "_c"))
    return df.groupby(["product_line", "service"], as_index=False).size().rename(columns={"size": "instances"})


def growth(store, now: int, top: int = 15) -> pd.DataFrame:
    """Businesses by growth of their mean QPS: last 7 days against the 7 days a month earlier."""
    def mean(lo, hi):
        df = store.aggregate("business", "qps", lo, hi, max_points=7)
        return df.groupby("group")["value"].mean()
    recent = mean(now - 7 * 86400, now)
    before = mean(now - 37 * 86400, now - 30 * 86400)
    g = (recent / before - 1).dropna() * 100
    return g.sort_values(ascending=False).head(top).rename("growth").rename_axis("business").reset_index()


def fleet_data(ctx) -> dict:
    now = ctx.now()
    tiles = cached.wall_snapshot(ctx)["tiles"]  # every business's current QPS, already computed
    return {"daily": daily_requests(ctx.store, now), "counts": instance_counts(ctx.store),
            "top": tiles[["business", "qps"]].dropna().sort_values("qps", ascending=False).head(15),
            "growth": growth(ctx.store, now)}


@cp.guarded
def layout(kiosk=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    data = ctx.cached(f"fleet:{ctx.now() // TTL}", TTL, lambda: fleet_data(ctx))
    if data["counts"].empty:
        return html.Div([cp.navbar("/fleet", lang), cp.message(lb.t("fleet", lang), lb.t("store_empty", lang), lang)])
    graph = lambda fig, id_: dcc.Graph(figure=fig, id=id_, config={"displaylogo": False})  # noqa: E731
    return html.Div([
        None if cp.is_on(kiosk) else cp.navbar("/fleet", lang),
        html.H1(lb.t("fleet", lang)),
        html.P(f"{int(data['counts']['instances'].sum())} {lb.t('instances', lang).lower()}", className="sub",
               id="fleet-total"),
        html.Div(graph(fg.stacked_area_figure(data["daily"], lb.t("daily_requests", lang), "requests/day", ctx.tz),
                       "fleet-daily") if data["daily"]["ts"].nunique() >= 2 else
                 html.P(f"{lb.t('daily_requests', lang)}: less than two days of history yet.", id="fleet-daily"),
                 className="card"),
        html.Div([graph(fg.stacked_bar_figure(data["counts"], "product_line", "service", "instances",
                                              lb.t("instances_by", lang)), "fleet-instances")], className="card"),
        html.Div([graph(fg.top_bar_figure(data["top"], "business", "qps", lb.t("top_qps", lang)), "fleet-top"),
                  graph(fg.top_bar_figure(data["growth"], "business", "growth", lb.t("top_growth", lang),
                                          "%{x:.0f}%"), "fleet-growth") if len(data["growth"]) else
                  html.P(f"{lb.t('top_growth', lang)}: needs 37 days of history.", id="fleet-growth")],
                 className="card two"),
    ], className="page fleet kiosk" if cp.is_on(kiosk) else "page fleet")


def register_callbacks(app: dash.Dash) -> None:
    """The fleet page is static between visits (its data refreshes every five minutes)."""
