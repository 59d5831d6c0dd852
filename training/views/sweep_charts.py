"""Server-side SVG line charts of a sweep: a metric against the swept value on a log axis, one line per model,
the confidence band where there is one, the best point marked. Plain markup, no script (the pages run under a
Content Security Policy)."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 440, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 110, 24, 40
COLORS = {
    "ensemble": "#111827",
    "lightgbm": "#2563eb",
    "logreg": "#16a34a",
    "lstm": "#dc2626",
    "transformer": "#9333ea",
    "tabnet": "#ea580c",
}
FALLBACK_COLORS = ("#0891b2", "#be185d", "#65a30d", "#78716c")
MAX_VALUE_TICKS = 7
ZERO_LABEL = "0"


def _log_x(values: list[float]):
    """A mapping value → log10 position; 0 sits one decade left of the smallest positive value."""
    positive = [v for v in values if v > 0]
    floor = math.log10(min(positive)) - 1 if positive else 0.0
    return lambda v: math.log10(v) if v > 0 else floor


def _ticks_x(values: list[float], to_log) -> list[tuple[float, str]]:
    distinct = sorted(set(values))
    if len(distinct) <= MAX_VALUE_TICKS:
        return [(to_log(v), ZERO_LABEL if v == 0 else f"{v:g}") for v in distinct]
    positions = [to_log(v) for v in distinct]
    low, high = math.floor(min(positions)), math.ceil(max(positions))
    step = max(1, math.ceil((high - low) / MAX_VALUE_TICKS))
    return [(float(k), f"{10.0**k:g}") for k in range(low, high + 1, step)]


def _ticks_y(low: float, high: float, count: int = 4) -> list[float]:
    return [low + (high - low) * i / count for i in range(count + 1)]


def color_of(model: str, index: int) -> str:
    return COLORS.get(model) or FALLBACK_COLORS[index % len(FALLBACK_COLORS)]


def line_chart(
    series: dict[str, list[dict]], *, y_key: str, title: str, x_label: str, y_label: str, best_x=None, band_key=""
) -> SafeString:
    """``series``: model → points ``{"x": value, y_key: number, band_key: [low, high] | None}``."""
    points = {m: [p for p in pts if p.get(y_key) is not None] for m, pts in series.items()}
    points = {m: pts for m, pts in points.items() if pts}
    xs = [p["x"] for pts in points.values() for p in pts]
    if not xs:
        return mark_safe(f'<p class="muted">{escape(title)}: no value yet.</p>')
    ys = [p[y_key] for pts in points.values() for p in pts]
    ys += [b for pts in points.values() for p in pts for b in (p.get(band_key) or []) if band_key]
    to_log = _log_x(xs + ([best_x] if best_x is not None else []))
    x_lo, x_hi = min(map(to_log, xs)), max(map(to_log, xs))
    if x_hi - x_lo < 1e-12:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    y_lo, y_hi = min(ys), max(ys)
    pad = (y_hi - y_lo) * 0.08 or abs(y_hi) * 0.05 or 0.05
    y_lo, y_hi = y_lo - pad, y_hi + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(v: float) -> float:
        return LEFT + (to_log(v) - x_lo) / (x_hi - x_lo) * plot_w

    def px_log(position: float) -> float:
        return LEFT + (position - x_lo) / (x_hi - x_lo) * plot_w

    def py(v: float) -> float:
        return TOP + (y_hi - v) / (y_hi - y_lo) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sweep-chart" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#d1d5db"/>',
    ]
    for position, label in _ticks_x(xs, to_log):
        if x_lo - 1e-9 <= position <= x_hi + 1e-9:
            x = px_log(position)
            parts.append(
                f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" stroke="#6b7280"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" font-size="10" text-anchor="middle">{escape(label)}</text>'
            )
    for value in _ticks_y(y_lo, y_hi):
        y = py(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#f3f4f6"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{value:.3f}</text>')
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" font-size="11" text-anchor="middle">'
        f"{escape(x_label)} (log scale)</text>"
    )
    parts.append(
        f'<text x="12" y="{TOP + plot_h / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2})">{escape(y_label)}</text>'
    )
    if best_x is not None:
        x = px(best_x)
        parts.append(
            f'<line class="best" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#f59e0b" '
            'stroke-width="2" stroke-dasharray="5 3"/>'
        )
        parts.append(f'<text x="{x + 3:.1f}" y="{TOP + 11}" font-size="10" fill="#b45309">best</text>')
    for index, (model, pts) in enumerate(sorted(points.items())):
        color = color_of(model, index)
        pts = sorted(pts, key=lambda p: to_log(p["x"]))
        banded = [p for p in pts if band_key and p.get(band_key)]
        if len(banded) >= 2:
            upper = " ".join(f"{px(p['x']):.1f},{py(p[band_key][1]):.1f}" for p in banded)
            lower = " ".join(f"{px(p['x']):.1f},{py(p[band_key][0]):.1f}" for p in reversed(banded))
            parts.append(f'<polygon class="band" points="{upper} {lower}" fill="{color}" fill-opacity="0.12"/>')
        for p in banded if len(banded) < 2 else []:
            x, (low, high) = px(p["x"]), p[band_key]
            parts.append(f'<line x1="{x:.1f}" y1="{py(low):.1f}" x2="{x:.1f}" y2="{py(high):.1f}" stroke="{color}"/>')
        path = " ".join(f"{px(p['x']):.1f},{py(p[y_key]):.1f}" for p in pts)
        width = 2.5 if model == "ensemble" else 1.5
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"/>')
        for p in pts:
            is_best = best_x is not None and p["x"] == best_x
            ring = ' class="best-point" stroke="#f59e0b" stroke-width="2"' if is_best else ""
            parts.append(
                f'<circle cx="{px(p["x"]):.1f}" cy="{py(p[y_key]):.1f}" r="{4.5 if is_best else 2.5}" fill="{color}"'
                f"{ring}>"
                f"<title>{escape(model)}: {escape(x_label)}={p['x']:g} → {p[y_key]:.4f}</title></circle>"
            )
        legend_y = TOP + 12 + index * 14
        parts.append(
            f'<line x1="{WIDTH - RIGHT + 10}" y1="{legend_y - 4}" x2="{WIDTH - RIGHT + 26}" y2="{legend_y - 4}" '
            f'stroke="{color}" stroke-width="{width}"/>'
        )
        parts.append(f'<text x="{WIDTH - RIGHT + 30}" y="{legend_y}" font-size="10">{escape(model)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def sweep_chart_pairs(charts: list[dict]) -> list[dict]:
    """For each (param, regime) curve set: the validation log loss chart and the train−validation gap chart."""
    out = []
    for chart in charts:
        title = f"{chart['regime']}"
        out.append(
            {
                **chart,
                "loss_svg": line_chart(
                    chart["series"],
                    y_key="validation_log_loss",
                    band_key="band",
                    title=f"{title}: validation log loss",
                    x_label=chart["param"],
                    y_label="log loss",
                    best_x=chart["best_x"],
                ),
                "gap_svg": line_chart(
                    chart["series"],
                    y_key="gap",
                    title=f"{title}: validation − train log loss",
                    x_label=chart["param"],
                    y_label="gap",
                    best_x=chart["best_x"],
                ),
            }
        )
    return out
