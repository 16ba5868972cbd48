"""A small fleet whose values a test sets: ``n`` businesses (stars 1..5 in turn), one Redis
cluster of two masters each, every instance with a ``mem_util`` and a ``qps`` series."""
from __future__ import annotations

import numpy as np

from alerting import config as acfg
from alerting.engine import Engine
from core.settings import load_settings
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec


def phone(i: int) -> str:
    return f"+86139{i:08d}"


class Fleet:
    def __init__(self, store, n: int = 5, source: str = "synthetic"):
        self.store = store
        self.businesses = [f"biz{i}" for i in range(n)]
        inv = Inventory(product_lines=[ProductLine("trade"), ProductLine("search")])
        for i, b in enumerate(self.businesses):
            inv.businesses.append(Business(b, "trade" if i % 2 == 0 else "search", i % 5 + 1,
                                           (f"Owner {i} <{phone(i)}>",)))
            inv.clusters.append(Cluster(f"{b}-re", b, "redis", 2, 1e5, 1 << 30))
            for k in range(2):
                inv.instances.append(Instance(f"{b}-{k}:6379", f"{b}-re", f"10.0.{i}.{k}", 6379, "master", k))
        inv.series = [SeriesSpec(f"{x.name}/{m}", m, x.cluster, x.name) for x in inv.instances
                      for m in ("mem_util", "qps")]
        self.ids = store.upsert_inventory(inv, source=source)
        self.inv = inv
        self.star = {b.name: b.star for b in inv.businesses}

    def instance(self, business: str, k: int = 0) -> str:
        return f"{business}-{k}:6379"

    def write(self, t: int, mem: dict | None = None, default: float = 50.0, only: list | None = None) -> None:
        """mem_util per instance (``default`` for the others) and a calm qps, at ``t``."""
        mem = mem or {}
        sid, val = [], []
        for x in self.inv.instances:
            if only is not None and x.name not in only:
                continue
            sid += [self.ids[f"{x.name}/mem_util"], self.ids[f"{x.name}/qps"]]
            val += [mem.get(x.name, default), 1000.0]
        self.store.write_samples(np.array(sid), np.full(len(sid), t), np.array(val))


def engine(store, config: dict | None = None, clock=None, **settings) -> Engine:
    s = load_settings(cli=settings, env={"PEAKWATCH_STORE_URL": store.url})
    cfg = acfg.parse({"interval": 60, **(config or {})})
    return Engine(store, s, cfg, clock=clock or (lambda: 0), holder="test")


class Clock:
    def __init__(self, t: float):
        self.t = float(t)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
