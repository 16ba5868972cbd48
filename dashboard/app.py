"""Dash app factory: ``create_app(store, settings)``.

Pages live in ``dashboard/pages/`` (``use_pages``); Dash imports each page module once per app
and lists it in ``dash.page_registry``. Each page module exposes ``layout(**path_vars)`` and
``register_callbacks(app)``; the factory takes the modules from the registry (never importing
them a second time) and binds their callbacks to this app.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import dash
from dash import dcc, html

from dashboard import alerts_actions, auth, context, http_guards, plotly_bundle, warmer

HERE = Path(__file__).resolve().parent


def create_app(store, settings, clock: Callable[[], float] = time.time) -> dash.Dash:
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(HERE / "pages"), assets_folder=str(HERE / "assets"),
        title="Peakwatch", update_title=None, suppress_callback_exceptions=True,
    )
    plotly_bundle.install(app)   # 1.2 MB of plotly.js instead of 4.8 MB: scatter and bar are all we draw
    ctx = context.install(app.server, store, settings, clock)
    auth.install(app.server, store, settings, clock)   # logins, roles, CSRF on form posts
    alerts_actions.install(app.server)                 # acknowledge, silence, unsilence, CSV
    warmer.install(app.server, ctx)   # keeps the wall's snapshot warm (started by each process's first request)
    app.layout = html.Div([dcc.Location(id="url"), dash.page_container], id="root")
    for module in page_modules():
        module.register_callbacks(app)
    http_guards.install(app, settings)   # after the callbacks: the CSP hashes their inline scripts
    return app


def page_modules() -> list:
    """The page modules Dash imported for the app just built, in registry order."""
    modules = []
    for entry in dash.page_registry.values():
        module = sys.modules[entry["module"]]
        if hasattr(module, "register_callbacks"):
            modules.append(module)
    return modules
