"""Self-contained HTML for the readiness and daily reports: inline CSS and SVG, no script, no
external file; laid out for A4 paper (``@page``), so "Print to PDF" gives the change ticket's
attachment as it looks on screen."""
from __future__ import annotations

from html import escape

import pandas as pd

from reports.svg import Chart, si

PAST_COLOURS = ("#9ecae1", "#4292c6", "#08519c")
CSS = """
@page { size: A4; margin: 12mm 11mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.35 "DejaVu Sans", "Noto Sans CJK SC", Arial, sans-serif; color: #17202b; margin: 0 auto;
       max-width: 188mm; padding: 8px; }
h1 { font-size: 17pt; margin: 0 0 2px; } h2 { font-size: 13pt; margin: 16px 0 6px; border-bottom: 2px solid #17202b; }
h3 { font-size: 11pt; margin: 10px 0 2px; }
.sub { color: #555; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4px 0 8px; }
th, td { border-bottom: 1px solid #ddd; padding: 2px 4px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } td.n, th.n { text-align: right; white-space: nowrap; }
tr.over td:first-child { border-left: 4px solid #d32f2f; } tr.watch td:first-child { border-left: 4px solid #f0a04b; }
tr.why td { color: #555; border-bottom: 1px solid #bbb; padding-bottom: 4px; }
tr.has-why td { border-bottom: none; }
td { overflow-wrap: break-word; } td:not(:last-child) { hyphens: manual; }
.low { color: #a15c00; font-weight: bold; }
.summary { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
.summary div { border: 1px solid #ccd; border-radius: 4px; padding: 4px 8px; flex: 1; }
.summary b { display: block; font-size: 14pt; }
.risk { break-inside: avoid; page-break-inside: avoid; margin-bottom: 6px; }
svg.chart { width: 100%; height: auto; } svg .tick { font-size: 9px; fill: #555; } svg .legend { font-size: 9px; }
.note { font-size: 8.5pt; color: #555; }
section { break-inside: auto; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
tr { break-inside: avoid; page-break-inside: avoid; }
@media print { body { max-width: none; padding: 0; } table { font-size: 8pt; } }
"""


def _pct(x) -> str:
    return "–" if pd.isna(x) else f"{x:.0%}"


def _pct1(x) -> str:
    return "–" if pd.isna(x) else f"{x:.1%}"


def _gib(x) -> str:
    return "–" if pd.isna(x) or x <= 0 else f"{x / 2**30:.1f} GiB"


def _table(head: list[tuple[str, str]], rows: list[dict], row_class=None, why: str | None = None) -> str:
    """head: (key, title) pairs; a title ending in '#' is right-aligned (numbers). ``why``: a key
    whose text goes on a full-width line under each row (long reasons on narrow paper)."""
    th = "".join(f'<th class="n">{escape(t[:-1])}</th>' if t.endswith("#") else f"<th>{escape(t)}</th>"
                 for _, t in head)
    body = []
    for r in rows:
        cls = f' class="{escape(row_class(r))}"' if row_class else ""
        tds = "".join(f'<td class="n">{escape(str(r[k]))}</td>' if t.endswith("#") else f"<td>{escape(str(r[k]))}</td>"
                      for k, t in head)
        if why and r.get(why):
            cls = f' class="{escape(row_class(r)) if row_class else ""} has-why"'
            body.append(f'<tr{cls}>{tds}</tr><tr class="why"><td colspan="{len(head)}">{escape(str(r[why]))}</td></tr>')
        else:
            body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>")


# ---------------------------------------------------------------------------------- readiness

def readiness(r, generated: pd.Timestamp, tz: str) -> str:
    """The readiness report (a ``reports.readiness.Readiness``) as one HTML document."""
    t = r.target
    acting = r.plan[r.plan["status"].isin(["over", "watch"])]
    weak = int(acting["low_confidence"].sum()) if len(acting) else 0
    head = (f"<h1>Readiness for {escape(t.name)}</h1>"
            f'<p class="sub">Starts {t.start:%Y-%m-%d %H:%M %Z}; data up to {r.cutoff.tz_convert(tz):%Y-%m-%d %H:%M} '
            f"({tz}); generated {generated.tz_convert(tz):%Y-%m-%d %H:%M}. Peaks are hourly maxima; intervals are "
            f"80%.</p>")
    summary = ('<div class="summary">'
               f"<div>over their headroom<b>{int((r.plan['status'] == 'over').sum())}</b></div>"
               f"<div>over it at the upper bound<b>{int((r.plan['status'] == 'watch').sum())}</b></div>"
               f"<div>new instances asked<b>{int(acting['cost_instances'].sum()) if len(acting) else 0}</b></div>"
               f"<div>on a low-confidence forecast<b>{weak}</b></div></div>")
    parts = [head, summary, _totals(r.totals), _risks(r.at_risk), _changes(acting), _accuracy(r)]
    parts += [f'<p class="note">{escape(n)}</p>' for n in r.notes]
    return _page(f"Readiness {t.name}", "".join(parts))


def _totals(totals: pd.DataFrame) -> str:
    rows = []
    order = totals.assign(_l=totals["level"].map({"fleet": 0, "product_line": 1})).sort_values(["_l", "metric", "group"])
    for x in order.to_dict("records"):
        unit = _gib if x["metric"] == "mem_used" else si
        rows.append({"group": x["group"], "metric": x["metric"], "normal": unit(x["baseline"]),
                     "point": unit(x["point"]), "interval": f"{unit(x['lower'])} – {unit(x['upper'])}",
                     "lift": "–" if pd.isna(x["lift"]) else f"×{x['lift']:.2f}", "method": x["method"] or "–",
                     "past": _pct1(x["past_mdape"]), "conf": "LOW" if x["low_confidence"] else "ok",
                     "why": x["reasons"] or x["error"]})
    head = [("group", "fleet / product line"), ("metric", "metric"), ("normal", "normal peak#"),
            ("point", "predicted peak#"), ("interval", "80% interval#"), ("lift", "lift#"), ("method", "method"),
            ("past", "past error#"), ("conf", "confidence")]
    return ("<section><h2>Forecast: the fleet and each product line</h2>" + _table(head, rows, why="why")
            + "</section>")


def _risk_svg(c) -> str:
    chart = Chart(title=f"{c.cluster} {c.metric}", x_label="hours from the promotion's start (its own time zone)",
                  y_unit="GiB" if c.metric == "mem_used" else c.metric)
    div = 2**30 if c.metric == "mem_used" else 1.0
    past = [e for e in dict.fromkeys(c.aligned["event"]) if e != "today"]
    for name, colour in zip(past, PAST_COLOURS[-len(past):] if past else ()):
        g = c.aligned[c.aligned["event"] == name]
        chart.line(name, g["offset_hours"], g["value"] / div, colour=colour)
    today = c.aligned[c.aligned["event"] == "today"]
    chart.line("last days", today["offset_hours"], today["value"] / div, colour="#17202b", width=1.5, dash="3,2")
    chart.band("forecast 80%", 0, c.hours, c.lower / div, c.upper / div)
    chart.line("forecast", [0, c.hours], [c.point / div] * 2, colour="#c2410c", width=2.5)
    chart.ref("capacity", c.capacity / div, colour="#555", dash="2,2")
    chart.ref(f"allowed ({c.star}★)", c.allowed / div)
    return chart.render()


def _risks(charts) -> str:
    if not charts:
        return "<section><h2>Clusters at risk</h2><p>None: every cluster stays under its headroom at the upper bound.</p></section>"
    out = ["<section><h2>Clusters at risk, ranked</h2>"]
    for i, c in enumerate(charts, 1):
        conf = ' <span class="low">low-confidence forecast</span>' if c.low_confidence else ""
        out.append(f'<div class="risk"><h3>{i}. {escape(c.cluster)} ({escape(c.business)}, {c.star}★) — '
                   f"{escape(c.status)}{conf}</h3><p class=\"note\">{escape(c.reason)}. Predicted {c.metric} peak "
                   f"{si(c.point)} (80%: {si(c.lower)} – {si(c.upper)}) by {escape(c.method or '–')}; capacity "
                   f"{si(c.capacity)}, allowed {si(c.allowed)}.</p>{_risk_svg(c)}</div>")
    out.append("</section>")
    return "".join(out)


def _changes(acting: pd.DataFrame) -> str:
    rows = [{"rank": int(x["rank"]), "cluster": x["cluster"], "business": x["business"], "star": f"{int(x['star'])}★",
             "status": x["status"], "shards": f"{int(x['shards'])} + {int(x['add_shards'])}",
             "proxies": f"{int(x['proxies'])} + {int(x['add_proxies'])}" if x["service"] == "twemproxy" else "–",
             "mem": _gib(x["add_mem_bytes"]), "cost": int(x["cost_instances"]),
             "method": f"{x['method'] or '–'} ({_pct(x['past_mdape'])})",
             "conf": "LOW" if x["low_confidence"] else "ok", "why": x["reason"]}
            for x in acting.to_dict("records")]
    head = [("rank", "#"), ("cluster", "cluster"), ("business", "business"), ("star", "star"), ("status", "status"),
            ("shards", "shards + add#"), ("proxies", "proxies + add#"), ("mem", "or memory#"),
            ("cost", "new inst.#"), ("method", "method (past error)"), ("conf", "conf.")]
    total = int(acting["cost_instances"].sum()) if len(acting) else 0
    intro = (f"<p>{len(acting)} clusters need a change before the promotion, {total} new instances in all "
             f"(a shard brings its master and replicas). Memory: raise maxmemory by the amount shown, or add the "
             f"shards listed.</p>")
    return ("<section><h2>Recommended changes and their cost</h2>" + intro
            + (_table(head, rows, lambda r: r["status"], why="why") if rows else "<p>No change needed.</p>")
            + "</section>")


def _accuracy(r) -> str:
    if r.accuracy.empty:
        return "<section><h2>Accuracy on this fleet's past promotions</h2><p>No past promotion to check.</p></section>"
    rows = [{"history": x["history"], "lead": f"{int(x['lead_days'])} d", "n": int(x["n"]), "failed": int(x["failed"]),
             "mdape": _pct1(x["mdape"]), "bias": "–" if pd.isna(x["bias"]) else f"{x['bias']:+.1%}",
             "cov": _pct(x["coverage_80"]), "last": _pct1(x["mdape_naive_last"]), "year": _pct1(x["mdape_naive_year"])}
            for x in r.accuracy.to_dict("records")]
    head = [("history", "promotions"), ("lead", "ahead"), ("n", "cases#"), ("failed", "failed#"),
            ("mdape", "median error#"), ("bias", "bias#"), ("cov", "in 80% interval#"),
            ("last", "naive: last lift#"), ("year", "naive: last year#")]
    out = ["<section><h2>Accuracy on this fleet's past promotions</h2>",
           "<p>Every past promotion forecast again from the data before it, per business (qps), as this report "
           "forecasts the next one.</p>", _table(head, rows)]
    if len(r.failures):
        out.append("<p>Cases that could not be forecast, and why:</p>")
        out.append(_table([("n", "cases#"), ("why", "reason")],
                          [{"n": int(n), "why": why} for why, n in r.failures.items()]))
    out.append("</section>")
    return "".join(out)


# -------------------------------------------------------------------------------------- daily

def daily(d, generated: pd.Timestamp, tz: str) -> str:
    """The daily NOC report (a ``reports.daily.Daily``) as one HTML document."""
    head = (f"<h1>Daily report {d.day:%Y-%m-%d}</h1><p class=\"sub\">The day {d.day:%Y-%m-%d} in {tz}; flags as of "
            f"the report's generation, "
            f"{generated.tz_convert(tz):%Y-%m-%d %H:%M}. Peaks are hourly maxima of qps.</p>")
    summary = ('<div class="summary">'
               f"<div>fleet peak yesterday<b>{si(d.fleet_peak)}</b></div>"
               f"<div>vs the same day last week<b>{_signed(d.fleet_growth)}</b></div>"
               f"<div>businesses red now<b>{d.flag_counts.get('crit', 0)}</b></div>"
               f"<div>amber now<b>{d.flag_counts.get('warn', 0)}</b></div>"
               f"<div>grey (no data) now<b>{d.flag_counts.get('stale', 0)}</b></div></div>")
    flags = _table([("business", "business"), ("severity", "flag"), ("reason", "why")],
                   d.flags.to_dict("records"), lambda r: {"crit": "over", "warn": "watch"}.get(r["severity"], ""))
    if d.peaks.empty:
        newest = "no data at all" if d.newest is None else f"the newest data is from {d.newest.tz_convert(tz):%Y-%m-%d %H:%M}"
        missing = (f"<p>No qps data for {d.day:%Y-%m-%d} ({newest}): is the collector running? "
                   f"(`app.py report --daily --day YYYY-MM-DD` reports another day.)</p>")
        movers = peaks = missing
    else:
        movers = _table(_PEAK_HEAD, _peak_rows(d.movers), None)
        peaks = _table(_PEAK_HEAD, _peak_rows(d.peaks), None)
    body = [head, summary, "<section><h2>Red flags now</h2>",
            flags if len(d.flags) else "<p>No business is flagged.</p>", "</section>",
            "<section><h2>Top movers (peak vs the same day last week)</h2>", movers, "</section>",
            "<section><h2>Yesterday's peak per business</h2>", peaks, "</section>"]
    return _page(f"Daily report {d.day:%Y-%m-%d}", "".join(body))


_PEAK_HEAD = [("business", "business"), ("product_line", "product line"), ("peak", "peak yesterday#"),
              ("normal", "normal peak#"), ("vs_normal", "vs normal#"), ("growth", "vs last week#")]


def _signed(x) -> str:
    return "–" if pd.isna(x) else f"{x:+.1%}"


def _peak_rows(frame: pd.DataFrame) -> list[dict]:
    return [{"business": x["business"], "product_line": x["product_line"], "peak": si(x["peak"]),
             "normal": si(x["normal"]), "vs_normal": _signed(x["vs_normal"]), "growth": _signed(x["growth"])}
            for x in frame.to_dict("records")]
