"""Instance view ``/instance?name=<instance>``: a DBA's drill-down from the business page (as in
CacheCloud): the instance's series, its role and replication, its limits, and the Zabbix items
behind it with links into the Zabbix frontend. Rendered once per request; no callbacks."""
from __future__ import annotations

from urllib.parse import quote

import dash
from dash import dcc, html

from dashboard import business_data as bd
from dashboard import components as cp
from dashboard import context
from dashboard import figures as fg
from dashboard import instance_data as idt
from dashboard import instance_rows as ir
from dashboard import labels as lb
from store.metrics import METRICS

dash.register_page(__name__, path="/instance", title="Peakwatch · instance", name="instance")



@cp.guarded
def layout(name=None, range=None, **_ignored):
    ctx = context.current()
    lang = ctx.lang
    view = idt.find(ctx.store, name) if isinstance(name, str) else None
    if view is None:
        shown = name if isinstance(name, str) and name else "–"
        return html.Div([cp.navbar("", lang), cp.message(
            f"{lb.t('unknown_instance', lang)}: {shown}", lb.t("unknown_instance_text", lang).format(name=shown),
            lang)], className="page instance")
    span = range if range in idt.RANGES else idt.DEFAULT_RANGE
    now = ctx.now()
    return html.Div([
        cp.navbar("", lang),
        header(ctx, view),
        html.Div([replication_card(ctx, view), limits_card(ctx, view)], className="two"),
        flags_card(ctx, view),
        series_card(ctx, view, span, now),
        zabbix_card(ctx, view),
    ], className="page instance")


def header(ctx, view: idt.InstanceView) -> html.Div:
    lang, me, cl = ctx.lang, view.instance, view.cluster
    sev = worst_severity(view)
    return html.Div([
        html.H1([me["name"], html.Span(lb.t(sev, lang), className=f"badge sev-{sev}", id="inst-severity")]),
        html.P([lb.t("business", lang), " ", dcc.Link(me["business"], href=f"/business/{quote(me['business'])}",
                                                     id="inst-business"),
                f" · {lb.t('col_cluster', lang)} {me['cluster']} · {me['service']} · "
                f"{lb.t('h_role', lang)} {lb.role(me['role'], lang)} · {lb.t('h_shard', lang)} {int(me['shard'])} · "
                f"{me['host']}:{int(me['port'])}"], className="sub", id="inst-summary"),
    ])


def worst_severity(view: idt.InstanceView) -> str:
    order = ["ok", "stale", "warn", "crit"]
    sevs = [s for s in view.alerts["severity"] if s in order] if len(view.alerts) else []
    return max(sevs, key=order.index) if sevs else ("ok" if len(view.latest) else "stale")


def replication_card(ctx, view: idt.InstanceView) -> html.Div:
    """Its shard's master and replicas with the replica's link state (Redis); a proxy or a
    single-role instance says what it is."""
    lang = ctx.lang
    title = html.H2(lb.t("iv_replication", lang))
    if view.instance["role"] == "proxy":
        return html.Div([title, html.P(lb.t("iv_proxy_text", lang).format(cluster=view.instance["cluster"]),
                                       id="inst-replication")], className="card")
    rows = []
    for m in view.members.itertuples(index=False):
        link = ("" if m.role != "slave" or m.repl_ok is None else
                lb.t("link_up", lang) if m.repl_ok >= 0.5 else lb.t("link_down", lang))
        rows.append({"name": m.name if m.name == view.instance["name"] else
                     dcc.Link(m.name, href=f"/instance?name={quote(m.name, safe='')}"),
                     "role": lb.role(m.role, lang), "link": link, "addr": f"{m.host}:{int(m.port)}",
                     "sev": "crit" if link == lb.t("link_down", lang) else "ok"})
    if len(rows) <= 1:
        body = html.P(lb.t("iv_no_replica", lang), id="inst-replication")
    else:
        cols = [("name", lb.t("h_instance", lang)), ("role", lb.t("h_role", lang)),
                ("link", lb.t("iv_link", lang)), ("addr", lb.t("iv_address", lang))]
        body = html.Div(cp.table(rows, cols, "inst-replication-table"), id="inst-replication")
    return html.Div([title, body], className="card")


def limits_card(ctx, view: idt.InstanceView) -> html.Div:
    lang = ctx.lang
    lim = idt.limits(view)
    rows = [
        {"what": lb.t("iv_memory", lang), "value": ir.memory(lim["mem_used"], lim["mem_max"], lang)},
        {"what": lb.t("h_mem_pct", lang), "value": fg.value_text("mem_util", lim["mem_util"], lang)},
        {"what": lb.t("iv_qps_capacity", lang),
         "value": fg.value_text("qps", lim["qps_per_instance"], lang) if lim["qps_per_instance"] else "–"},
        {"what": lb.t("iv_mem_capacity", lang),
         "value": lb.bytes_(lim["mem_per_instance"]) if lim["mem_per_instance"] else "–"},
        {"what": lb.t("iv_shards", lang), "value": str(int(view.cluster["shard_count"]))},
    ]
    return html.Div([html.H2(lb.t("iv_limits", lang)),
                     cp.table(rows, [("what", lb.t("iv_limit", lang)), ("value", lb.t("iv_value", lang))],
                              "inst-limits")], className="card")


def flags_card(ctx, view: idt.InstanceView) -> html.Div:
    lang = ctx.lang
    rows = [{"metric": lb.t(bd.rule_key(r.metric or r.rule), lang) if bd.rule_key(r.metric or r.rule) else
             (r.metric or r.rule), "severity": lb.t(r.severity, lang), "sev": r.severity,
             "what": lb.t(bd.reason_key(r.reason), lang) if bd.reason_key(r.reason) else r.reason, "since": lb.when(r.started_at if r.started_at == r.started_at else r.fired_at, ctx.tz)}
            for r in view.alerts.itertuples(index=False)]
    body = (html.P(lb.t("no_flags", lang), className="no-flags") if not rows else
            cp.table(rows, [(c, lb.t(f"bf_{c}", lang)) for c in ("metric", "severity", "what", "since")],
                     "inst-flags"))
    return html.Div([html.H2(lb.t("current_flags", lang)), body], className="card")


def series_card(ctx, view: idt.InstanceView, span: str, now: int) -> html.Div:
    lang = ctx.lang
    frame = idt.points(ctx.store, view, now - idt.RANGES[span], now + 1)
    presets = html.Div([html.Label(lb.t("quick_range", lang))] + [
        dcc.Link(lb.t(f"preset_{p}", lang), href=f"/instance?name={quote(view.instance['name'], safe='')}&range={p}",
                 className="preset active" if p == span else "preset", id=f"inst-range-{p}")
        for p in idt.RANGES], className="controls presets")
    graphs = []
    for metric in [m for m in METRICS if m in set(frame["metric"])]:
        g = frame[frame["metric"] == metric]
        graphs.append(dcc.Graph(figure=fg.instance_figure(g, metric, ctx.tz, lang), id=f"inst-graph-{metric}",
                                config={"displaylogo": False}, className="inst-graph"))
    body = html.Div(graphs, className="two") if graphs else html.P(lb.t("no_data_yet", lang))
    return html.Div([html.H2(lb.t("iv_series", lang)), presets, body], className="card")


def zabbix_card(ctx, view: idt.InstanceView) -> html.Div:
    """The Zabbix host and items behind the series, each item linked to its graph in Zabbix."""
    lang, url = ctx.lang, ctx.settings.zabbix_url
    me = view.instance
    host_href = ir.zabbix_link(me["zabbix_hostid"], url)
    host = (html.A(f"{lb.t('iv_host', lang)} {me['zabbix_hostid']}", href=host_href, target="_blank",
                   id="inst-zabbix-host") if host_href else
            html.Span(f"{lb.t('iv_host', lang)} {me['zabbix_hostid'] or '–'}", id="inst-zabbix-host"))
    everything = idt.items_link(view.series["zabbix_itemid"], url)
    rows = [{"metric": lb.metric_name(r.metric, lang), "label": r.label or "", "key": r.key,
             "units": lb.unit_name(r.units or "", lang),
             "item": str(r.zabbix_itemid) if idt._known(r.zabbix_itemid) else "–",
             "item_href": idt.item_link(r.zabbix_itemid, url)} for r in view.series.itertuples(index=False)]
    cols = [("metric", lb.t("bf_metric", lang)), ("label", lb.t("iv_backend", lang)),
            ("key", lb.t("iv_series_key", lang)), ("units", lb.t("iv_units", lang)), ("item", lb.t("iv_item", lang))]
    note = None if url else html.P(lb.t("iv_no_zabbix_url", lang), className="sub", id="inst-zabbix-note")
    return html.Div([
        html.H2(lb.t("iv_zabbix", lang)),
        html.P([host, " · ", lb.t("iv_source", lang), f" {source_text(me['source'], lang)}",
                *([" · ", html.A(lb.t("iv_all_items", lang), href=everything, target="_blank", id="inst-zabbix-all")]
                  if everything else [])], className="sub"),
        note,
        cp.table(rows, cols, "inst-items", links={"item": "item_href"}),
    ], className="card")


def source_text(source: str, lang: str) -> str:
    """Where the instance was read from: the demo's generator or Zabbix."""
    return lb.t("origin_synthetic", lang) if source == "synthetic" else "Zabbix" if source == "zabbix" else str(source)


def register_callbacks(app: dash.Dash) -> None:
    """The view is static per request: nothing to bind."""
