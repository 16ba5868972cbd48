"""notebooks/capacity_planning.ipynb runs top to bottom on a demo store and shows its results."""
from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_capacity_planning_notebook_runs_on_the_demo_store(demo_store_url, monkeypatch):
    monkeypatch.setenv("PEAKWATCH_STORE_URL", demo_store_url)
    nb = nbformat.read(ROOT / "notebooks" / "capacity_planning.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "next promotion: 12.12 2026" in text
    assert "80% interval" in text
    assert "mdape_naive_year" in text
    assert "written" in text and "clusters" in text
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
