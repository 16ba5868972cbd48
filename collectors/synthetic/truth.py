"""Ground truth behind the synthetic data, for forecasting backtests and wall tests.

The lift of a business in a promotion is its qps at the promotion's midnight spike divided by
its normal daily peak on that day (same growth and weekday, no noise): every cluster of a
business shares the shape, so the business, each of its clusters and their sum have that lift.
The same kind of promotion gives a business a similar lift every year (about 8 % noise); the
kinds differ (11.11 biggest, 4.19 smallest). ``scale_outs`` names the clusters that grew.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from collectors.synthetic import signals
from collectors.synthetic.fleet import FleetModel
from store.inventory_types import Promotion


def lifts(model: FleetModel, promotions: list[Promotion]) -> pd.DataFrame:
    """True lift per business and promotion.

    Returns:
        DataFrame[business, product_line, star, promotion, kind, start, lift], one row per pair.
    """
    biz = model.inventory.businesses
    idx = np.arange(len(biz))
    frames = []
    for p in promotions:
        frames.append(pd.DataFrame({
            "business": [b.name for b in biz], "product_line": [b.product_line for b in biz],
            "star": [b.star for b in biz], "promotion": p.name, "kind": p.kind, "start": p.start,
            "lift": signals.promotion_lift(model, idx, p.kind, signals.promotion_year(p))}))
    if not frames:
        return pd.DataFrame(columns=["business", "product_line", "star", "promotion", "kind", "start", "lift"])
    return pd.concat(frames, ignore_index=True)


def lift(model: FleetModel, business: str, promotion: Promotion) -> float:
    """True lift of one business in one promotion (KeyError names an unknown business)."""
    names = {b.name: i for i, b in enumerate(model.inventory.businesses)}
    if business not in names:
        raise KeyError(f"no business {business!r} in the synthetic fleet")
    b = np.array([names[business]])
    return float(signals.promotion_lift(model, b, promotion.kind, signals.promotion_year(promotion))[0])


def growth(model: FleetModel) -> dict[str, float]:
    """Yearly traffic growth factor per business (about 3)."""
    return {b.name: float(g) for b, g in zip(model.inventory.businesses, model.biz_growth)}


def scale_outs(model: FleetModel) -> dict[str, dict]:
    """The clusters that grew during the history: cluster -> ``at`` (UTC epoch, 02:00 Beijing time),
    ``promotion`` (the one it prepared for, 10-20 days later), ``shards_before``, ``shards_after``
    and ``instances`` (how many joined). Every other instance joined ``fleet.FOUNDED_DAYS`` before
    the anchor; instance series have no data before their instance's ``added_at``."""
    inv = model.inventory
    out = {}
    for c, (at, cut, promotion) in sorted(model.scale_outs.items(), key=lambda kv: (kv[1][0], kv[0])):
        out[inv.clusters[c].name] = {
            "at": at, "promotion": promotion, "shards_before": cut, "shards_after": inv.clusters[c].shard_count,
            "instances": int(((model.in_cluster == c) & (model.in_added == at)).sum())}
    return out


def incidents(model: FleetModel) -> dict:
    """Where the planted incidents are and since when (UTC epoch seconds).

    ``memory_creep``: the cluster's memory climbs to its limit over three days before the anchor,
    then evicts; ``hit_ratio_drop``: the cluster's hit ratio falls by about 28 points six hours
    before the anchor; ``silent``: the instance sends nothing from three hours before the anchor
    on (the wall must show it stale); ``hot_shards``: cluster -> shard carrying 3..6x the qps.
    """
    inv = model.inventory
    silent = inv.instances[model.silent_instance]
    return {
        "memory_creep": {"cluster": inv.clusters[model.creep_cluster].name, "since": model.creep_start},
        "hit_ratio_drop": {"cluster": inv.clusters[model.hitdrop_cluster].name, "since": model.hitdrop_start},
        "silent": {"instance": silent.name, "cluster": silent.cluster, "since": model.silent_start},
        "hot_shards": {inv.clusters[c].name: shard for c, shard in model.hot_shards.items()},
    }
