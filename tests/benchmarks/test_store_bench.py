"""The store benchmark runs end to end in --quick mode and ends with its JSON line (keys, not timings)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "store_bench.py"
KEYS = {"ingest_ratio_vs_sqlite3", "ingest_samples_per_s", "bytes_per_sample", "rollup_year_ms",
        "cluster_day_ms", "latest_all_ms"}


def test_quick_run_ends_with_one_json_line_of_its_figures(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert all(isinstance(figures[k], (int, float)) and figures[k] > 0 for k in KEYS)
    assert figures["instances"] == 300 and figures["latest_series"] == figures["series"]
    assert figures["cluster_day_points_max"] <= 2000
