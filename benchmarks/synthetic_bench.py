"""How fast the synthetic fleet generates (pure numpy, no store).

    python benchmarks/synthetic_bench.py [--scales 3000 30000] [--repeat 3]

Figures (best of ``--repeat``, seconds):
  build           build_model(scale)
  minute_hour     values() for every series, one hour of 1-minute samples (warm, reused ``out``)
  hourly_730d     hourly() of the cluster-level series for 730 days, in 7-day batches
  hourly_inst_1d  hourly() of every per-instance series for one day
Ends with one JSON line of the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.synthetic import signals  # noqa: E402
from collectors.synthetic.fleet import build_model  # noqa: E402

HOUR, DAY = 3600, 86_400


CPU: dict[str, float] = {}


def best(fn, repeat: int, name: str = "") -> float:
    """Best wall time of ``repeat`` runs; the CPU time of that run goes to CPU[name] (the
    machine may be shared: CPU time is what the code costs, wall time what a user waits)."""
    times = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(times)
    CPU[name] = round(cpu, 3)
    return wall


def bench(scale: int, repeat: int) -> dict:
    t = time.perf_counter()
    model = build_model(scale, 7)
    out = {"scale": scale, "series": len(model.s_metric), "build_s": round(time.perf_counter() - t, 3)}
    ts = signals.minutes(model.anchor - HOUR, model.anchor)
    buf = np.empty((len(model.s_metric), len(ts)))
    signals.values(model, None, ts, out=buf)                       # warm the allocator
    out["minute_hour_s"] = round(best(lambda: signals.values(model, None, ts, out=buf), repeat, "m"), 3)
    out["minute_hour_cpu_s"] = CPU["m"]
    out["minute_hour_samples_per_s"] = int(buf.size / out["minute_hour_s"])
    clusters = model.cluster_series

    def history():
        for d in range(0, 730, 7):
            signals.hourly(model, clusters, np.arange(model.anchor - (d + 7) * DAY, model.anchor - d * DAY, HOUR))

    out["hourly_730d_cluster_series"] = len(clusters)
    out["hourly_730d_s"] = round(best(history, 1 if scale > 3000 else repeat, "h"), 3)
    out["hourly_730d_cpu_s"] = CPU["h"]
    out["hourly_730d_rollups_per_s"] = int(len(clusters) * 730 * 24 / out["hourly_730d_s"])
    hours = np.arange(model.anchor - DAY, model.anchor, HOUR)
    out["hourly_inst_1d_s"] = round(best(lambda: signals.hourly(model, model.instance_series, hours), repeat, "i"),
                                    3)
    out["hourly_inst_1d_cpu_s"] = CPU["i"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[3000, 30000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    results = []
    for scale in args.scales:
        r = bench(scale, args.repeat)
        results.append(r)
        print(f"scale {scale:>6}: {r['series']:>7} series  build {r['build_s']:.2f} s\n"
              f"  1 h of minutes, every series:      {r['minute_hour_s']:.3f} s wall, "
              f"{r['minute_hour_cpu_s']:.3f} s CPU\n"
              f"  730 d hourly, {r['hourly_730d_cluster_series']} cluster series: {r['hourly_730d_s']:.2f} s wall, "
              f"{r['hourly_730d_cpu_s']:.2f} s CPU\n"
              f"  1 d hourly, every instance series: {r['hourly_inst_1d_s']:.2f} s wall, "
              f"{r['hourly_inst_1d_cpu_s']:.2f} s CPU")
    print(json.dumps({f"{k}@{r['scale']}": v for r in results for k, v in r.items() if k != "scale"}))


if __name__ == "__main__":
    main()
