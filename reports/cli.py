"""``python app.py report``: the readiness report for a promotion, or the daily NOC report.

    python app.py report --promotion 11.11 --out report.html    readiness for the next 11.11
    python app.py report --daily --out daily.html               yesterday's peaks, flags, movers
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from forecasting.capacity import CapacityLimits
from reports import daily, html, readiness


def register(subparsers, parent: argparse.ArgumentParser | None = None) -> None:
    """Add the ``report`` command to the app's sub-commands."""
    p = subparsers.add_parser("report", parents=[parent] if parent else [],
                              help="readiness report for a promotion (HTML for the change ticket), or the daily report",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--promotion", metavar="NAME|KIND", default=None,
                   help="promotion: a kind (11.11: the next one) or an exact name (default: the next promotion)")
    p.add_argument("--daily", action="store_true", help="the daily NOC report instead")
    p.add_argument("--day", metavar="YYYY-MM-DD", default=None, help="--daily: the day to report (default yesterday)")
    p.add_argument("--out", metavar="PATH", default=None,
                   help="HTML file to write (default: readiness-<promotion>.html or daily-<date>.html)")
    p.add_argument("--top", type=int, default=readiness.TOP_AT_RISK, help="clusters at risk charted (default 8)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: the CPU count)")
    p.set_defaults(func=cmd_report)


def cmd_report(args, settings) -> int:
    limits = CapacityLimits.from_settings(settings)   # a bad capacity setting fails before any work
    now = pd.Timestamp(time.time(), unit="s", tz="UTC")
    with args.open_store(settings) as store:
        if args.daily:
            stale = int(settings.stale_after_intervals * settings.collect_interval)
            d = daily.build(store, int(now.timestamp()), settings.timezone, stale, day=args.day)
            text, default = html.daily(d, now, settings.timezone), f"daily-{d.day:%Y-%m-%d}.html"
        else:
            from forecasting.fleet import default_workers
            workers = default_workers() if args.workers is None else args.workers
            r = readiness.build(store, args.promotion, limits, workers=workers, top=args.top)
            text, default = html.readiness(r, now, settings.timezone), f"readiness-{r.target.name.replace(' ', '-')}.html"
    path = Path(args.out or default)
    path.write_text(text, encoding="utf-8")
    print(f"report written to {path} ({len(text) // 1024} KiB)", file=sys.stderr)
    return 0
