"""Any unknown path: a clear page naming it, with a link back to the wall."""
from __future__ import annotations

import dash
from dash import html

from dashboard import components as cp
from dashboard import context
from dashboard import labels as lb

dash.register_page(__name__, path="/404", title="Peakwatch · not found")


@cp.guarded
def layout(**_ignored):
    lang = context.current().lang
    return html.Div([cp.navbar("", lang), cp.message(lb.t("not_found", lang), lb.t("not_found_text", lang), lang)])
