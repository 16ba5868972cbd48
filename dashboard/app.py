"""Dash app factory: ``create_app(store, settings)``. (First slice: one page listing businesses
with their latest QPS; the pages of the dashboard issue replace it.)"""
from __future__ import annotations

import dash
from dash import dash_table, dcc, html

from dashboard.queries import business_latest_qps


def create_app(store, settings) -> dash.Dash:
    app = dash.Dash(__name__, title="Peakwatch", update_title=None)

    def layout():
        df = business_latest_qps(store)
        return html.Div([
            html.H1("Peakwatch"),
            html.P(f"{len(df)} businesses", id="business-count"),
            dash_table.DataTable(df.to_dict("records"), [{"name": c, "id": c} for c in df.columns],
                                 id="business-table", page_size=500),
            dcc.Interval(id="tick", interval=settings.refresh_seconds * 1000),
        ])

    app.layout = layout
    return app
