"""NOC wall ``/``: every business as a tile, grouped by product line, red flags on top.

The page is rendered once; each refresh the server sends only what changed since the version the
browser shows (``wall-diff``) and a clientside callback applies it in place with ``set_props``.
"""
from __future__ import annotations

import hashlib

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from dashboard import page_cache as cached
from dashboard import components as cp
from dashboard import context
from dashboard import inputs
from dashboard import labels as lb
from dashboard import tiles as tl

dash.register_page(__name__, path="/", title="Peakwatch · NOC wall", name="wall")
FLAG_COLUMNS, FLAG_ROWS = 5, 2   # the strip is at most two rows of five; "+N more flags" links to the rest
ALL_FLAGS = "/?flags=all"


def inventory_key(snap: dict) -> str:
    """Same in every worker (unlike ``hash``): the tiles' identity and order."""
    return hashlib.blake2b("\n".join(snap["tiles"]["business"]).encode(), digest_size=8).hexdigest()


def flag_link(row, now: int, lang: str) -> dcc.Link:
    """One flag: glyph, severity, name and star on one line; why, for how long and its mark below."""
    # acknowledged / silenced flags stay on the wall, marked (someone is on it / it is expected);
    # a held one has cleared lately and stays in its place a while (dashboard.wall_data.HOLD_S)
    mark = ("silenced" if getattr(row, "silenced", False) else "acked" if getattr(row, "acked", False)
            else "clearing" if getattr(row, "held", False) else "")
    why = tl.reason_text(row, now, lang)
    stale = row.severity == "stale"          # its reason already says how long
    tail = [why] if stale else [why, lb.duration(now - row.since, lang)]
    return dcc.Link([
        html.Div([html.Span(tl.GLYPH[row.severity], className="glyph"),
                  html.Span(lb.t(row.severity, lang), className="sev"),
                  html.Span(row.business, className="name"),
                  html.Span(f"\u2605{row.star}", className=f"star star-{row.star}")], className="flag-head"),
        html.Div([html.Span(lb.t(mark, lang), className="mark") if mark else None,
                  html.Span(" \u00b7 ".join(tail), className="why-text")], className="why"),
    ], href=tl.flag_href(row), className=f"flag sev-{row.severity}" + (f" {mark}" if mark else ""),
        title=f"{row.business} \u00b7 {lb.t(row.severity, lang)} \u00b7 {why}")


def flag_strip(snap: dict, ctx: context.Context, limit: int | None = FLAG_COLUMNS * FLAG_ROWS) -> list:
    """The flags in wall order (``alerting.flags.wall_order``); beyond ``limit`` cells, the last
    cell is a "+N more flags" link to the full list."""
    flagged = snap["flagged"]
    lang = ctx.lang
    if flagged.empty:
        return [html.Div(lb.t("no_flags", lang), className="no-flags")]
    shown = flagged if limit is None or len(flagged) <= limit else flagged.head(limit - 1)
    out = [flag_link(row, snap["now"], lang) for row in shown.itertuples(index=False)]
    if len(shown) < len(flagged):
        out.append(dcc.Link(lb.t("more_flags", lang).format(n=len(flagged) - len(shown)), href=ALL_FLAGS,
                            className="flag more", id="more-flags"))
    return out


def counts(snap: dict, lang: str) -> list:
    return [html.Span(f"{tl.GLYPH[s]} {lb.t(s, lang)} {n}", className=f"count sev-{s}") for s, n in
            (("crit", snap["counts"]["crit"]), ("warn", snap["counts"]["warn"]),
             ("stale", snap["counts"]["stale"]), ("ok", snap["counts"]["ok"]))]


def age_data(snap: dict, ctx: context.Context) -> dict:
    return {"now": snap["now"], "latest": snap["latest_ts"],
            "stale_after": ctx.settings.stale_after_intervals * ctx.settings.collect_interval,
            "label": lb.t("data_age", ctx.lang), "none": lb.t("no_data_yet", ctx.lang),
            "units": lb.DURATION_UNITS["zh" if ctx.lang == "zh" else "en"],
            "on": lb.t("sound_on", ctx.lang), "off": lb.t("sound_off", ctx.lang)}


def rotation_store(kiosk: bool, ctx: context.Context) -> dcc.Store:
    playlist = [p.strip() for p in ctx.settings.wall_playlist.split(",") if p.strip()] if kiosk else []
    return html.Div([dcc.Store(id="rotation", data={"playlist": playlist, "seconds": ctx.settings.wall_rotate_seconds}),
                     html.Div(id="rotation-done", hidden=True)])


def all_flags(snap: dict, ctx: context.Context) -> html.Div:
    """``/?flags=all``: every flag in wall order (where "+N more flags" leads)."""
    lang = ctx.lang
    return html.Div([
        cp.navbar("/", lang),
        html.Header([html.H1(lb.t("all_flags", lang)), html.Div(counts(snap, lang), className="counts"),
                     dcc.Link(lb.t("back_to_wall", lang), href="/", className="back-link")], className="wall-header"),
        html.Div(flag_strip(snap, ctx, limit=None), id="all-flags", className="flags all"),
    ], id="wall", className="wall flag-list")


@cp.guarded
def layout(kiosk=None, sound=None, flags=None, **_ignored):
    ctx = context.current()
    lang, kiosk_on = ctx.lang, cp.is_on(kiosk)
    snap = cached.wall_snapshot(ctx, allow_previous=True)
    if flags == "all":
        return all_flags(snap, ctx)
    sound_on = ctx.settings.wall_sound or cp.is_on(sound)
    header = html.Header([
        html.H1(lb.t("wall", lang)),
        html.Div(counts(snap, lang), id="wall-counts", className="counts"),
        html.Span(id="wall-age", className="age"),
        html.Button(lb.t("sound_on", lang), id="mute", className="mute", n_clicks=0,
                    style={} if sound_on else {"display": "none"}),
    ], className="wall-header")
    return html.Div([
        None if kiosk_on else cp.navbar("/", lang),
        header,
        html.Div(flag_strip(snap, ctx), id="wall-flags", className="flags") if len(snap["tiles"]) else
        cp.message(lb.t("wall", lang), lb.t("store_empty", lang), lang, back=False),
        # drawn by peakwatch.js from wall-grid: one JSON document, not thousands of components
        html.Div(id="wall-groups", className="groups"),
        dcc.Store(id="wall-grid", data=tl.grid(snap["tiles"], cached.wall_views(ctx, snap), lang)),
        html.Div(id="wall-drawn", hidden=True),
        dcc.Interval(id="wall-tick", interval=ctx.settings.refresh_seconds * 1000),
        dcc.Interval(id="wall-clock", interval=5000),
        dcc.Store(id="wall-state", data={"v": snap["version"], "inv": inventory_key(snap),
                                         "crit": list(snap["flagged"].query("severity == 'crit'")["business"]),
                                         "sound": bool(sound_on)}),
        dcc.Store(id="wall-diff"),
        dcc.Store(id="wall-age-data", data=age_data(snap, ctx)),
        rotation_store(kiosk_on, ctx),
    ], id="wall", className="wall kiosk" if kiosk_on else "wall")


@inputs.guarded_callback(5)
def refresh(_n, state):
    """Only what changed since the version the browser shows."""
    ctx = context.current()
    state = inputs.mapping(state, "wall-state")
    for key in ("v", "inv"):
        inputs.text(state.get(key), key, 64, optional=True)
    snap = cached.wall_snapshot(ctx)
    if state.get("v") == snap["version"]:
        return no_update, no_update, no_update, no_update, age_data(snap, ctx)
    new = cached.wall_views(ctx, snap)
    if state.get("inv") != inventory_key(snap):
        diff = {"v": snap["version"], "inv": inventory_key(snap), "t": {}}
        grp = tl.grid(snap["tiles"], new, ctx.lang)
    else:
        diff = {"v": snap["version"], "inv": state["inv"],
                "t": tl.diff(ctx.cache.get(cached.views_key(ctx, state.get("v"))), new)}
        grp = no_update
    diff["crit"] = list(snap["flagged"].query("severity == 'crit'")["business"])
    return diff, flag_strip(snap, ctx), counts(snap, ctx.lang), grp, age_data(snap, ctx)


def register_callbacks(app: dash.Dash) -> None:
    app.callback(
        Output("wall-diff", "data"), Output("wall-flags", "children"), Output("wall-counts", "children"),
        Output("wall-grid", "data"), Output("wall-age-data", "data"),
        Input("wall-tick", "n_intervals"), State("wall-state", "data"), prevent_initial_call=True,
    )(refresh)
    app.clientside_callback(ClientsideFunction("peakwatch", "renderWall"),
                            Output("wall-drawn", "children"), Input("wall-grid", "data"))
    app.clientside_callback(ClientsideFunction("peakwatch", "applyWallDiff"),
                            Output("wall-state", "data"), Input("wall-diff", "data"), State("wall-state", "data"),
                            prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("peakwatch", "dataAge"),
                            Output("wall-age", "children"), Output("wall-age", "className"),
                            Input("wall-age-data", "data"), Input("wall-clock", "n_intervals"))
    app.clientside_callback(ClientsideFunction("peakwatch", "toggleMute"),
                            Output("mute", "children"), Output("mute", "className"),
                            Input("mute", "n_clicks"), State("wall-age-data", "data"))
    app.clientside_callback(ClientsideFunction("peakwatch", "rotate"),
                            Output("rotation-done", "children"), Input("rotation", "data"))
