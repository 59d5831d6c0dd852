"""Server-side SVG of a PBO record (``selectors.trading.runs_pbo``): the performance degradation (each CSCV split's
in-sample best, its in-sample against its out-of-sample Sharpe) and the logit histogram. Plain markup, no script,
like the sweep pages once drew their curves."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 360, 240, 44


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def degradation_svg(pbo: dict) -> SafeString:
    points = (pbo.get("degradation") or {}).get("points") or []
    if not points:
        return mark_safe("")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys + [0.0]), max(ys + [0.0])
    sx, sy = _scale(lo_x, hi_x, PAD, WIDTH - 12), _scale(lo_y, hi_y, HEIGHT - PAD, 12)
    dots = "".join(
        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="1.6" fill="#1f5fbf" opacity="0.5"/>' for x, y in points
    )
    zero = f'<line x1="{PAD}" x2="{WIDTH - 12}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#c0392b" stroke-dasharray="4 3"/>'
    labels = (
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11">in-sample Sharpe per bar '
        f"({lo_x:.3f} … {hi_x:.3f})</text>"
        f'<text x="12" y="{HEIGHT / 2}" font-size="11" transform="rotate(-90 12 {HEIGHT / 2})" text-anchor="middle">'
        f"out-of-sample ({lo_y:.3f} … {hi_y:.3f})</text>"
    )
    title = escape(f"Degradation over {pbo.get('splits')} CSCV splits")
    return mark_safe(
        f'<svg class="pbo-degradation" role="img" aria-label="{title}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}"><title>{title}</title>{zero}{dots}{labels}</svg>'
    )


def logit_svg(pbo: dict) -> SafeString:
    hist = pbo.get("logit_histogram") or {}
    counts, edges = hist.get("counts") or [], hist.get("edges") or []
    if not counts:
        return mark_safe("")
    top = max(counts) or 1
    width = (WIDTH - 2 * PAD) / len(counts)
    bars = "".join(
        f'<rect x="{PAD + i * width:.1f}" y="{HEIGHT - PAD - c / top * (HEIGHT - PAD - 12):.1f}" '
        f'width="{width - 1:.1f}" height="{c / top * (HEIGHT - PAD - 12):.1f}" '
        f'fill="{"#c0392b" if edges[i + 1] <= 0 else "#1b7f3b"}"><title>{edges[i]:.2f} … {edges[i + 1]:.2f}: {c}</title></rect>'
        for i, c in enumerate(counts)
    )
    label = f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11">logit λ ({edges[0]:.1f} … {edges[-1]:.1f}); red: λ ≤ 0</text>'
    return mark_safe(
        f'<svg class="pbo-logits" role="img" aria-label="Logit distribution" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}"><title>Logit distribution</title>{bars}{label}</svg>'
    )


def pbo_context(pbo: dict) -> dict:
    return {**pbo, "degradation_svg": degradation_svg(pbo), "logit_svg": logit_svg(pbo)}
