"""Printable reports: the pre-promotion readiness report and the daily NOC report.

``readiness.py`` and ``daily.py`` read the store (through forecasting and alerting); ``html.py``
and ``svg.py`` turn their content into one self-contained HTML file laid out for A4.
"""
