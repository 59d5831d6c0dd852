"""Small template helpers of the app's pages: navigation links, rounded numbers, a finished run's cached
fragments."""

from __future__ import annotations

import math
from functools import lru_cache

from django import template
from django.conf import settings
from django.core.cache import caches
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html

register = template.Library()


def _nav_href(url_name: str) -> str | None:
    """A top-bar link's address, reversed once per process, URL configuration and script prefix (the top bar
    draws a dozen on every page); None for an area not installed here."""
    return _reversed(url_name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@lru_cache(maxsize=256)
def _reversed(url_name: str, urlconf, prefix: str) -> str | None:
    try:
        return reverse(url_name, urlconf=urlconf)  # reverse() reads the same script prefix itself
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, exact: bool = False, unless: str = "") -> str:
    """A top-bar link, marked `aria-current="page"` on its own page (or below it, unless `exact`), but not
    below it on `unless`, a page with a top-bar link of its own (Launch, under Runs)."""
    href = _nav_href(url_name)
    if href is None:  # an area not installed here
        return ""
    request = context.get("request")
    path = getattr(request, "path", "")
    current = path == href or (not exact and href != "/" and path.startswith(href))
    if current and unless and path.startswith(_nav_href(unless) or "\0"):
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


RUN_PAGE_CACHE = "run_pages"


class RunFragmentNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name, self.nodelist = name, nodelist

    def render(self, context) -> str:
        key = context.get("page_cache_key")
        if not key:
            return self.nodelist.render(context)
        cache, full_key = caches[RUN_PAGE_CACHE], f"run-page:{key}:{self.name}"
        html = cache.get(full_key)
        if html is None:
            html = self.nodelist.render(context)
            cache.set(full_key, html, settings.RUN_PAGE_CACHE_SECONDS)
        return html


@register.tag
def run_fragment(parser, token):
    """``{% run_fragment "name" %}…{% endrun_fragment %}``: the body rendered once per finished run and kept in the
    ``run_pages`` cache under the context's ``page_cache_key`` (``training.selectors.run_page``); rendered every
    time when that key is None (a run still changing). The body must read only what that key fixes."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError("run_fragment takes one quoted name")
    nodelist = parser.parse(("endrun_fragment",))
    parser.delete_first_token()
    return RunFragmentNode(bits[1][1:-1], nodelist)
