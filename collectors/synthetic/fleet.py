"""The synthetic fleet: product lines, businesses, clusters, instances and their series.

``build_model(scale, seed, anchor)`` draws a deterministic fleet and keeps, next to the
:class:`~store.inventory_types.Inventory`, the numeric parameters :mod:`.signals` needs as numpy
arrays (one row per business, cluster, instance or series). ``anchor`` is the "now" the fleet was
generated for: growth is 1 there and the incidents (memory creep, hit-ratio drop, silent
instance) are placed just before it. Of the inventory only the instances' ``added_at`` depends
on ``anchor``: the original fleet joined ``FOUNDED_DAYS`` before it, and the clusters of four
shards or more were scaled out 10-20 days before one of the promotions between 700 and 40 days
before it (see ``_scale_outs``).

Parameters that were added after the first release (read share, join dates) come from hashes of
the cluster keys, never from the random stream, so the older parameters stay what they were.

Instances are stored cluster by cluster (shard order, master before slave, proxies before
backends); series are every instance's metrics in instance order, then the cluster-level series
(``cluster:<name>/<metric>``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from collectors.synthetic import calendar
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec
from store.metrics import METRICS

#: a fixed default anchor (2026-11-29 00:00 UTC) so tests and notebooks see the same data
DEFAULT_ANCHOR = 1_795_910_400

PRODUCT_LINES = ("trade", "payment", "search", "recommend", "marketing", "logistics", "member",
                 "coupon", "content", "ads", "risk", "im", "finance", "local", "infra")
NOUNS = ("cart", "order", "item", "price", "stock", "user", "session", "feed", "rank", "coupon",
         "seckill", "detail", "review", "shop", "address", "token", "rule", "msg", "route", "tag",
         "score", "banner", "live", "bill", "quota", "geo", "config", "like", "follow", "notice")
SURNAMES = ("Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu")
GIVEN = ("Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Tao", "Hui", "Qiang", "Na")

SERVICE_METRICS = {
    ("redis", "master"): ("qps", "mem_used", "mem_max", "mem_util", "conns", "hit_ratio", "evictions",
                          "net_in", "net_out", "cpu"),
    ("redis", "slave"): ("qps", "mem_used", "mem_max", "mem_util", "conns", "hit_ratio", "evictions",
                         "net_in", "net_out", "cpu", "repl_ok"),
    ("memcached", "master"): ("qps", "mem_used", "mem_max", "mem_util", "conns", "hit_ratio", "evictions",
                              "net_in", "net_out"),
    ("twemproxy", "proxy"): ("proxy_qps", "conns", "proxy_timeouts", "server_ejects"),
    # the memcached servers behind a Twemproxy pool
    ("twemproxy", "master"): ("qps", "mem_used", "mem_max", "mem_util", "conns", "hit_ratio", "evictions",
                              "net_in", "net_out"),
}
#: cluster-level series; ``reads`` + ``writes`` equal the traffic series (for a Twemproxy pool its
#: Memcached backends' gets and sets, which add up to the pool's proxy_qps)
CLUSTER_METRICS = {"redis": ("qps", "mem_used", "conns", "reads", "writes"),
                   "memcached": ("qps", "mem_used", "conns", "reads", "writes"),
                   "twemproxy": ("proxy_qps", "mem_used", "conns", "reads", "writes")}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
METRIC_CODE = {m: i for i, m in enumerate(METRIC_NAMES)}
SERVICES = ("redis", "memcached", "twemproxy")
ROLES = ("master", "slave", "proxy")
PORTS = {"redis": 6379, "memcached": 11211, "twemproxy": 22121}
GB = 1 << 30
HOUR, DAY = 3600, 86_400
#: the original fleet joined this many days before the anchor (the longest demo history,
#: settings.demo_history_days), so it is there for all of any history the demo generates
FOUNDED_DAYS = 1500
#: a cluster of this many shards or more was scaled out once: shards from ceil(SCALE_OUT_FROM x
#: shards) on (with their replicas) joined 10-20 days before a promotion between
#: SCALE_OUT_WINDOW days before the anchor
SCALE_OUT_MIN_SHARDS = 4
SCALE_OUT_FROM = 0.6
SCALE_OUT_WINDOW = (700, 40)
#: hash salts of the parameters drawn from the cluster keys (not from the random stream)
READ_SALT = 0x7EAD_5A1E
SCALE_OUT_SALT = 0x5CA1_E0C7


@dataclass
class Families:
    """Instances that share a cluster total (qps, mem or conns), in cluster order.

    ``inst`` global instance index; ``cluster`` its cluster; ``cum`` cumulative share within the
    cluster (last member of a cluster has 1.0); ``nxt`` member index of the next member in the
    same cluster (the first for the last); ``first`` member index of the cluster's first member;
    ``amp`` per-member noise amplitude (a fraction of the cluster's smallest share).
    """
    inst: np.ndarray
    cluster: np.ndarray
    cum: np.ndarray
    nxt: np.ndarray
    first: np.ndarray
    amp: np.ndarray


@dataclass
class FleetModel:
    scale: int
    seed: int
    anchor: int
    inventory: Inventory
    # businesses
    biz_growth: np.ndarray        # yearly growth factor (about 3)
    biz_lift: np.ndarray          # 11.11 midnight lift of qps over the normal daily peak (2..8)
    biz_weekend: np.ndarray       # weekend change of traffic (-0.12..+0.15)
    biz_flash: np.ndarray         # extra weight of the 10:00 flash-sale peak
    # clusters
    cl_business: np.ndarray
    cl_service: np.ndarray        # index into SERVICES
    cl_qps_base: np.ndarray       # normal daily peak qps at the anchor
    cl_conn_base: np.ndarray
    cl_mem_max: np.ndarray        # bytes, summed over the instances holding data
    cl_mem_util0: np.ndarray      # memory utilisation at the anchor (fraction)
    cl_hit0: np.ndarray           # hit ratio (%)
    cl_bytes_in: np.ndarray       # bytes per request
    cl_bytes_out: np.ndarray
    cl_qps_cap: np.ndarray        # capacity per instance (qps)
    cl_read_share: np.ndarray     # reads / traffic (0.55..0.95, from a hash of the cluster key)
    # instances
    in_cluster: np.ndarray
    in_role: np.ndarray           # index into ROLES
    in_mem_max: np.ndarray
    in_key: np.ndarray            # uint64 noise key
    in_added: np.ndarray          # UTC epoch the instance joined (no data before it)
    # series
    s_metric: np.ndarray          # index into METRIC_NAMES
    s_instance: np.ndarray        # -1 for cluster series
    s_cluster: np.ndarray
    cl_key: np.ndarray            # uint64 noise key per cluster
    fam: dict[str, Families] = field(default_factory=dict)
    # incidents (see truth.incidents)
    creep_cluster: int = -1
    creep_start: int = 0
    hitdrop_cluster: int = -1
    hitdrop_start: int = 0
    silent_instance: int = -1
    silent_start: int = 0
    hot_shards: dict[int, int] = field(default_factory=dict)    # cluster -> hot shard
    #: cluster -> (when, first new shard, promotion it prepared for); see truth.scale_outs
    scale_outs: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    _key_index: dict[str, int] | None = None
    cache: dict = field(default_factory=dict, repr=False)   # derived arrays, see signals

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.inventory.series]

    def index(self, keys: list[str]) -> np.ndarray:
        """Series indices of ``keys`` (KeyError names an unknown key)."""
        if self._key_index is None:
            self._key_index = {k: i for i, k in enumerate(self.keys)}
        return np.array([self._key_index[k] for k in keys], dtype=np.int64)

    @property
    def cluster_series(self) -> np.ndarray:
        return np.flatnonzero(self.s_instance < 0)

    @property
    def instance_series(self) -> np.ndarray:
        return np.flatnonzero(self.s_instance >= 0)

    def silent_since(self, instance: str) -> int | None:
        """When ``instance`` went silent (UTC epoch), or None."""
        if self.silent_instance >= 0 and self.inventory.instances[self.silent_instance].name == instance:
            return self.silent_start
        return None


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays: the hash behind every noise value."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _salted(keys: np.ndarray, salt: int) -> np.ndarray:
    """A second, independent hash of ``keys`` (one per ``salt``)."""
    with np.errstate(over="ignore"):
        return mix64(keys ^ np.uint64(salt * 0x9E3779B97F4A7C15 % (1 << 64)))


def _keys(seed: int, salt: int, n: int) -> np.ndarray:
    base = np.uint64((seed * 0x9E3779B97F4A7C15 + salt * 0xD1B54A32D192ED03) % (1 << 64))
    with np.errstate(over="ignore"):
        return mix64(np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + base)


def _unit(h: np.ndarray) -> np.ndarray:
    """A hash as a uniform in [0, 1) (its top 53 bits)."""
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _host(i: int) -> str:
    h = i // 4
    return f"10.{h // 62_500 % 250 + 1}.{h // 250 % 250 + 1}.{h % 250 + 2}"


def _cluster_sizes(rng: np.random.Generator, scale: int, n_biz: int) -> list[tuple[str, int, int]]:
    """(service, shards, proxies) per cluster, about ``scale`` instances in total."""
    plan: list[tuple[str, int, int]] = []
    big = [128] * (2 if scale >= 20_000 else 1 if scale >= 10_000 else 0) + [64] * (scale // 3000)
    if 1000 <= scale < 3000:
        big.append(32)
    for shards in big:
        plan.append(("redis", shards, 0))
    total = sum(2 * s for _, s, _ in plan)
    while total < scale or len(plan) < n_biz:
        service = rng.choice(SERVICES, p=(0.62, 0.23, 0.15))
        if service == "redis":
            shards = int(rng.choice((1, 1, 1, 2, 2, 2, 3, 4, 4, 6, 8, 16)))
            proxies, size = 0, 2 * shards
        elif service == "memcached":
            shards, proxies = int(rng.integers(2, 7)), 0
            size = shards
        else:
            shards, proxies = int(rng.integers(2, 7)), int(rng.integers(2, 4))
            size = shards + proxies
        if len(plan) < n_biz and size > max(2, (scale - total) // (n_biz - len(plan))):
            service, shards, proxies, size = "redis", 1, 0, 2     # leave room for every business
        if len(plan) >= n_biz and total + size > scale:
            if scale > total:       # top up to exactly ``scale`` with a small Memcached pool
                plan.append(("memcached", scale - total, 0))
            break
        plan.append((str(service), shards, proxies))
        total += size
    return plan


def _business_names(rng: np.random.Generator, n_biz: int, lines: list[str]) -> list[tuple[str, str]]:
    out, seen = [], set()
    for i in range(n_biz):
        line = lines[i % len(lines)]
        noun = NOUNS[int(rng.integers(len(NOUNS)))]
        name, k = f"{line}-{noun}", 2
        while name in seen:
            name, k = f"{line}-{noun}{k}", k + 1
        seen.add(name)
        out.append((name, line))
    return out


def _oncall(rng: np.random.Generator, i: int) -> tuple[str, ...]:
    n = 1 + int(rng.random() < 0.6)
    return tuple(f"{SURNAMES[int(rng.integers(10))]} {GIVEN[int(rng.integers(10))]} "
                 f"<+86138{(i * 7919 + k * 104_729) % 100_000_000:08d}>" for k in range(n))


def build_fleet(scale: int = 3000, seed: int = 7) -> Inventory:
    """The deterministic synthetic inventory of about ``scale`` instances."""
    return build_model(scale, seed).inventory


def build_model(scale: int = 3000, seed: int = 7, anchor: int = DEFAULT_ANCHOR) -> FleetModel:
    """Draw the fleet and its signal parameters (deterministic in scale, seed and anchor)."""
    if not isinstance(scale, (int, np.integer)) or scale < 30:
        raise ValueError(f"scale must be a whole number of instances of at least 30, got {scale!r}")
    rng = np.random.default_rng([seed, 1])
    n_biz = max(3, round(scale / 10))
    lines = list(PRODUCT_LINES[:min(len(PRODUCT_LINES), n_biz)])
    names = _business_names(rng, n_biz, lines)
    stars = rng.choice((1, 2, 3, 4, 5), size=n_biz, p=(0.22, 0.32, 0.26, 0.14, 0.06))
    businesses = [Business(n, pl, int(stars[i]), _oncall(rng, i)) for i, (n, pl) in enumerate(names)]
    plan = _cluster_sizes(rng, scale, n_biz)
    order = rng.permutation(len(plan))
    owner = np.empty(len(plan), dtype=np.int64)
    owner[order[:n_biz]] = np.arange(n_biz)      # every business owns a cluster
    # further clusters go preferably to important businesses
    weight = stars.astype(float) ** 1.5
    owner[order[n_biz:]] = rng.choice(n_biz, size=len(plan) - n_biz, p=weight / weight.sum())
    return _assemble(rng, scale, seed, anchor, lines, businesses, plan, owner)


def _assemble(rng, scale, seed, anchor, lines, businesses, plan, owner) -> FleetModel:
    n_biz = len(businesses)
    clusters: list[Cluster] = []
    instances: list[Instance] = []
    cl_rows, in_rows = [], []
    per_biz: dict[int, int] = {}
    cl_key = _keys(seed, 3, len(plan))
    founded = int(anchor) - FOUNDED_DAYS * DAY
    scale_outs = _scale_outs(cl_key, anchor, plan)
    for c, (service, shards, proxies) in enumerate(plan):
        b = int(owner[c])
        per_biz[b] = per_biz.get(b, 0) + 1
        name = f"{businesses[b].name}-{service[:2] if service != 'twemproxy' else 'tw'}{per_biz[b]:02d}"
        cap = {"redis": 100_000.0, "memcached": 150_000.0, "twemproxy": 50_000.0}[service]
        mem = float(rng.choice((2, 4, 8, 8, 16, 16, 32)) * GB) if service == "redis" \
            else float(rng.choice((4, 8, 16)) * GB)
        clusters.append(Cluster(name, businesses[b].name, service, shards, cap, mem))
        roles = [("proxy", k) for k in range(proxies)]
        if service == "redis":
            roles += [(r, k) for k in range(shards) for r in ("master", "slave")]
        else:
            roles += [("master", k) for k in range(shards)]
        when, cut, _ = scale_outs.get(c, (founded, shards, ""))
        for role, shard in roles:
            i = len(instances)
            port = PORTS[service] + i % 4
            host = _host(i)
            added = when if role != "proxy" and shard >= cut else founded
            instances.append(Instance(f"{host}:{port}", name, host, port, role, shard, added_at=added))
            in_rows.append((c, ROLES.index(role), mem if role != "proxy" else 0.0))
        cl_rows.append((b, SERVICES.index(service), shards, proxies, cap, mem))
    model = _parameters(rng, scale, seed, anchor, lines, businesses, clusters, instances, cl_rows, in_rows)
    model.scale_outs = scale_outs
    return model


def _scale_outs(cl_key: np.ndarray, anchor: int, plan) -> dict[int, tuple[int, int, str]]:
    """cluster -> (when, first new shard, promotion) for every cluster of 4 shards or more.

    The upper shards (from ceil(0.6 x shards), master and slave; a Twemproxy pool's Memcached
    backends, never its proxies) joined at 02:00 Beijing time 10-20 days before a promotion
    picked by hash among those starting 700 to 40 days before ``anchor``.
    """
    lo, hi = int(anchor) - SCALE_OUT_WINDOW[0] * DAY, int(anchor) - SCALE_OUT_WINDOW[1] * DAY
    promos = [p for p in calendar.promotions_between(lo, hi) if lo <= p.start <= hi]
    if not promos:
        return {}
    h = _salted(cl_key, SCALE_OUT_SALT)
    pick = (h % np.uint64(len(promos))).astype(np.int64)
    before = 10 + ((h >> np.uint64(32)) % np.uint64(11)).astype(np.int64)
    out = {}
    for c, (_, shards, _) in enumerate(plan):
        if shards >= SCALE_OUT_MIN_SHARDS:
            p = promos[pick[c]]
            out[c] = (int(p.start - before[c] * DAY + 2 * HOUR), int(np.ceil(shards * SCALE_OUT_FROM)), p.name)
    return out


def _parameters(rng, scale, seed, anchor, lines, businesses, clusters, instances, cl_rows, in_rows):
    n_biz, n_cl, n_in = len(businesses), len(clusters), len(instances)
    cl = np.array(cl_rows, dtype=float)
    cl_business = cl[:, 0].astype(np.int64)
    cl_service = cl[:, 1].astype(np.int64)
    shards, proxies, cap = cl[:, 2], cl[:, 3], cl[:, 4]
    ins = np.array(in_rows, dtype=float)
    in_cluster = ins[:, 0].astype(np.int64)
    in_role = ins[:, 1].astype(np.int64)
    in_mem_max = ins[:, 2]
    stars = np.array([b.star for b in businesses])
    cl_key = _keys(seed, 3, n_cl)
    # traffic at the anchor: daily peak at 3..45 % of capacity, core businesses busier
    util = np.clip(rng.lognormal(np.log(0.12), 0.6, n_cl) * (0.8 + 0.1 * stars[cl_business]), 0.02, 0.45)
    serving = np.where(cl_service == 2, proxies, shards)
    qps_base = np.round(util * serving * cap, -1)
    model = FleetModel(
        scale=scale, seed=seed, anchor=int(anchor),
        inventory=Inventory(product_lines=[ProductLine(p) for p in lines], businesses=businesses,
                            clusters=clusters, instances=instances),
        biz_growth=np.clip(3.0 * rng.lognormal(0, 0.15, n_biz), 2.0, 4.5),
        biz_lift=2.0 + 6.0 * rng.beta(1.6, 2.4, n_biz),
        biz_weekend=rng.uniform(-0.12, 0.15, n_biz),
        biz_flash=rng.uniform(0.0, 0.35, n_biz),
        cl_business=cl_business, cl_service=cl_service, cl_qps_base=qps_base,
        cl_conn_base=np.round(serving * rng.uniform(300, 3000, n_cl) * (1 + (cl_service == 2))),
        cl_mem_max=np.bincount(in_cluster, weights=in_mem_max, minlength=n_cl),
        cl_mem_util0=rng.uniform(0.25, 0.68, n_cl),
        cl_hit0=np.where(cl_service == 0, rng.uniform(88, 99.5, n_cl), rng.uniform(93, 99.8, n_cl)),
        cl_bytes_in=rng.uniform(60, 400, n_cl), cl_bytes_out=rng.uniform(150, 2000, n_cl),
        cl_qps_cap=cap, cl_read_share=0.55 + 0.40 * _unit(_salted(cl_key, READ_SALT)),
        in_cluster=in_cluster, in_role=in_role, in_mem_max=in_mem_max, in_key=_keys(seed, 2, n_in),
        in_added=np.array([x.added_at for x in instances], dtype=np.int64), s_metric=np.empty(0, np.int64),
        s_instance=np.empty(0, np.int64), s_cluster=np.empty(0, np.int64), cl_key=cl_key)
    _series(model)
    _families(rng, model)
    _incidents(rng, model, stars)
    return model


def _series(model: FleetModel) -> None:
    inv = model.inventory
    specs, metric, inst, clus = [], [], [], []
    for i, x in enumerate(inv.instances):
        c = int(model.in_cluster[i])
        service = SERVICES[model.cl_service[c]]
        for m in SERVICE_METRICS[(service, x.role)]:
            specs.append(SeriesSpec(f"{x.name}/{m}", m, x.cluster, x.name, METRICS[m].units))
            metric.append(METRIC_CODE[m]), inst.append(i), clus.append(c)
    for c, cluster in enumerate(inv.clusters):
        for m in CLUSTER_METRICS[cluster.service]:
            specs.append(SeriesSpec(f"cluster:{cluster.name}/{m}", m, cluster.name, None, METRICS[m].units))
            metric.append(METRIC_CODE[m]), inst.append(-1), clus.append(c)
    inv.series = specs
    model.s_metric = np.array(metric, dtype=np.int64)
    model.s_instance = np.array(inst, dtype=np.int64)
    model.s_cluster = np.array(clus, dtype=np.int64)


def _family(members: np.ndarray, weights: np.ndarray, in_cluster: np.ndarray, amp: float) -> Families:
    """Cumulative shares and successor links of ``members`` (sorted by cluster)."""
    cl = in_cluster[members]
    n = len(members)
    totals = np.bincount(cl, weights=weights, minlength=int(in_cluster.max()) + 1)
    share = weights / totals[cl]
    starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    cum = np.cumsum(share) - np.r_[0.0, np.cumsum(share)][first]
    last = np.r_[cl[1:] != cl[:-1], True]
    cum[last] = 1.0
    nxt = np.where(last, first, np.arange(n) + 1)
    min_share = np.minimum.reduceat(share, starts)
    return Families(members, cl, cum, nxt, first, amp * np.repeat(min_share, np.diff(np.r_[starts, n])))


def _families(rng: np.random.Generator, model: FleetModel) -> None:
    n_in = len(model.in_cluster)
    role, service = model.in_role, model.cl_service[model.in_cluster]
    shard = np.array([x.shard for x in model.inventory.instances])
    shard_w = 1.0 + 0.12 * rng.standard_normal(n_in).clip(-2, 2)
    # a hot shard (hot key) in a fifth of the clusters with two shards or more
    for c, cluster in enumerate(model.inventory.clusters):
        if cluster.shard_count >= 2 and cluster.service != "twemproxy" and rng.random() < 0.2:
            model.hot_shards[c] = int(rng.integers(cluster.shard_count))
    hot = np.array([model.hot_shards.get(int(c), -1) for c in model.in_cluster]) == shard
    # per-shard weight shared by master and slave
    key = model.in_cluster * 1024 + shard
    _, inverse = np.unique(key, return_inverse=True)
    w = shard_w[inverse]
    data = np.flatnonzero(role != 2)
    qps_w = np.where(hot, w * rng.uniform(3, 6), w) * np.where(role == 1, 0.1, 1.0)
    model.fam["qps"] = _family(data, qps_w[data], model.in_cluster, 0.2)
    proxies = np.flatnonzero(role == 2)
    if len(proxies):
        model.fam["proxy_qps"] = _family(proxies, shard_w[proxies], model.in_cluster, 0.2)
    model.fam["mem"] = _family(data, (model.in_mem_max * (1 + 0.02 * (w - 1)))[data], model.in_cluster, 0.01)
    conn_w = np.where(role == 1, 0.2, 1.0) * np.where(service == 2, np.where(role == 2, 1.0, 0.3), 1.0)
    model.fam["conns"] = _family(np.arange(n_in), conn_w * w, model.in_cluster, 0.15)


def _incidents(rng: np.random.Generator, model: FleetModel, stars: np.ndarray) -> None:
    n_cl = len(model.inventory.clusters)
    important = np.flatnonzero(stars[model.cl_business] >= 3)
    redis = np.flatnonzero(model.cl_service == 0)
    pick = np.intersect1d(important, redis)
    pick = pick if len(pick) >= 3 else np.arange(n_cl)
    creep, hitdrop, silent_cl = rng.choice(pick, size=3, replace=len(pick) < 3)
    model.creep_cluster, model.creep_start = int(creep), model.anchor - 3 * 86_400
    model.hitdrop_cluster, model.hitdrop_start = int(hitdrop), model.anchor - 6 * 3600
    members = np.flatnonzero((model.in_cluster == silent_cl) & (model.in_role == 0))
    model.silent_instance, model.silent_start = int(members[0]), model.anchor - 3 * 3600
