"""Small layout pieces the pages share (navigation, messages). Dash components, no data access."""
from __future__ import annotations

import functools
import logging
import re

from dash import dcc, html

from core.logs import mask_phones as mask_text_phones
from dashboard import labels as lb


log = logging.getLogger("peakwatch.dashboard")


def guarded(layout):
    """A page layout that shows a clear message instead of an error box when it fails (for
    example the store is unreachable); the details go to the log. A query parameter given twice
    (``?days=7&days=30``) gets a message naming it."""
    @functools.wraps(layout)
    def wrapper(**kwargs):
        from dashboard.inputs import repeated
        twice = repeated(kwargs)
        if twice:
            from dashboard.context import current
            lang = current().lang
            return html.Div([navbar("", lang), message(lb.t("bad_input", lang), twice, lang)])
        try:
            return layout(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the viewer gets a message, the log the traceback
            log.exception("page %s failed", layout.__module__)
            from core.errors import PeakwatchError
            from dashboard.context import current
            try:
                lang = current().lang
            except Exception:  # noqa: BLE001 - no app context: the message still shows, in English
                lang = "en"
            text = str(exc) if isinstance(exc, PeakwatchError) else lb.t("see_log", lang)
            return message(lb.t("cannot_show", lang), text, lang)
    return wrapper


def mask_phones(contacts) -> str:
    """On-call contacts for a page anyone may open: names kept, phone numbers masked."""
    text = ", ".join(map(str, contacts)) if isinstance(contacts, (list, tuple)) else str(contacts or "")
    text = mask_text_phones(text)     # mobile numbers, also with dashes or spaces
    return re.sub(r"(\+?\d{3})\d{4,}(\d{4})", r"\1****\2", text)   # any other long number


def navbar(active: str, lang: str) -> html.Nav:
    links = [("/", lb.t("wall", lang)), ("/fleet", lb.t("fleet", lang)),
             ("/promotions", lb.t("promotions", lang)), ("/capacity", lb.t("capacity", lang))]
    return html.Nav([html.Span("Peakwatch", className="brand")] + [
        dcc.Link(text, href=href, className="nav-link active" if href == active else "nav-link")
        for href, text in links
    ], className="navbar", id="navbar")


def message(title: str, text: str, lang: str, back: bool = True) -> html.Div:
    """A clear page-level message (bad input, unknown name, empty store) instead of an error."""
    children = [html.H2(title), html.P(text, className="message-text")]
    if back:
        children.append(dcc.Link(lb.t("back_to_wall", lang), href="/", className="back-link"))
    return html.Div(children, className="message", id="message")


def is_on(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


def table(rows: list[dict], columns, table_id: str, links: dict[str, str] | None = None) -> html.Table:
    """A plain HTML table (columns: (id, header) pairs); a row's ``sev`` colours it.

    ``links`` maps a column id to the row key holding that cell's URL."""
    links = links or {}

    def cell(r, c):
        if c in links and r.get(links[c]):
            return html.Td(html.A(r[c], href=r[links[c]], target="_blank"))
        return html.Td(r.get(c, ""))

    head = html.Thead(html.Tr([html.Th(h) for _, h in columns]))
    body = html.Tbody([html.Tr([cell(r, c) for c, _ in columns], className=f"row-{r.get('sev', 'ok')}")
                       for r in rows])
    return html.Table([head, body], id=table_id, className="grid")
