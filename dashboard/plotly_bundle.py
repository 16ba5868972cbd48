"""``dcc.Graph`` draws with plotly.js's basic partial bundle (scatter, bar, pie: all the pages draw;
1.2 MB) instead of the full one the plotly package ships (4.8 MB: loading and running it was most of
the business page's first paint on a loaded machine, docs/benchmarks.md).

Dash's renderer fetches plotly.js from a fixed path (``_dash-component-suites/plotly/package_data/
plotly.min.js`` when it serves locally); a route for exactly that path, more specific than Dash's
component-suite route, answers it with the vendored basic bundle (same origin: the
Content-Security-Policy's ``script-src 'self'`` holds)."""
from __future__ import annotations

from pathlib import Path

import flask

BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-basic.min.js"
PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"


def install(app) -> None:
    """Serve the basic bundle where Dash's renderer asks for plotly.js (call before the first request)."""
    prefix = app.config.requests_pathname_prefix or "/"

    def plotly_basic():
        return flask.send_file(BUNDLE, mimetype="text/javascript", conditional=True, max_age=3600)
    app.server.add_url_rule(f"{prefix}{PATH}", "peakwatch_plotly_basic", plotly_basic)
