"""Charts the service draws itself: bar and line charts as inline SVG, made on the server.

No script and no third-party code: a chart is markup the page carries (``Markup``), every text
in it escaped (``markupsafe.escape``: an area's name comes from the town's layers), its axes
labelled, a visible caption (``figcaption``) and a ``<title>`` on every bar and point, so that
a screen reader (and a hovering mouse) reads each figure. A group the privacy rules hide (``None``) is drawn as a short grey
mark at the baseline titled with what the page writes instead of a number ("< k"), never with
a height that would tell the count.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 60, 12, 28, 52   # room for the y ticks, the legend, the x labels and axis name
MAX_X_LABELS = 13                           # more bars than this: every n-th label only
HIDDEN_MARK_PX = 3
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


@dataclass(frozen=True)
class Point:
    """One bar or point: its x label, its value (None: hidden) and the value as the reader reads it."""

    label: str
    value: float | None
    shown: str


@dataclass(frozen=True)
class Series:
    """A line of a line chart: its name (the legend) and its points, one per x label."""

    name: str
    points: Sequence[Point]


def _plain(value: float) -> str:
    return f"{value:g}"


def scale(top: float) -> tuple[float, float]:
    """A round step of the y axis and the axis' top (a multiple of it) for values up to ``top``."""
    if top <= 0:
        return 1.0, 1.0
    rough = top / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return step, math.ceil(top / step - 1e-9) * step


def _open(chart_id: str, caption: str) -> list[str]:
    """The chart's figure, caption and SVG element, named by ``caption`` for a screen reader."""
    return [f'<figure class="chart"><figcaption>{escape(caption)}</figcaption>',
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-labelledby="{escape(chart_id)}-title">',
            f'<title id="{escape(chart_id)}-title">{escape(caption)}</title>']


def _axes(top: float, step: float, tick: Callable[[float], str], x_label: str, y_label: str) -> list[str]:
    """The y axis with its ticks and grid, the x axis, and both axes' names."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts = ['<g class="axis y" font-size="11" fill="#333">']
    for k in range(int(round(top / step)) + 1):
        value = k * step
        y = TOP + plot_h - plot_h * value / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(tick(value))}</text>')
    parts.append(f'<text class="axis-name" transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle">{escape(y_label)}</text></g>')
    parts.append(f'<line class="axis x" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="#333"/><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#333"/>'
                 f'<text class="axis-name" x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.1f}" y="{HEIGHT - 6}" '
                 f'font-size="11" text-anchor="middle">{escape(x_label)}</text>')
    return parts


def _x_labels(labels: Sequence[str], centre: Callable[[int], float]) -> list[str]:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    y = HEIGHT - BOTTOM + 14
    return ['<g class="axis x-labels" font-size="10" fill="#333" text-anchor="middle">',
            *(f'<text x="{centre(i):.1f}" y="{y}">{escape(label)}</text>'
              for i, label in enumerate(labels) if i % every == 0),
            '</g>']


def bar_chart(points: Sequence[Point], *, chart_id: str, caption: str, x_label: str, y_label: str,
              tick: Callable[[float], str] = _plain) -> Markup:
    """A bar per point, hidden ones as a grey mark at the baseline; escaped SVG markup."""
    step, top = scale(max((p.value for p in points if p.value is not None), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    parts = _open(chart_id, caption) + _axes(top, step, tick, x_label, y_label) + ['<g class="bars">']
    for i, p in enumerate(points):
        if p.value is None:
            height, attrs = HIDDEN_MARK_PX, 'class="bar hidden" fill="#bbb"'
        else:
            height, attrs = plot_h * p.value / top, f'class="bar" fill="{COLOURS[0]}" data-value="{p.value:g}"'
        parts.append(f'<rect {attrs} data-label="{escape(p.label)}" x="{LEFT + i * slot + slot * 0.1:.1f}" '
                     f'y="{TOP + plot_h - height:.1f}" width="{max(slot * 0.8, 1):.1f}" height="{height:.1f}">'
                     f'<title>{escape(p.label)}: {escape(p.shown)}</title></rect>')
    parts.append('</g>')
    parts += _x_labels([p.label for p in points], lambda i: LEFT + (i + 0.5) * slot)
    parts.append('</svg></figure>')
    return Markup("".join(parts))


def line_chart(series: Sequence[Series], *, chart_id: str, caption: str, x_label: str, y_label: str,
               tick: Callable[[float], str] = _plain) -> Markup:
    """A line per series over the same x labels, broken where a value is hidden; escaped SVG markup."""
    labels = [p.label for p in series[0].points] if series else []
    step, top = scale(max((p.value for s in series for p in s.points if p.value is not None), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts = _open(chart_id, caption) + _axes(top, step, tick, x_label, y_label)
    for n, s in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        parts.append(f'<g class="series" data-series="{escape(s.name)}">')
        run: list[str] = []
        for i, p in enumerate([*s.points, None]):
            if p is not None and p.value is not None:
                run.append(f"{LEFT + (i + 0.5) * slot:.1f},{TOP + plot_h - plot_h * p.value / top:.1f}")
                continue
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
            run = []
        for i, p in enumerate(s.points):
            x = LEFT + (i + 0.5) * slot
            if p.value is None:
                mark = f'<circle class="point hidden" cx="{x:.1f}" cy="{TOP + plot_h:.1f}" r="2" fill="#bbb">'
            else:
                mark = (f'<circle class="point" data-value="{p.value:g}" cx="{x:.1f}" '
                        f'cy="{TOP + plot_h - plot_h * p.value / top:.1f}" r="3.5" fill="{colour}">')
            parts.append(f'{mark}<title>{escape(s.name)}, {escape(p.label)}: {escape(p.shown)}</title></circle>')
        parts.append(f'<rect x="{LEFT + 8 + 150 * n}" y="8" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{LEFT + 24 + 150 * n}" y="18" font-size="11">{escape(s.name)}</text></g>')
    parts += _x_labels(labels, lambda i: LEFT + (i + 0.5) * slot)
    parts.append('</svg></figure>')
    return Markup("".join(parts))
