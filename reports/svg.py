"""Tiny inline SVG line charts for the printable reports (no JavaScript, no external files).

A report must open offline and print the same on paper, so its charts are static SVG built here:
lines, a shaded band, horizontal reference lines, axis ticks and a legend.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 120, 24, 30


@dataclass
class Chart:
    """One chart: add lines, a band and reference lines, then :meth:`render`."""

    title: str = ""
    x_label: str = ""
    y_unit: str = ""
    lines: list = field(default_factory=list)       # (label, xs, ys, colour, width, dash)
    bands: list = field(default_factory=list)       # (label, x0, x1, lo, hi, colour)
    refs: list = field(default_factory=list)        # (label, y, colour, dash)

    def line(self, label, xs, ys, colour="#2171b5", width=1.5, dash=""):
        pts = [(float(x), float(y)) for x, y in zip(xs, ys) if _finite(x) and _finite(y)]
        if pts:
            self.lines.append((label, pts, colour, width, dash))
        return self

    def band(self, label, x0, x1, lo, hi, colour="#f0a04b"):
        if all(_finite(v) for v in (x0, x1, lo, hi)):
            self.bands.append((label, float(x0), float(x1), float(lo), float(hi), colour))
        return self

    def ref(self, label, y, colour="#d32f2f", dash="6,3"):
        if _finite(y):
            self.refs.append((label, float(y), colour, dash))
        return self

    def render(self) -> str:
        xs = [x for _, pts, *_ in self.lines for x, _ in pts] + [v for b in self.bands for v in b[1:3]]
        ys = ([y for _, pts, *_ in self.lines for _, y in pts] + [v for b in self.bands for v in b[3:5]]
              + [r[1] for r in self.refs])
        if not xs or not ys:
            return f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}"><text x="10" y="30">no data</text></svg>'
        x0, x1 = min(xs), max(xs)
        y1 = _nice_top(max(ys))
        y0 = 0.0
        sx = lambda x: LEFT + (x - x0) / ((x1 - x0) or 1) * (WIDTH - LEFT - RIGHT)       # noqa: E731
        sy = lambda y: TOP + (1 - (y - y0) / ((y1 - y0) or 1)) * (HEIGHT - TOP - BOTTOM)  # noqa: E731
        out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
               f'role="img" aria-label="{escape(self.title)}">']
        out += self._axes(x0, x1, y1, sx, sy)
        for label, a, b, lo, hi, colour in self.bands:
            out.append(f'<rect x="{sx(a):.1f}" y="{sy(hi):.1f}" width="{max(sx(b) - sx(a), 1):.1f}" '
                       f'height="{max(sy(lo) - sy(hi), 1):.1f}" fill="{colour}" fill-opacity="0.35"/>')
        for label, y, colour, dash in self.refs:
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                       f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>')
        for label, pts, colour, width, dash in self.lines:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
                       f'stroke-dasharray="{dash}"/>')
        out += self._legend()
        out.append("</svg>")
        return "".join(out)

    def _axes(self, x0, x1, y1, sx, sy) -> list[str]:
        out = [f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#888"/>']
        for i in range(5):
            y = y1 * i / 4
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#eee"/>'
                       f'<text x="{LEFT - 4}" y="{sy(y) + 3:.1f}" text-anchor="end" class="tick">'
                       f'{escape(si(y))}</text>')
        for x in _x_ticks(x0, x1):
            out.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{sy(0):.1f}" y2="{sy(0) + 4:.1f}" stroke="#888"/>'
                       f'<text x="{sx(x):.1f}" y="{sy(0) + 15:.1f}" text-anchor="middle" class="tick">{x:+g}</text>')
        out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 2}" text-anchor="middle" class="tick">'
                   f'{escape(self.x_label)}</text>')
        if self.y_unit:
            out.append(f'<text x="4" y="{TOP - 2}" class="tick">{escape(self.y_unit)}</text>')
        return out

    def _legend(self) -> list[str]:
        items = ([(label, colour, "line", dash) for label, _, colour, _, dash in self.lines]
                 + [(label, colour, "band", "") for label, *_, colour in self.bands]
                 + [(label, colour, "line", dash) for label, _, colour, dash in self.refs])
        out, y = [], TOP + 4
        for label, colour, kind, dash in items[:12]:
            x = WIDTH - RIGHT + 8
            if kind == "band":
                out.append(f'<rect x="{x}" y="{y - 6}" width="14" height="8" fill="{colour}" fill-opacity="0.35"/>')
            else:
                out.append(f'<line x1="{x}" x2="{x + 14}" y1="{y - 2}" y2="{y - 2}" stroke="{colour}" '
                           f'stroke-width="2" stroke-dasharray="{dash}"/>')
            out.append(f'<text x="{x + 18}" y="{y + 1}" class="legend">{escape(str(label))[:18]}</text>')
            y += 14
        return out


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _nice_top(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def _x_ticks(x0: float, x1: float) -> list[float]:
    span = x1 - x0
    step = next((s for s in (1, 2, 6, 12, 24, 48, 168, 720) if span / s <= 8), 720)
    first = math.ceil(x0 / step) * step
    return [first + i * step for i in range(int((x1 - first) // step) + 1)]


def si(v: float) -> str:
    """1234567 -> '1.23M' (k, M, G, T)."""
    if not _finite(v):
        return "–"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"
