"""Zabbix collector throughput vs bare pyzabbix ``history.get`` of the same items and window, in
the same run, against the real Zabbix of scripts/zabbix-up.sh.

    /tmp/pwvenv/bin/python benchmarks/collector_bench.py [--days 30] [--repeat 3] [--big-hosts 16]

End-to-end = API + parse + derive + store write (SQLite in a temporary directory), with the
product's defaults (500 items a batch, ``zabbix_parallel_calls`` = 2: the value types' calls in
flight at once) and, for comparison, one call at a time. The last line is one JSON object with
``ratio_vs_bare_api`` and ``values_per_s``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
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


#: windows are aligned to multiples of batch_window (so resumed runs cut the same windows); a window
#: of "days + 2 h" still crossed a multiple inside the range and cost two extra calls the bare side
#: does not make. 2**32 s is past every epoch second, so the whole range is one window, one call per
#: value type, like the bare side.
ONE_WINDOW = 1 << 32


def end_to_end(token: str, now: int, days: int, batch_items: int, group: str = GROUP,
               parallel: int = 2) -> tuple[int, int, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.sqlite")
        client = ZabbixClient(URL, token, timeout=120, retries=0)
        src = ZabbixSource(client, store, KeyMap(), host_group=group, first_window=days * 86400, overlap=0,
                           batch_items=batch_items, batch_window=ONE_WINDOW)
        disc = src.discover()          # inventory is per pass, not per value: left out of the timing
        started = time.perf_counter()
        rep = incremental_pass(client, store, disc, src.ids, batch_items=batch_items, batch_window=ONE_WINDOW,
                               overlap=0, first_window=days * 86400, now=now, parallel=parallel)
        elapsed = time.perf_counter() - started
        store.close()
    return rep.values_read, rep.values_written, elapsed, rep.api_calls


def plan_items(token: str, group: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/plan.sqlite")
        disc = ZabbixSource(ZabbixClient(URL, token), store, KeyMap(), host_group=group).discover()
        store.close()
    return {r.itemid: r.value_type for o in disc.outputs for r in o.items}


def measure(token: str, group: str, now: int, days: int, repeat: int, label: str) -> dict:
    """Bare vs end-to-end, interleaved, ``repeat`` times; medians of the rates."""
    items = plan_items(token, group)
    t0 = now - days * 86400
    results = {"bare": [], "e2e": [], "e2e_sequential": []}
    for _ in range(repeat):
        n, s = bare(token, items, t0 - 900, now)
        results["bare"].append((n, s))
        n, w, s, calls = end_to_end(token, now, days, 500, group, parallel=2)     # the product's defaults
        results["e2e"].append((n, s))
        n2, _, s2, calls2 = end_to_end(token, now, days, 500, group, parallel=1)
        results["e2e_sequential"].append((n2, s2))
        print(f"[{label}] bare {results['bare'][-1][0]} values {results['bare'][-1][1]:.2f}s | end-to-end "
              f"{n} read, {w} written {s:.2f}s ({calls} calls, 2 in flight) | one call at a time {s2:.2f}s "
              f"({calls2} calls) | load {os.getloadavg()[0]:.1f}", file=sys.stderr)

    def rate(kind):
        return statistics.median(n / s for n, s in results[kind])
    bare_rate, e2e_rate, seq_rate = rate("bare"), rate("e2e"), rate("e2e_sequential")

    def per_run(kind):
        return sorted(round(n / s / (nb / sb), 3) for (n, s), (nb, sb) in zip(results[kind], results["bare"]))
    return {"items": len(items), "days": days, "values": results["bare"][-1][0],
            "bare_values_per_s": round(bare_rate), "values_per_s": round(e2e_rate),
            "sequential_values_per_s": round(seq_rate),
            "ratio_vs_bare_api": round(e2e_rate / bare_rate, 3), "ratio_per_run": per_run("e2e"),
            "sequential_ratio_vs_bare_api": round(seq_rate / bare_rate, 3),
            "sequential_ratio_per_run": per_run("e2e_sequential")}


# ------------------------------------------------------------- a bigger, benchmark-only fleet

BIG_STEP = 300          # seconds between values of the benchmark-only trapper items


def make_big_fleet(token: str, hosts: int, days: int) -> tuple[str, list[str], str, int]:
    """A host group of ``hosts`` Redis-like trapper hosts with ``days`` of 5-minute history, made
    through the API and the sender protocol (the helpers of scripts/zabbix_fixtures.py, read only).
    Returns (group name, hostids, groupid, last clock); :func:`drop_big_fleet` removes it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import zabbix_fixtures as zf

    cl = ZabbixClient(URL, token, timeout=120)
    name = f"pw-bench-{uuid.uuid4().hex[:8]}"
    group = f"Peakwatch/Bench-{name}"
    gid = cl.call("hostgroup.create", {"name": group})["groupids"][0]
    hostids: list[str] = []
    try:
        specs = []
        for h in range(hosts):
            spec = {"host": f"{name}-{h:02d}", "keys": zf.REDIS_TRAPPER_KEYS, "qps": 20000 + 1000 * h,
                    "maxmem": 8 << 30, "mem": 5 << 30, "conns": 1000,
                    "tags": zf.tags("bench", name, 3, "redis", f"{name}-c{h % 4}", "master")}
            hostids.append(cl.call("host.create", {"host": spec["host"], "groups": [{"groupid": gid}],
                                                   "tags": spec["tags"]})["hostids"][0])
            cl.call("item.create", [{"hostid": hostids[-1], "name": k, "key_": k, "type": zf.TRAPPER,
                                     "value_type": vt, "history": "90d", "trends": "0"}
                                    for k, vt in spec["keys"].items()])
            specs.append(spec)
        zf.reload_config_cache()
        now = int(time.time()) // BIG_STEP * BIG_STEP - BIG_STEP
        counters: dict = {}
        values = [v for t in range(now - days * 86400 - 3600, now + 1, BIG_STEP) for spec in specs
                  for v in zf.trapper_values(spec, t, [], counters)]
        started = time.perf_counter()
        zf.send_all(values, chunk=5000)
        items = cl.call("item.get", {"groupids": [gid], "output": ["itemid", "value_type"]})
        deadline = time.monotonic() + 600
        while True:                     # wait for the history syncers to write everything sent
            n = sum(int(cl.call("history.get", {"itemids": [i["itemid"] for i in items if i["value_type"] == str(vt)],
                                                "history": vt, "countOutput": True,
                                                "time_from": now - days * 86400 - 3600, "time_till": now}))
                    for vt in (0, 3))
            if n >= len(values) or time.monotonic() > deadline:
                break
            time.sleep(2)
        print(f"[big] {len(values)} values sent, {n} in history after {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        return group, hostids, gid, now
    except BaseException:
        drop_big_fleet(token, hostids, gid)
        raise


def drop_big_fleet(token: str, hostids: list[str], gid: str) -> None:
    cl = ZabbixClient(URL, token, timeout=300)
    if hostids:
        cl.call("host.delete", hostids)
    cl.call("hostgroup.delete", [gid])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30, help="window of history read (default 30 = the fixture's)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-hosts", type=int, default=0,
                    help="also measure on a benchmark-only group of this many trapper hosts (6 items each, "
                         "5-minute history over --days), created for the run and deleted after it")
    args = ap.parse_args()
    token = (STATE / "api-token").read_text().strip()
    now = json.loads((STATE / "fixtures.json").read_text())["last_clock"]
    out = {"bench": "zabbix_collector", "date": time.strftime("%Y-%m-%d"),
           **measure(token, GROUP, now, args.days, args.repeat, "fixture")}
    if args.big_hosts:
        group, hostids, gid, big_now = make_big_fleet(token, args.big_hosts, args.days)
        try:
            out["big"] = measure(token, group, big_now, args.days, args.repeat, "big")
        finally:
            drop_big_fleet(token, hostids, gid)
    out["load_avg_1m"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
