"""The promotion calendar on /promotions: the calendar, adding and removing promotions, yearly kinds
and the suggestions found in the fleet's traffic (confirmed with one click).

Edits go through :mod:`forecasting.calendar_edit` (the same checks as ``app.py promotions``) and
are allowed when the ``calendar_editable`` setting is on; until accounts exist, anyone who can open
the page can edit the calendar (turn the setting off for wall screens). Each edit is logged.
"""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import dash
from dash import ALL, Input, Output, State, ctx as callback_ctx, dcc, html, no_update

from core.errors import PeakwatchError
from dashboard import context
from dashboard import labels as lb
from forecasting import calendar_edit as ce

log = logging.getLogger("peakwatch.dashboard")
SHOW_PAST_DAYS = 400
SUGGEST_TTL = 6 * 3600


def calendar_rows(cal, now: int, lang: str) -> list[dict]:
    """Calendar rows for the table: the last SHOW_PAST_DAYS days and what is coming, by start."""
    recent = cal[cal["end"] >= now - SHOW_PAST_DAYS * 86400]
    rows = []
    for r in recent.to_dict("records"):
        days = (int(r["end"]) - int(r["start"])) / 86400
        rows.append({"name": r["name"], "kind": r["kind"],
                     "start": dt.datetime.fromtimestamp(int(r["start"]), ZoneInfo(r["tz"])).strftime("%Y-%m-%d %H:%M"),
                     "days": f"{days:g}", "preheat": str(int(r["preheat_days"])),
                     "origin": lb.t(f"origin_{r['origin']}", lang),
                     "when": lb.t("upcoming", lang) if int(r["start"]) > now else lb.t("past", lang)})
    return rows


def _table(rows: list[dict], lang: str, editable: bool) -> html.Table:
    cols = [("name", "col_name"), ("kind", "col_kind"), ("start", "col_start"), ("days", "col_days"),
            ("preheat", "col_preheat"), ("origin", "col_origin"), ("when", "col_when")]
    head = html.Thead(html.Tr([html.Th(lb.t(k, lang)) for _, k in cols] + ([html.Th("")] if editable else [])))
    body = html.Tbody([html.Tr([html.Td(r[c]) for c, _ in cols] + (
        [html.Td(html.Button(lb.t("remove", lang), id={"type": "cal-remove", "name": r["name"]},
                             className="small-button", n_clicks=0))] if editable else []))
        for r in rows])
    return html.Table([head, body], id="cal-table", className="grid")


def _field(label: str, control, width: int) -> html.Div:
    return html.Div([html.Label(label), control], className="field",
                    style={"display": "flex", "flexDirection": "column", "width": f"{width}px"})


def card(ctx, lang: str) -> html.Div:
    """The calendar card (table, form, suggestions); read-only when editing is off."""
    editable = bool(ctx.settings.calendar_editable)
    now = int(ctx.now())
    cal = ctx.store.calendar(now=now)
    body = [html.H2(lb.t("calendar", lang)), html.P(lb.t("calendar_help", lang), className="note"),
            html.Div(_table(calendar_rows(cal, now, lang), lang, editable), id="cal-table-box"),
            html.Div(id="cal-msg", className="inline-message", role="status")]
    if not editable:
        body.append(html.P(lb.t("calendar_readonly", lang), className="note"))
        return html.Div(body, className="card", id="calendar-card")
    body += [
        html.H3(lb.t("add_promotion", lang)),
        html.Div([
            _field(lb.t("col_kind", lang), dcc.Input(id="cal-kind", type="text", placeholder="4.19", maxLength=40), 140),
            _field(lb.t("col_start", lang), dcc.Input(id="cal-start", type="text", placeholder="2026-04-19 / 04-19",
                                                      maxLength=16), 180),
            _field(lb.t("col_days", lang), dcc.Input(id="cal-days", type="number", value=1, min=1, max=31), 110),
            _field(lb.t("col_preheat", lang), dcc.Input(id="cal-preheat", type="number", value=0, min=0, max=60), 110),
            dcc.Checklist([{"label": lb.t("every_year", lang), "value": "yearly"}], [], id="cal-yearly", inline=True),
            html.Button(lb.t("add", lang), id="cal-add", n_clicks=0),
        ], className="controls", style={"alignItems": "flex-end"}),
        html.H3(lb.t("suggestions", lang)),
        html.P(lb.t("suggestions_help", lang), className="note"),
        html.Button(lb.t("find_suggestions", lang), id="cal-suggest", n_clicks=0),
        dcc.Loading(html.Div(id="cal-suggestions")),
    ]
    return html.Div(body, className="card", id="calendar-card")


def _refresh(ctx, lang: str):
    ctx.cache.delete("fc:version")          # the comparison and the forecast see the change at once
    now = int(ctx.now())
    return _table(calendar_rows(ctx.store.calendar(now=now), now, lang), lang, True)


def _edit(change) -> tuple:
    """Run ``change(ctx) -> sentence`` when editing is on; (table, message) for the page."""
    ctx = context.current()
    if not ctx.settings.calendar_editable:
        return no_update, lb.t("calendar_readonly", ctx.lang)
    try:
        text = change(ctx)
    except PeakwatchError as exc:
        return no_update, str(exc)
    log.info("calendar edited from the page: %s", text)
    return _refresh(ctx, ctx.lang), text


def _clicked() -> dict | None:
    """The pattern-matching id of the button that was clicked (None for a redraw of the buttons)."""
    trigger = callback_ctx.triggered_id
    value = callback_ctx.triggered[0]["value"] if callback_ctx.triggered else None
    return trigger if isinstance(trigger, dict) and value else None


def add(_n, kind, start, days, preheat, yearly):
    """Add a dated or yearly promotion from the form."""
    def change(ctx):
        fields = {"kind": (kind or "").strip(), "days": days or 1, "preheat_days": preheat or 0, "tz": ctx.tz}
        if "yearly" in (yearly or []):
            return ce.add_yearly(ctx.store, {**fields, "date": (start or "").strip()[-5:]}, "form")
        return ce.add_dated(ctx.store, {**fields, "start": (start or "").strip()}, "user", "form")
    return _edit(change)


def remove(_clicks):
    """Remove the promotion whose button was clicked."""
    trigger = _clicked()
    if trigger is None:
        return no_update, no_update
    return _edit(lambda ctx: ce.remove_by_name(ctx.store, str(trigger.get("name", ""))))


def suggestions(_n):
    """Days whose peak stands out and no promotion covers, with a button to add each."""
    from forecasting.fleet import last_data_ts
    from forecasting.suggest import suggest_from_store
    ctx = context.current()
    lang = ctx.lang
    try:
        key = f"fc:suggest:{last_data_ts(ctx.store) // 3600}:{len(ctx.store.calendar())}"
        found = ctx.cached(key, SUGGEST_TTL, lambda: suggest_from_store(ctx.store, ctx.tz))
    except PeakwatchError as exc:
        return html.P(str(exc))
    if found.empty:
        return html.P(lb.t("no_suggestions", lang))
    items = [html.Li([f"{r['date']}  ×{r['lift']:.2f} ({lb.t('kind', lang)} {r['kind']}) ",
                      html.Button(lb.t("add", lang), id={"type": "cal-confirm", "kind": r["kind"], "date": r["date"]},
                                  className="small-button", n_clicks=0)])
             for r in found.to_dict("records")]
    return html.Ul(items, id="cal-suggestion-list")


def confirm(_clicks):
    """Add the suggested promotion whose button was clicked."""
    trigger = _clicked()
    if trigger is None:
        return no_update, no_update
    return _edit(lambda ctx: ce.add_dated(ctx.store, {"kind": str(trigger.get("kind", "")),
                                                      "start": str(trigger.get("date", "")), "tz": ctx.tz},
                                          "suggestion", "suggestion"))


def register_callbacks(app: dash.Dash) -> None:
    app.callback(Output("cal-table-box", "children", allow_duplicate=True), Output("cal-msg", "children",
                                                                                  allow_duplicate=True),
                 Input("cal-add", "n_clicks"), State("cal-kind", "value"), State("cal-start", "value"),
                 State("cal-days", "value"), State("cal-preheat", "value"), State("cal-yearly", "value"),
                 prevent_initial_call=True)(add)
    app.callback(Output("cal-table-box", "children", allow_duplicate=True), Output("cal-msg", "children",
                                                                                  allow_duplicate=True),
                 Input({"type": "cal-remove", "name": ALL}, "n_clicks"), prevent_initial_call=True)(remove)
    app.callback(Output("cal-suggestions", "children"), Input("cal-suggest", "n_clicks"),
                 prevent_initial_call=True)(suggestions)
    app.callback(Output("cal-table-box", "children", allow_duplicate=True), Output("cal-msg", "children",
                                                                                  allow_duplicate=True),
                 Input({"type": "cal-confirm", "kind": ALL, "date": ALL}, "n_clicks"),
                 prevent_initial_call=True)(confirm)
