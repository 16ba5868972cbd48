"""Store reads shaped for the pages (pure functions of a store)."""
from __future__ import annotations

import pandas as pd


def business_latest_qps(store) -> pd.DataFrame:
    """Latest QPS per business: cluster-level qps series summed over the business's clusters."""
    series = store.series()
    qps = series[series["metric"].isin(["qps", "proxy_qps"])]
    cluster_level = qps[qps["instance"].isna()]
    latest = store.latest(cluster_level["id"].tolist())
    merged = cluster_level.merge(latest, left_on="id", right_on="series_id", how="left")
    per = merged.groupby(["product_line", "business", "star"], as_index=False)["value"].sum(min_count=1)
    businesses = store.businesses().rename(columns={"name": "business"})
    out = businesses.merge(per, on=["product_line", "business", "star"], how="left")
    out = out.rename(columns={"value": "qps"})[["product_line", "business", "star", "qps"]]
    out["qps"] = out["qps"].round(0)
    return out.sort_values(["product_line", "business"]).reset_index(drop=True)
