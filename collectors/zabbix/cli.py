"""``python app.py collect``: Zabbix collection passes, backfill and the mapping report."""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time

from core.errors import ConfigError, PeakwatchError

log = logging.getLogger("peakwatch.zabbix")
DURATION = re.compile(r"^(\d+)([smhdw]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """``400d`` -> seconds; a ConfigError names the bad value."""
    m = DURATION.match(text.strip())
    if not m or int(m.group(1)) == 0:
        raise ConfigError(f"--backfill {text!r} is not a duration; use for example 400d, 12w or 36h.")
    return int(m.group(1)) * UNITS[m.group(2)]


def register(subparsers, parent: argparse.ArgumentParser | None = None) -> None:
    """Add the ``collect`` command to app.py's CLI."""
    p = subparsers.add_parser("collect", parents=[parent] if parent else [],
                              help="collect from Zabbix into the store (a loop; --once for one pass)",
                              description="Collect inventory, history and problems from Zabbix (zabbix_url).")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one pass, then exit")
    mode.add_argument("--backfill", metavar="SPAN", help="fill SPAN back (e.g. 400d): trends, then raw history")
    mode.add_argument("--report", action="store_true", help="show how hosts and items map, then exit")
    p.add_argument("--until", type=int, default=None, metavar="EPOCH",
                   help="end of the collected range (default: now); for reproducible backfills")
    p.set_defaults(func=cmd_collect)
    serve = subparsers.choices.get("serve")
    if serve is not None and serve.get_default("func") is not None:
        serve.add_argument("--collect", action="store_true",
                           help="also collect from Zabbix (zabbix_url) every collect_interval seconds")
        serve.set_defaults(func=_serve_and_collect(serve.get_default("func")))


def _serve_and_collect(serve_func):
    """``serve --collect``: the collection loop in a background thread, then the web app."""
    def run(args, settings) -> int:
        if getattr(args, "collect", False):
            import threading
            source, _store = _source(settings)
            threading.Thread(target=_loop_logged, args=(source, settings.collect_interval),
                             name="zabbix-collector", daemon=True).start()
        return serve_func(args, settings)
    return run


def _loop_logged(source, interval: int) -> None:
    try:
        run_loop(source, interval)
    except Exception:  # noqa: BLE001 - a dead collector thread must say why in the log
        log.exception("the Zabbix collection loop stopped; the web app keeps serving stored data")


def _source(settings):
    from app import open_store
    from collectors.zabbix.source import ZabbixSource
    if not settings.zabbix_url:
        raise ConfigError("zabbix_url is empty; set it (e.g. --zabbix-url http://127.0.0.1:8090) and "
                          "zabbix_token, or run the demo with `python app.py`.")
    store = open_store(settings)
    return ZabbixSource.from_settings(settings, store), store


def cmd_collect(args, settings) -> int:
    source, store = _source(settings)
    try:
        if args.report:
            return print_report(source)
        if args.backfill:
            return run_backfill(source, parse_duration(args.backfill), args.until)
        if args.once:
            rep = source.collect(now=args.until)
            log.info("collection pass done", extra={"fields": rep.as_fields()})
            print(_summary(rep))
            return 0
        return run_loop(source, settings.collect_interval)
    finally:
        store.close()


def _summary(rep) -> str:
    skipped = ", ".join(f"{n} {why}" for why, n in rep.skipped.items()) or "none"
    return (f"{rep.series} series, {rep.values_read} values read, {rep.values_written} samples and "
            f"{rep.rollups_written} hourly rollups written, {rep.api_calls} API calls, "
            f"{rep.seconds:.1f}s; skipped: {skipped}")


def run_backfill(source, span: int, until: int | None) -> int:
    from tqdm import tqdm
    bar = tqdm(total=0, unit="window", desc="backfill", file=sys.stderr, disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
    try:
        rep = source.backfill(span, now=until, progress=progress)
    finally:
        bar.close()
    log.info("backfill done", extra={"fields": rep.as_fields()})
    print(_summary(rep))
    print(f"{rep.instances_backdated} instances backdated to the first day of their data (fleet size over time)")
    return 0


def run_loop(source, interval: int) -> int:
    """Collect every ``interval`` seconds; a failed pass is logged and retried next interval."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            rep = source.collect()
            failures = 0
            log.info("collection pass done", extra={"fields": rep.as_fields()})
        except PeakwatchError as exc:
            failures += 1
            log.error("collection pass failed (%d in a row): %s", failures, exc,
                      extra={"fields": {"error": type(exc).__name__, "failures": failures}})
        time.sleep(max(1.0, interval - (time.monotonic() - started)))


def print_report(source) -> int:
    """Hosts and items that map, and those that do not (with the reason), for the operator."""
    disc = source.discover()
    inv = disc.inventory
    print(f"{len(inv.instances)} instances in {len(inv.clusters)} clusters, {len(inv.businesses)} businesses, "
          f"{len(disc.outputs)} series")
    for b in inv.businesses:
        print(f"  business {b.name} (star {b.star}, {b.product_line})")
    print(f"unmapped hosts: {len(disc.unmapped_hosts)}")
    for host, reason in disc.unmapped_hosts:
        print(f"  {host}: {reason}")
    print(f"hosts collected with assumed values: {len(disc.notes)} (fix their tags to make these certain)")
    for host, note in sorted(disc.notes.items()):
        print(f"  {host}: {note}")
    proxies = [i.name for i in inv.instances if i.service == "twemproxy"]
    if proxies:
        print(f"proxies in a cluster of another service: {len(proxies)} ({', '.join(proxies[:5])}"
              f"{' ...' if len(proxies) > 5 else ''}): sized as proxies, not counted as shards")
    print(f"hosts with unmapped numeric items: {len(disc.unmapped_items)}")
    for host, keys in sorted(disc.unmapped_items.items()):
        print(f"  {host}: {len(keys)} items, e.g. {', '.join(keys[:3])}")
    lacking, redis = disc.redis_without_reads_writes()
    if redis:
        print(f"reads/writes: {redis - len(lacking)} of {redis} Redis instances have the items of the Peakwatch "
              f"add-on template (contrib/zabbix/peakwatch_redis_reads_writes.yaml); without them a Redis instance "
              f"has no reads/writes series")
        if lacking:
            print(f"  without: {', '.join(lacking[:5])}{f' and {len(lacking) - 5} more' if len(lacking) > 5 else ''}")
            replicas = {i.name for i in inv.instances if i.role == "slave"} & set(lacking)
            if replicas:
                print(f"  {len(replicas)} of them are replicas: their qps includes the writes they replay from "
                      f"their master (counted twice in cluster sums until the add-on template is linked)")
    for inst, src in sorted(source.mem_limit_sources().items()):
        print(f"  memory limit of {inst}: {src}")
    return 0
