"""Alerts ``/alerts``: open alerts worst first (severity, then star), who was told through which
gateway and whether it was delivered; acknowledge, silence and unsilence for operators (plain form
posts to dashboard.alerts_actions); one alert's timeline (``?alert=ID``); the history with filters
(``?business=&product_line=&rule=&days=``) and its CSV (``/alerts.csv`` with the same filters)."""
from __future__ import annotations

from urllib.parse import quote, urlencode

import dash
import flask
from dash import dcc, html

from dashboard import alerts_data as ad
from dashboard import auth
from dashboard import business_data as bd
from dashboard import components as cp
from dashboard import context
from dashboard import labels as lb
from dashboard.alerts_actions import DURATIONS, MAX_COMMENT, parse_filters
from store.alert_types import SILENCE_MATCHERS

dash.register_page(__name__, path="/alerts", title="Peakwatch · alerts", name="alerts")


@cp.guarded
def layout(alert=None, **query):
    ctx = context.current()
    lang, now = ctx.lang, ctx.now()
    operator = auth.may("acknowledge")
    view = ad.open_view(ctx.store, now)
    filters = parse_filters({k: v for k, v in query.items() if isinstance(v, str)})
    selected = ctx.store.alert(int(alert)) if isinstance(alert, str) and alert.isdigit() and len(alert) < 12 else None
    return html.Div([
        cp.navbar("/alerts", lang),
        html.Div(messages(), id="alerts-messages"),
        html.H1(lb.t("open_alerts", lang)),
        None if operator else html.P(lb.t("read_only_note", lang), className="read-only-note", id="read-only-note"),
        open_table(view, ctx, operator),
        detail(selected, ctx, operator) if selected else None,
        silences(view["silences"], ctx, operator),
        history(ctx, filters),
    ], className="page alerts-page", id="alerts-page")


def messages() -> list:
    return [html.P(text, className=f"flash flash-{kind}") for kind, text in flask.get_flashed_messages(True)]


def csrf_field() -> html.Input:
    return dcc.Input(type="hidden", name="csrf_token", value=auth.csrf_token())


def value_text(row) -> str:
    if row["value"] is None or row["value"] != row["value"]:
        return ""
    thr = "" if row["threshold"] is None or row["threshold"] != row["threshold"] else f" / {lb.si(row['threshold'])}"
    return f"{lb.si(row['value'])}{thr}"


def present(value) -> bool:
    return value is not None and value == value and value != ""     # NaN from a pandas column is absent


def rule_text(rule: str, lang: str) -> str:
    """The engine's rule names in the page's language (mem_util -> 内存利用率 in zh)."""
    key = bd.rule_key(rule)
    return lb.t(key, lang) if key else lb.metric_name(rule, lang)


def reason_text(row, lang: str) -> str:
    """The engine's fixed reasons translated; 'mem_util 97' with its metric's name."""
    reason = str(row.get("reason") or "")
    key = bd.reason_key(reason)
    if key:
        return lb.t(key, lang)
    metric = str(row.get("metric") or "")
    if metric and reason.startswith(metric + " "):
        return f"{lb.metric_name(metric, lang)} {reason[len(metric) + 1:]}"
    return reason


def gateway_text(name: str, lang: str) -> str:
    return lb.t("gw_console", lang) if name == "console" else name


def where(row, lang: str = "en") -> str:
    target = next((row[k] for k in ("instance", "cluster") if present(row.get(k))), "")
    return rule_text(str(row["rule"]), lang) + (f" @{target}" if target else "")


def state_cell(row, lang: str) -> list:
    out = [html.Span(lb.t(row["state"], lang), className=f"state state-{row['state']}")]
    if row["state"] == "acknowledged" and present(row["acked_by"]):
        out.append(html.Span(f" · {row['acked_by']}", className="acked-by"))
    if row["silenced_by"] == row["silenced_by"] and row["silenced_by"] is not None:
        out.append(html.Span(f" · {lb.t('silenced', lang)} #{int(row['silenced_by'])}", className="mark silenced"))
    return out


def told_cell(items: list[dict], lang: str) -> list:
    if not items:
        return [html.Span(lb.t("not_notified", lang), className="muted")]
    out = []
    for it in items[:4]:
        state = {"sent": "delivered", "failed": "failed"}.get(it["state"], "queued")
        out.append(html.Div(f"{gateway_text(it['gateway'], lang)} → {it['recipient']}: {lb.t(state, lang)}",
                            className=f"told told-{state}"))
    if len(items) > 4:
        out.append(html.Div(f"+{len(items) - 4}", className="muted"))
    return out


def ack_form(row, lang: str) -> html.Form:
    return html.Form([
        csrf_field(),
        dcc.Input(name="comment", placeholder=lb.t("ack_comment", lang), maxLength=MAX_COMMENT, className="ack-comment",
                   id=f"ack-comment-{row['id']}"),
        html.Button(lb.t("acknowledge", lang), type="submit", className="ack-button", id=f"ack-{row['id']}"),
    ], method="POST", action=f"/alerts/{int(row['id'])}/acknowledge", className="inline-form")


def open_table(view: dict, ctx, operator: bool):
    lang, df = ctx.lang, view["alerts"]
    if df.empty:
        return html.P(lb.t("no_open_alerts", lang), className="no-flags", id="open-alerts")
    head = html.Thead(html.Tr([html.Th(lb.t(k, lang)) for k in (
        "col_severity", "star", "col_business", "col_what", "col_since", "col_value", "col_state", "col_notified",
        "col_actions")]))
    rows = []
    for row in df.to_dict("records"):
        silenced = row["silenced_by"] == row["silenced_by"] and row["silenced_by"] is not None
        mark = " silenced" if silenced else " acked" if row["state"] == "acknowledged" else ""
        actions = [dcc.Link(lb.t("details", lang), href=f"/alerts?alert={int(row['id'])}", className="details-link")]
        if operator and row["state"] == "firing":
            actions.insert(0, ack_form(row, lang))
        rows.append(html.Tr([
            html.Td(lb.t(row["severity"], lang), className="sev"),
            html.Td(f"★{row['star']}", className=f"star star-{row['star']}"),
            html.Td(dcc.Link(row["business"], href=f"/business/{quote(row['business'])}")),
            html.Td([html.Div(where(row, lang)), html.Div(reason_text(row, lang), className="muted")]),
            html.Td(lb.when(row["fired_at"] if present(row["fired_at"]) else row["started_at"], ctx.tz, "%m-%d %H:%M")),
            html.Td(value_text(row)),
            html.Td(state_cell(row, lang)),
            html.Td(told_cell(view["told"].get(int(row["id"]), []), lang)),
            html.Td(actions),
        ], id=f"alert-{int(row['id'])}", className=f"row-{row['severity']}{mark}"))
    return html.Table([head, html.Tbody(rows)], id="open-alerts", className="grid alerts-table")


def detail(row: dict, ctx, operator: bool) -> html.Section:
    lang = ctx.lang
    events = ad.timeline(ctx.store, row["id"])
    timeline = html.Table([
        html.Thead(html.Tr([html.Th(lb.t(k, lang)) for k in ("col_since", "col_state", "col_by", "details")])),
        html.Tbody([html.Tr([html.Td(lb.when(e.ts, ctx.tz, "%m-%d %H:%M:%S")), html.Td(event_name(e.kind, lang)),
                             html.Td(e.who),
                             html.Td(cp.mask_phones(e.detail))]) for e in events.itertuples()]),
    ], className="grid", id="alert-timeline")
    parts = [html.H2(f"#{row['id']} {row['business']} · {where(row, lang)} · {lb.t(row['state'], lang)}"),
             html.H3(lb.t("timeline", lang)), timeline]
    if operator and row["state"] != "resolved":
        parts.append(silence_form(row, lang))
    return html.Section(parts, className="alert-detail", id="alert-detail")


MATCHER_LABELS = {"business": "col_business", "product_line": "product_line", "cluster": "col_cluster",
                  "instance": "zp_instance", "rule": "col_rule"}


def event_name(kind: str, lang: str) -> str:
    key = f"ev_{kind}"
    return lb.t(key, lang) if key in lb.LABELS else kind


def silence_form(row: dict, lang: str) -> html.Form:
    prefill = ad.silence_matchers(row)
    fields = [html.Label([lb.t(MATCHER_LABELS[key], lang), dcc.Input(name=key, value=prefill.get(key, ""), id=f"silence-{key}", maxLength=200,
                                         debounce=True, style={"width": "170px"})], className="matcher")
              for key in SILENCE_MATCHERS if key != "severity"]
    return html.Form([
        html.H3(lb.t("silence", lang)), csrf_field(),
        dcc.Input(type="hidden", name="alert", value=str(row["id"])),
        html.Div(fields, className="matchers"),
        html.Label([lb.t("silence_for", lang), html.Select([html.Option(k, value=k) for k in DURATIONS],
                                                             name="duration", id="silence-duration")]),
        html.Label([lb.t("silence_reason", lang), dcc.Input(name="reason", required=True, maxLength=MAX_COMMENT,
                                                             id="silence-reason", style={"width": "260px"})]),
        html.Button(lb.t("silence", lang), type="submit", id="silence-submit"),
    ], method="POST", action="/alerts/silence", className="silence-form", id="silence-form")


def silences(df, ctx, operator: bool) -> html.Section:
    lang = ctx.lang
    if df.empty:
        return html.Section([html.H2(lb.t("silences", lang)), html.P(lb.t("no_silences", lang), className="muted")],
                            id="silences")
    rows = []
    for r in df.itertuples():
        unsilence = html.Form([csrf_field(), html.Button(lb.t("unsilence", lang), type="submit",
                                                         id=f"unsilence-{r.id}")],
                              method="POST", action=f"/alerts/silences/{int(r.id)}/expire", className="inline-form")
        rows.append(html.Tr([
            html.Td(f"#{r.id}"), html.Td(" ".join(f"{k}={v}" for k, v in r.matchers.items())),
            html.Td(f"{lb.when(r.starts_at, ctx.tz, '%m-%d %H:%M')} → {lb.when(r.ends_at, ctx.tz, '%m-%d %H:%M')}"),
            html.Td(r.created_by), html.Td(r.comment), html.Td(unsilence if operator else None)]))
    return html.Section([html.H2(lb.t("silences", lang)), html.Table(html.Tbody(rows), className="grid")],
                        id="silences")


def history(ctx, filters: ad.Filters) -> html.Section:
    lang, now = ctx.lang, ctx.now()
    df, options = ad.history_view(ctx.store, filters, now)

    def pick(name: str) -> html.Label:
        return html.Label([lb.t({"business": "col_business", "product_line": "product_line", "rule": "col_rule"}[name],
                                lang),
                           dcc.Input(name=name, value=getattr(filters, name), list=f"opts-{name}", id=f"filter-{name}",
                                     placeholder=lb.t("any", lang), debounce=True, style={"width": "180px"}),
                           html.Datalist([html.Option(value=v) for v in options[name][:300]], id=f"opts-{name}")])
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    form = html.Form([pick("business"), pick("product_line"), pick("rule"),
                      html.Label([lb.t("day_range", lang), dcc.Input(name="days", value=str(filters.days),
                                                                     id="filter-days", debounce=True,
                                                                     style={"width": "60px"})]),
                      html.Button(lb.t("filter", lang), type="submit", id="filter-submit"),
                      html.A(lb.t("csv", lang), href=f"/alerts.csv?{query}", id="history-csv", className="csv-link")],
                     method="GET", action="/alerts", className="history-filters", id="history-filters")
    if df.empty:
        body = html.P(lb.t("no_history", lang), className="muted")
    else:
        body = html.Table([
            html.Thead(html.Tr([html.Th(lb.t(k, lang)) for k in (
                "col_severity", "col_business", "col_what", "col_since", "col_resolved", "col_state", "col_by")])),
            html.Tbody([html.Tr([
                html.Td(lb.t(r["severity"], lang)),
                html.Td(dcc.Link(r["business"], href=f"/alerts?alert={int(r['id'])}")),
                html.Td(where(r, lang)), html.Td(lb.when(r["fired_at"], ctx.tz, "%m-%d %H:%M")),
                html.Td("" if r["resolved_at"] != r["resolved_at"] or r["resolved_at"] is None
                        else lb.when(r["resolved_at"], ctx.tz, "%m-%d %H:%M")),
                html.Td(lb.t(r["state"], lang)), html.Td(r["acked_by"] if present(r["acked_by"]) else ""),
            ], className=f"row-{r['severity']}") for r in df.to_dict("records")]),
        ], className="grid", id="history-table")
    return html.Section([html.H2(lb.t("history_title", lang)), form, body], id="alert-history")


def register_callbacks(app) -> None:
    """The page acts through form posts (dashboard.alerts_actions); no callbacks."""
