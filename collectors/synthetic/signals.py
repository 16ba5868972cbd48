"""Vectorised, deterministic sample values of the synthetic fleet.

Every value is a pure function of (fleet model, series, timestamp): noise comes from a hash of
(seed, series, ts), never from a random stream, so any window can be generated on its own and two
halves of a window equal the whole.

Model, per cluster (``q`` traffic, ``m`` memory, ``c`` connections)::

    q(t) = peak qps at anchor x growth(t) x weekly(t) x shape(t) x noise(t)
    shape = diurnal (10:00 flash-sale and 21:00 evening peaks, Beijing time, daily max 1)
            with promotions: a pre-heat ramp, then at Beijing midnight a spike to ``lift`` x the
            normal daily peak decaying over about an hour, the rest of the day raised.
    m(t) = memory limit x utilisation (slow growth, saturating below the limit; creeps to the
           limit on the memory-creep cluster)

Instances split a cluster total by static shares (a hot shard carries 3..6x) plus a zero-sum
noise, rounded so that the integer instance values add up exactly to the rounded cluster value.
An instance has no values (NaN) before it joined the fleet (``FleetModel.in_added``).

The cluster-level ``reads`` and ``writes`` split the traffic by the cluster's read share ``f``
(constant per cluster): ``reads = round(q f)``, ``writes = round(q) - reads``, so they add up to
the traffic series exactly (hourly: min, avg and max each add up).

Public API::

    values(model, series, ts, out=None) -> array (len(series), len(ts)); NaN where an instance is
                                           silent or had not joined yet
    hourly(model, series, hours, sub=3) -> (vmin, vavg, vmax, count), each (len(series), len(hours))
    minutes(start, end, step=60)        -> aligned sample times
    shape, promotion_lift, promotion_year, cluster_state: the pieces, for truth.py and notebooks
"""
from __future__ import annotations

import numpy as np

from collectors.synthetic import calendar
from collectors.synthetic.fleet import METRIC_CODE, METRIC_NAMES, FleetModel, mix64

HOUR, DAY = 3600, 86_400
YEAR = 365.25 * DAY
BEIJING = 8 * HOUR            # Asia/Shanghai has had no daylight saving since 1991
SPIKE_TAU = 2400.0            # seconds: decay of the midnight spike
#: how much of a business's 11.11 lift each kind of promotion gets
KIND_FACTOR = {"11.11": 1.0, "12.12": 0.55, "6.18": 0.8, "4.19": 0.45}
KIND_SALT = {"11.11": 11, "12.12": 12, "6.18": 6, "4.19": 4}
# relative noise (slow: per hour, interpolated; fast: per sample) of each cluster total
SLOW = {"q": 0.05, "m": 0.004, "c": 0.03}
FAST = {"q": 0.02, "m": 0.0008, "c": 0.01}
SALT = {"q": 0x51, "m": 0x52, "c": 0x53}
U16 = 1.0 / 65536.0
SQRT3 = np.sqrt(3.0)


# ---- noise -------------------------------------------------------------------------------------

def _hash(keys: np.ndarray, ts: np.ndarray, salt: int = 0) -> np.ndarray:
    """uint64 hash per (key, ts): shape (len(keys), len(ts))."""
    t = ts.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    k = keys ^ np.uint64(salt * 0xC2B2AE3D27D4EB4F % (1 << 64))
    return mix64(k[:, None] ^ t[None, :])


def _field(h: np.ndarray, i: int) -> np.ndarray:
    """The i-th 16-bit field of a hash as a uniform in [0, 1)."""
    return ((h >> np.uint64(16 * i)) & np.uint64(0xFFFF)).astype(np.float64) * U16


def _std_uniform(h: np.ndarray, i: int = 0) -> np.ndarray:
    """Zero-mean, unit-variance uniform noise from a hash field."""
    return (_field(h, i) - 0.5) * (2 * SQRT3)


# ---- calendar shape -----------------------------------------------------------------------------

def _wrap(h: np.ndarray, centre: float) -> np.ndarray:
    return (h - centre + 12.0) % 24.0 - 12.0


def diurnal_parts(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(common curve, 10:00 flash-sale bump) at ``ts``; a business mixes in more flash sale."""
    h = ((ts + BEIJING) % DAY) / HOUR
    plateau = 1 / (1 + np.exp(-(h - 7.5))) / (1 + np.exp(-(23.6 - h) / 0.7))
    flash = np.exp(-0.5 * (_wrap(h, 10.0) / 0.45) ** 2)
    evening = np.exp(-0.5 * (_wrap(h, 21.0) / 1.4) ** 2)
    return 0.18 + 0.42 * plateau + 0.38 * flash + 0.40 * evening, flash


def _diurnal_norm(model: FleetModel) -> np.ndarray:
    """Per business, the daily maximum of its raw diurnal curve (so the curve peaks at 1)."""
    if "dnorm" not in model.cache:
        grid = np.arange(0, DAY, 60, dtype=np.int64)
        common, flash = diurnal_parts(grid)
        model.cache["dnorm"] = (common[None, :] + model.biz_flash[:, None] * flash[None, :]).max(axis=1)
    return model.cache["dnorm"]


def promotion_lift(model: FleetModel, business: np.ndarray, kind: str, year: int) -> np.ndarray:
    """Midnight-peak lift of qps over the normal daily peak, per business, for one promotion."""
    base = np.uint64((model.seed * 1_000_003 + KIND_SALT[kind] * 7919 + year) % (1 << 63))
    keys = mix64(np.asarray(business, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ base)
    z = (_field(keys, 0) + _field(keys, 1) + _field(keys, 2) - 1.5) * 2.0
    return 1.0 + (model.biz_lift[business] - 1.0) * KIND_FACTOR[kind] * np.exp(0.08 * z)


def promotion_year(p) -> int:
    """The calendar year (Beijing time) a promotion starts in."""
    return int(np.datetime64(int(p.start + BEIJING), "s").astype("datetime64[Y]").astype(int) + 1970)


def shape(model: FleetModel, business: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Traffic shape (normal daily peak = 1) per business row and ts, promotions included."""
    common, flash = diurnal_parts(ts)
    d = (common[None, :] + model.biz_flash[business][:, None] * flash[None, :]) \
        / _diurnal_norm(model)[business][:, None]
    if len(ts) == 0:
        return d
    lo, hi = int(ts.min()), int(ts.max()) + 1
    for p in calendar.promotions_between(lo, hi):
        lift = promotion_lift(model, business, p.kind, promotion_year(p))[:, None]
        pre_start = p.start - p.preheat_days * DAY
        cols = np.flatnonzero((ts >= pre_start) & (ts < p.end))
        t = ts[cols][None, :]
        sub = d[:, cols]
        ramp = np.clip((t - pre_start) / max(p.start - pre_start, 1), 0, 1) ** 2
        pre = 1 + 0.12 * (lift - 1) * ramp
        spike = np.exp(-np.maximum(t - p.start, 0) / SPIKE_TAU)
        during = sub * (1 + 0.25 * (lift - 1)) * (1 - spike) + lift * spike
        d[:, cols] = np.where(t < p.start, sub * pre, during)
    return d


# ---- cluster totals -----------------------------------------------------------------------------

def _levels(model: FleetModel, clusters: np.ndarray, knots: np.ndarray) -> dict[str, np.ndarray]:
    """Per cluster row and hour in ``knots`` (hour numbers): the slow part of q, m and c.

    Growth, the weekly cycle, memory utilisation (saturating; the creeping cluster heads for its
    limit) and the hourly noise knots; samples interpolate between consecutive hours (growth
    moves about 0.01 % in an hour).
    """
    b = model.cl_business[clusters]
    keys = model.cl_key[clusters]
    start = knots * HOUR
    log_g = np.log(model.biz_growth[b])[:, None] * ((start - model.anchor) / YEAR)[None, :]
    weekday = ((start + BEIJING) // DAY + 3) % 7          # 1970-01-01 was a Thursday
    weekly = 1 + model.biz_weekend[b][:, None] * (weekday >= 5)[None, :]
    u = model.cl_mem_util0[clusters][:, None] * np.exp(0.3 * log_g)
    u = np.where(u < 0.8, u, 0.8 + 0.1 * np.tanh((u - 0.8) / 0.1))
    creep = np.flatnonzero(clusters == model.creep_cluster)
    if creep.size:
        ramp = np.clip((start - model.creep_start) / (model.anchor - model.creep_start), 0, 1) ** 1.5
        u[creep] = u[creep] + (0.985 - u[creep]) * ramp
    level = {"q": model.cl_qps_base[clusters][:, None] * np.exp(log_g) * weekly,
             "m": model.cl_mem_max[clusters][:, None] * u,
             "c": model.cl_conn_base[clusters][:, None] * np.exp(0.5 * log_g)}
    return {kind: x * (1 + SLOW[kind] * _std_uniform(_hash(keys, knots, SALT[kind])))
            for kind, x in level.items()}


def _apply_shape(model: FleetModel, clusters: np.ndarray, kind: str, x: np.ndarray, s: np.ndarray) -> None:
    """Multiply a slow level by the traffic shape, in place (memory and connections follow it a little)."""
    if kind == "q":
        x *= s
    elif kind == "m":
        x *= 0.98 + 0.03 * np.minimum(s, 3)          # promotion data is cached too
        creep = np.flatnonzero(clusters == model.creep_cluster)
        if creep.size:
            x[creep] = np.minimum(x[creep], 0.992 * model.cl_mem_max[clusters[creep]][:, None])
    else:
        x *= 0.55 + 0.45 * np.minimum(s, 4)


def cluster_state(model: FleetModel, clusters: np.ndarray, ts: np.ndarray) -> dict:
    """Unrounded totals per cluster row and ts: ``q``, ``m``, ``c``, plus ``shape`` and ``ts``."""
    s = shape(model, model.cl_business[clusters], ts)
    knots = np.unique(np.concatenate([ts // HOUR, ts // HOUR + 1]))
    at = np.searchsorted(knots, ts // HOUR)
    frac = ((ts % HOUR) / HOUR)[None, :]
    keys = model.cl_key[clusters]
    out = {"shape": s, "ts": ts}
    for kind, knot in _levels(model, clusters, knots).items():
        x = knot[:, at]
        x += (knot[:, at + 1] - x) * frac
        x *= 1 + FAST[kind] * _std_uniform(_hash(keys, ts, SALT[kind] + 0x100))
        _apply_shape(model, clusters, kind, x, s)
        out[kind] = x
    return out


_CLUSTER_TOTAL = {"qps": "q", "proxy_qps": "q", "mem_used": "m", "conns": "c", "reads": "q", "writes": "q"}
_READ_WRITE = ("reads", "writes")


def _rounded(name: str, x: np.ndarray, share: np.ndarray | None, decimals: int = 0) -> np.ndarray:
    """A cluster total as its series keeps it; ``reads`` and ``writes`` add up to it exactly."""
    total = np.round(x, decimals)
    if name not in _READ_WRITE:
        return total
    reads = np.round(x * share, decimals)
    return reads if name == "reads" else np.round(total - reads, decimals)


def _cluster_values(model: FleetModel, series: np.ndarray, ts: np.ndarray) -> np.ndarray:
    clusters, row = np.unique(model.s_cluster[series], return_inverse=True)
    state = cluster_state(model, clusters, ts)
    out = np.empty((len(series), len(ts)))
    for code in np.unique(model.s_metric[series]):
        rows = np.flatnonzero(model.s_metric[series] == code)
        name = _name(code)
        r = row[rows]
        out[rows] = _rounded(name, state[_CLUSTER_TOTAL[name]][r], model.cl_read_share[clusters[r]][:, None])
    return out


def _name(code: int) -> str:
    return METRIC_NAMES[int(code)]


# ---- instances ---------------------------------------------------------------------------------

_FAMILIES = (("qps", "q", "q", 0), ("proxy_qps", "q", "q", 0), ("mem", "m", "mem", 1), ("conns", "c", "conns", 1))


def _split(model: FleetModel, state: dict, crow: np.ndarray, g: np.ndarray, pos: np.ndarray) -> dict:
    """Instance values of each family: exact integer split of the rounded cluster totals.

    Member k gets round(C_k) - round(C_k-1), with C_k the cumulative share of the total plus a
    telescoping noise term; the last member's C is the total, so the members add up exactly.
    """
    n_ts = g.shape[2]
    out = {"q": np.zeros((g.shape[1], n_ts)), "mem": np.zeros((g.shape[1], n_ts)),
           "conns": np.zeros((g.shape[1], n_ts))}
    for fam_name, total, target, field in _FAMILIES:
        fam = model.fam.get(fam_name)
        if fam is None:
            continue
        sel = np.flatnonzero(crow[fam.cluster] >= 0)
        if not sel.size:
            continue
        gf = g[field][pos[fam.inst[fam.first[sel]]]]
        gn = g[field][pos[fam.inst[fam.nxt[sel]]]]
        cum = np.round(state[total][crow[fam.cluster[sel]]]
                       * (fam.cum[sel][:, None] + fam.amp[sel][:, None] * (gf - gn)))
        prev = np.empty_like(cum)
        prev[1:] = cum[:-1]
        prev[fam.first[sel] == sel] = 0.0
        out[target][pos[fam.inst[sel]]] = cum - prev
    return out


def _instance_values(model: FleetModel, series: np.ndarray, ts: np.ndarray) -> np.ndarray:
    inst = model.s_instance[series]
    clusters = np.unique(model.in_cluster[inst])
    crow = np.full(len(model.cl_key), -1)
    crow[clusters] = np.arange(len(clusters))
    state = cluster_state(model, clusters, ts)
    needed = np.flatnonzero(crow[model.in_cluster] >= 0)      # every instance of those clusters
    pos = np.full(len(model.in_cluster), -1)
    pos[needed] = np.arange(len(needed))
    h = _hash(model.in_key[needed], ts)
    g = np.stack([_field(h, 0) - 0.5, _field(h, 1) - 0.5])
    split = _split(model, state, crow, g, pos)
    out = np.empty((len(series), len(ts)))
    codes = model.s_metric[series]
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        out[rows] = _metric(model, _name(code), needed, pos[inst[rows]], split, state, crow, h)
    if model.silent_instance >= 0:
        rows = np.flatnonzero(inst == model.silent_instance)
        out[np.ix_(rows, np.flatnonzero(ts >= model.silent_start))] = np.nan
    if len(ts):
        added = model.in_added[inst]
        rows = np.flatnonzero(added > ts.min())          # joined during (or after) the window
        if rows.size:
            out[rows] = np.where(ts[None, :] < added[rows][:, None], np.nan, out[rows])
    return out


def _metric(model, name, needed, p, split, state, crow, h) -> np.ndarray:
    """One metric for instance rows ``p`` (positions in ``needed``)."""
    inst = needed[p]
    cl = model.in_cluster[inst]
    row = crow[cl]
    q, mem = split["q"][p], split["mem"][p]
    if name in ("qps", "proxy_qps"):
        return q
    if name == "conns":
        return split["conns"][p]
    if name == "mem_used":
        return mem
    mem_max = model.in_mem_max[inst][:, None]
    util = mem / np.where(mem_max > 0, mem_max, 1.0)
    if name == "mem_max":
        return np.broadcast_to(mem_max, q.shape)
    if name == "mem_util":
        return np.round(util * 100, 2)
    if name == "repl_ok":
        return np.ones_like(q)
    hp = h[p]
    if name == "evictions":
        return np.round(np.where(util > 0.95, q * 0.05 * (util - 0.95) / 0.04, 0.0), 2)
    if name in ("net_in", "net_out"):
        per = (model.cl_bytes_in if name == "net_in" else model.cl_bytes_out)[cl][:, None]
        return np.round(q * per * (1 + 0.06 * (_field(hp, 2) - 0.5)))
    if name == "cpu":
        load = q / model.cl_qps_cap[cl][:, None]
        return np.round(np.clip(1.0 + 80.0 * load + 3.0 * (_field(hp, 2) - 0.5), 0, 100), 2)
    if name == "hit_ratio":
        hit = model.cl_hit0[cl][:, None] - 1.5 * (1 - np.minimum(state["shape"][row], 1)) \
            + 0.6 * (_field(hp, 3) - 0.5) - 8.0 * np.clip((util - 0.95) / 0.04, 0, 1)
        if model.hitdrop_cluster >= 0:
            ts = state["ts"]
            drop = 28.0 * np.clip((ts - model.hitdrop_start) / 1800.0, 0, 1)
            hit = hit - np.where((cl == model.hitdrop_cluster)[:, None], drop[None, :], 0.0)
        return np.round(np.clip(hit, 0, 100), 2)
    if name == "proxy_timeouts":
        load = q / model.cl_qps_cap[cl][:, None]
        return np.round(q * 1e-6 * (1 + 50 * np.maximum(load - 0.6, 0)) * 2 * _field(hp, 3), 2)
    if name == "server_ejects":
        return np.where(_field(hp >> np.uint64(7), 3) < 0.0003, 0.02, 0.0)
    raise ValueError(f"the synthetic fleet has no generator for metric {name!r}")


# ---- public API --------------------------------------------------------------------------------

def values(model: FleetModel, series=None, ts=None, out: np.ndarray | None = None,
           max_cells: int = 400_000) -> np.ndarray:
    """Sample values of ``series`` (indices into ``model.inventory.series``; None = all) at ``ts``.

    Work is done a few clusters at a time (about ``max_cells`` values) so temporaries stay in
    the allocator's reused memory; a caller generating every minute can pass the same ``out``.

    Args:
        series: series indices (see ``FleetModel.index`` for keys); None for every series.
        ts: UTC epoch seconds (any spacing; one value per series and ts).
        out: optional float64 array (len(series), len(ts)) to fill.
    Returns:
        float array (len(series), len(ts)); NaN where an instance is silent or had not joined
        yet (no data).
    """
    idx = np.arange(len(model.s_metric)) if series is None else np.asarray(series, dtype=np.int64)
    ts = np.atleast_1d(np.asarray(ts, dtype=np.int64))
    if out is None:
        out = np.empty((len(idx), len(ts)))
    inst = model.s_instance[idx]
    for rows, fn in ((np.flatnonzero(inst < 0), _cluster_values), (np.flatnonzero(inst >= 0), _instance_values)):
        for chunk in _by_cluster(model.s_cluster[idx[rows]], len(ts), max_cells):
            part = rows[chunk]
            target = slice(part[0], part[-1] + 1) if part[-1] - part[0] + 1 == len(part) \
                and (len(part) < 2 or bool(np.all(np.diff(part) == 1))) else part
            out[target] = fn(model, idx[part], ts)
    return out


def _by_cluster(clusters: np.ndarray, n_ts: int, max_cells: int) -> list[np.ndarray]:
    """Row positions grouped by whole clusters, about ``max_cells`` values per group."""
    if not len(clusters):
        return []
    order = np.argsort(clusters, kind="stable")
    sorted_cl = clusters[order]
    starts = np.flatnonzero(np.r_[True, sorted_cl[1:] != sorted_cl[:-1]])
    per = max(1, max_cells // max(1, n_ts))
    cuts = starts[np.r_[True, np.diff(starts // per) > 0]]
    return np.split(order, cuts[1:])


def minutes(start: int, end: int, step: int = 60) -> np.ndarray:
    """Sample times in [start, end) aligned on ``step`` seconds."""
    first = -(-int(start) // step) * step
    return np.arange(first, int(end), step, dtype=np.int64)


def hourly(model: FleetModel, series=None, hours=None, sub: int = 3,
           max_cells: int = 400_000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hourly rollups (min, avg, max, count) of ``series`` for the hours starting at ``hours``.

    The mean comes from ``sub`` midpoint samples, the extremes also from the hour's first and
    last minutes (so a promotion's midnight spike reaches ``max``). Cluster-level series use the
    smooth signal with the per-minute noise added analytically (cheap for years); instance series
    use noisy samples. ``count`` is the number of 1-minute samples the hour holds (60, fewer or 0
    when the instance is silent or had not joined; the other arrays are NaN when 0).

    Returns:
        four float arrays of shape (len(series), len(hours)).
    """
    idx = np.arange(len(model.s_metric)) if series is None else np.asarray(series, dtype=np.int64)
    hours = np.atleast_1d(np.asarray(hours, dtype=np.int64))
    inst = model.s_instance[idx]
    # ``sub`` midpoints (for the mean), then the hour's first and last minutes (for extremes)
    offsets = np.r_[(np.arange(sub) + 0.5) * HOUR / sub, 0, HOUR - 60].astype(np.int64)
    res = [np.empty((len(idx), len(hours))) for _ in range(4)]
    for rows, fn in ((np.flatnonzero(inst < 0), _cluster_hourly), (np.flatnonzero(inst >= 0), _instance_hourly)):
        if not rows.size:
            continue
        # cluster-level series are computed per cluster (three series share one)
        width = len(np.unique(model.s_cluster[idx[rows]])) if fn is _cluster_hourly else len(rows)
        step = max(1, max_cells // (width * len(offsets)))
        target = slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] + 1 == len(rows) else rows
        for lo in range(0, len(hours), step):
            h = hours[lo:lo + step]
            # sample-major: sample k of every hour is one contiguous block
            parts = fn(model, idx[rows], h, offsets)
            for r, part in zip(res, parts):
                if isinstance(target, slice):
                    r[target, lo:lo + step] = part
                else:
                    r[np.ix_(target, np.arange(lo, lo + len(h)))] = part
    return tuple(res)


def _blocks(x: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """min and max over the contiguous column blocks of ``x``; sum over the midpoint blocks."""
    n = x.shape[1] // n_blocks
    parts = [x[:, k * n:(k + 1) * n] for k in range(n_blocks)]
    lo, hi, total = parts[0].copy(), parts[0].copy(), parts[0].copy()
    for k, part in enumerate(parts[1:], start=1):
        np.minimum(lo, part, out=lo)
        np.maximum(hi, part, out=hi)
        if k < n_blocks - 2:
            total += part
    return lo, total, hi


def _cluster_hourly(model, series, hours, offsets):
    """Rollups from smooth samples (block k holds sample k of every hour)."""
    clusters, row = np.unique(model.s_cluster[series], return_inverse=True)
    n_h = len(hours)
    ts = (offsets[:, None] + hours[None, :]).ravel()
    s = shape(model, model.cl_business[clusters], ts)
    knots = np.unique(np.concatenate([hours // HOUR, hours // HOUR + 1]))
    at = np.searchsorted(knots, hours // HOUR)
    levels = _levels(model, clusters, knots)
    keys = model.cl_key[clusters]
    out = [np.empty((len(series), n_h)) for _ in range(4)]
    codes = model.s_metric[series]
    for kind in {_CLUSTER_TOTAL[_name(c)] for c in np.unique(codes)}:
        k0 = levels[kind][:, at]
        slope = levels[kind][:, at + 1] - k0
        vmin = vmax = total = None
        for k, off in enumerate(offsets):
            x = k0 + slope * (off / HOUR)
            _apply_shape(model, clusters, kind, x, s[:, k * n_h:(k + 1) * n_h])
            if total is None:
                vmin, vmax, total = x.copy(), x.copy(), x
                continue
            np.minimum(vmin, x, out=vmin)
            np.maximum(vmax, x, out=vmax)
            if k < len(offsets) - 2:
                total += x
        hsh = _hash(keys, hours, SALT[kind] + 0x200)
        f = FAST[kind]
        vmin *= 1 - f * (2.2 + 0.3 * _std_uniform(hsh, 0))
        vavg = total * ((1 + f / np.sqrt(60) * _std_uniform(hsh, 1)) / (len(offsets) - 2))
        vmax *= 1 + f * (2.2 + 0.3 * _std_uniform(hsh, 2))
        for name in (m for m, kd in _CLUSTER_TOTAL.items() if kd == kind):
            rows = np.flatnonzero(codes == METRIC_CODE[name])
            if not rows.size:
                continue
            r = row[rows]
            share = model.cl_read_share[clusters[r]][:, None]
            out[0][rows] = _rounded(name, vmin[r], share)
            out[1][rows] = _rounded(name, vavg[r], share, 2)
            out[2][rows] = _rounded(name, vmax[r], share)
            out[3][rows] = 60.0
    return out


def _instance_hourly(model, series, hours, offsets):
    """Rollups from noisy samples; ``count`` scales with the midpoint samples that have data."""
    nb, n_h = len(offsets), len(hours)
    x = values(model, series, (offsets[:, None] + hours[None, :]).ravel())
    ok = ~np.isnan(x)
    _, n_ok, _ = _blocks(ok.astype(np.float64), nb)
    count = np.round(60.0 * n_ok / (nb - 2))
    vmin, _, _ = _blocks(np.where(ok, x, np.inf), nb)
    _, _, vmax = _blocks(np.where(ok, x, -np.inf), nb)
    _, vavg, _ = _blocks(np.where(ok, x, 0.0), nb)
    vavg = vavg / np.maximum(n_ok, 1)
    empty = n_ok == 0
    vmin[empty] = vavg[empty] = vmax[empty] = np.nan
    return vmin, np.round(vavg, 4), vmax, count
