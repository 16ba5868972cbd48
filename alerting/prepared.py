"""The inventory side of an evaluation, prepared once per inventory change (values change every
cycle, the fleet rarely): live series in a fixed order with integer codes for metric, evaluation
target (instance, else cluster), cluster and source, and each rule's row mask. A cycle then only
aligns the latest values to these rows and compares numbers: no string work over 300,000 rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

COLUMNS = ["id", "metric", "service", "role", "star", "cluster", "business", "product_line", "instance"]


@dataclass
class Prepared:
    frame: pd.DataFrame                 # live series, COLUMNS + source
    ids: np.ndarray
    star: np.ndarray
    target: np.ndarray                  # code of the series' target (instance, else cluster)
    target_names: np.ndarray
    target_first: np.ndarray            # a row of each target
    target_is_instance: np.ndarray
    target_cluster: np.ndarray          # cluster code of each target
    source: np.ndarray                  # source code per row (-1: none, e.g. cluster-level series)
    source_names: np.ndarray
    masks: dict = field(default_factory=dict)
    key: tuple = ()

    def rule_mask(self, rule) -> np.ndarray:
        """Rows ``rule`` applies to (metric, services, roles), computed once per inventory."""
        m = self.masks.get(rule)
        if m is None:
            f = self.frame
            m = (f["metric"].to_numpy(object) == rule.metric)
            if rule.services:
                m &= f["service"].isin(rule.services).to_numpy()
            if rule.roles:
                m &= f["role"].isin(rule.roles).to_numpy()
            self.masks[rule] = m
        return m

    def readings(self, latest: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(ts, value) per row from ``Store.latest()`` (NaN where a series never reported)."""
        lid = latest["series_id"].to_numpy()
        order = np.argsort(lid, kind="stable")
        lid = lid[order]
        if not len(lid):
            nan = np.full(len(self.ids), np.nan)
            return nan, nan.copy()
        pos = np.clip(np.searchsorted(lid, self.ids), 0, len(lid) - 1)
        found = lid[pos] == self.ids
        ts = np.where(found, latest["ts"].to_numpy(np.float64)[order][pos], np.nan)
        value = np.where(found, latest["value"].to_numpy(np.float64)[order][pos], np.nan)
        return ts, value


def inventory_key(series: pd.DataFrame) -> tuple:
    removed = series["removed_at"].isna().to_numpy() if "removed_at" in series else np.ones(len(series), bool)
    ids = series["id"].to_numpy()
    return (len(ids), int(ids.sum()) if len(ids) else 0, int(removed.sum()))


def prepare(series: pd.DataFrame, sources: pd.Series) -> Prepared:
    """``series``: Store.series(); ``sources``: instance name -> source (synthetic, zabbix)."""
    live = series[series["removed_at"].isna()] if "removed_at" in series else series
    f = live[COLUMNS].reset_index(drop=True).copy()
    f["instance"] = f["instance"].to_numpy(object)
    inst = f["instance"].to_numpy(object)
    has_inst = pd.notna(inst)
    target_label = np.where(has_inst, inst, f["cluster"].to_numpy(object))
    target, names = pd.factorize(target_label)
    first = np.full(len(names), -1, np.int64)
    rows = np.arange(len(f))
    first[target[::-1]] = rows[::-1]                 # the first row of each target
    cl_codes, _ = pd.factorize(f["cluster"].to_numpy(object))
    src = f["instance"].map(sources).to_numpy(object)
    src_codes, src_names = pd.factorize(src)         # NaN -> -1
    f["source"] = np.where(src_codes >= 0, src, "")
    return Prepared(f, f["id"].to_numpy(np.int64), f["star"].fillna(3).to_numpy(np.int64), target,
                    np.asarray(names, object), first, has_inst[first], cl_codes[first], src_codes,
                    np.asarray(src_names, object), key=inventory_key(series))
