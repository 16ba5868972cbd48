"""Zabbix collector throughput vs bare pyzabbix ``history.get`` of the same items and window, in
the same run, against the real Zabbix of scripts/zabbix-up.sh.

    /tmp/pwvenv/bin/python benchmarks/collector_bench.py [--days 30] [--repeat 3]

End-to-end = API + parse + derive + store write (SQLite in a temporary directory). The last line
is one JSON object with ``ratio_vs_bare_api`` and ``values_per_s``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyzabbix import ZabbixAPI  # noqa: E402

from collectors.zabbix.client import ZabbixClient  # noqa: E402
from collectors.zabbix.history import incremental_pass  # noqa: E402
from collectors.zabbix.keymap import KeyMap  # noqa: E402
from collectors.zabbix.source import ZabbixSource  # noqa: E402
from store import Store  # noqa: E402

STATE = Path("/var/lib/peakwatch-stack")
URL = "http://127.0.0.1:8090"
GROUP = "Peakwatch/Trapper"


def bare(token: str, items: dict[str, int], t0: int, t1: int) -> tuple[int, float]:
    """history.get of the items, one call per value type, as a script would do it."""
    api = ZabbixAPI(URL, timeout=120, detect_version=False)
    api.login(api_token=token)
    started = time.perf_counter()
    n = 0
    for vt in sorted(set(items.values())):
        ids = [i for i, v in items.items() if v == vt]
        n += len(api.history.get(itemids=ids, history=vt, time_from=t0, time_till=t1,
                                 output=["itemid", "clock", "value"], sortfield="clock", sortorder="ASC"))
    return n, time.perf_counter() - started


def end_to_end(token: str, now: int, days: int, batch_items: int) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.sqlite")
        client = ZabbixClient(URL, token, timeout=120, retries=0)
        src = ZabbixSource(client, store, KeyMap(), host_group=GROUP, first_window=days * 86400, overlap=0,
                           batch_items=batch_items, batch_window=days * 86400 + 7200)
        disc = src.discover()          # inventory is per pass, not per value: left out of the timing
        started = time.perf_counter()
        rep = incremental_pass(client, store, disc, src.ids, batch_items=batch_items, batch_window=days * 86400 + 7200,
                               overlap=0,
                               first_window=days * 86400, now=now)
        elapsed = time.perf_counter() - started
        store.close()
    return rep.values_read, rep.values_written, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="window of history read (default 30 = the fixture's)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    token = (STATE / "api-token").read_text().strip()
    now = json.loads((STATE / "fixtures.json").read_text())["last_clock"]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/plan.sqlite")
        src = ZabbixSource(ZabbixClient(URL, token), store, KeyMap(), host_group=GROUP)
        disc = src.discover()
        store.close()
    items = {r.itemid: r.value_type for o in disc.outputs for r in o.items}
    t0 = now - args.days * 86400
    results = {"bare": [], "e2e": [], "e2e_small_batches": []}
    for _ in range(args.repeat):
        n, s = bare(token, items, t0 - 900, now)
        results["bare"].append((n, s))
        n, w, s = end_to_end(token, now, args.days, 500)
        results["e2e"].append((n, s))
        n2, _, s2 = end_to_end(token, now, args.days, 6)
        results["e2e_small_batches"].append((n2, s2))
        print(f"bare {results['bare'][-1][0]} values {results['bare'][-1][1]:.2f}s | end-to-end one batch "
              f"{n} read, {w} written {s:.2f}s | item batches of 6 (writes overlap fetches) {s2:.2f}s", file=sys.stderr)

    def rate(kind):
        return statistics.median(n / s for n, s in results[kind])
    bare_rate, e2e_rate, day_rate = rate("bare"), rate("e2e"), rate("e2e_small_batches")
    print(json.dumps({"bench": "zabbix_collector", "date": time.strftime("%Y-%m-%d"), "items": len(items),
                      "days": args.days, "values": results["bare"][-1][0],
                      "bare_values_per_s": round(bare_rate), "values_per_s": round(max(e2e_rate, day_rate)),
                      "one_batch_values_per_s": round(e2e_rate), "item_batches_values_per_s": round(day_rate),
                      "ratio_vs_bare_api": round(max(e2e_rate, day_rate) / bare_rate, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
