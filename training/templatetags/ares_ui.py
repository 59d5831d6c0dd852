"""Small template helpers of the app's pages: navigation links, rounded numbers."""

from __future__ import annotations

import math

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, exact: bool = False, unless: str = "") -> str:
    """A top-bar link, marked `aria-current="page"` on its own page (or below it, unless `exact`), but not
    below it on `unless`, a page with a top-bar link of its own (Launch, under Runs)."""
    try:
        href = reverse(url_name)
    except NoReverseMatch:  # an area not installed here
        return ""
    request = context.get("request")
    path = getattr(request, "path", "")
    current = path == href or (not exact and href != "/" and path.startswith(href))
    if current and unless and path.startswith(reverse(unless)):
        current = False
    if current:
        return format_html('<li><a href="{}" aria-current="page">{}</a></li>', href, label)
    return format_html('<li><a href="{}">{}</a></li>', href, label)


@register.filter
def num(value, digits: int = 3):
    """A number rounded to `digits` significant decimals for display; "—" when absent or not finite."""
    if value is None or isinstance(value, bool):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if not math.isfinite(number):
        return "—"
    if number != 0 and abs(number) < 10 ** (-int(digits)):
        return f"{number:.{int(digits)}g}"
    return f"{number:.{int(digits)}f}"


@register.filter
def delta(value, digits: int = 3):
    """A signed difference ("+0.012", "−0.030"); empty when absent or zero."""
    if value is None or isinstance(value, bool):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number) or round(number, int(digits)) == 0:
        return "±0" if math.isfinite(number) else ""
    sign = "+" if number > 0 else "−"
    return f"{sign}{abs(number):.{int(digits)}f}"
