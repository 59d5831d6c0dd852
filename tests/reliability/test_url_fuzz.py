"""Property-based fuzz of every URL pattern: hostile path and query values never give a 5xx.

The patterns come from walking the URL resolver, so a pattern added later is fuzzed without editing this file.
Each path parameter gets either a value its converter or regex accepts (so real objects are reached) or a
hostile one (overflowing integers, NUL bytes, non-numeric ids, traversal, long strings); each request carries
hostile query values under the keys the app reads plus the admin's own (huge lists included)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.training.runs_helpers import make_dataset, make_finished_run, make_profile

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
# Deliberate 5xx answers: the readiness probe says 503 when Redis or the worker is not there.
ALLOWED_5XX = {"healthz": {503}}
ADMIN_QUERY_KEYS = ("p", "o", "q", "e", "all", "_popup", "_to_field", "_changelist_filters", "next", "status__exact")
EXAMPLES_PER_PATTERN = 12
ROUTE_CONVERTER_REGEX = {"int": r"[0-9]{1,4}", "str": r"[a-z0-9]{1,8}", "path": r"[a-z0-9/]{1,12}", "slug": r"[a-z-]+"}


@dataclass(frozen=True)
class Param:
    name: str
    regex: str


@dataclass(frozen=True)
class Pattern:
    """A URL pattern flattened to literal text and parameters, e.g. ["runs/", Param(run_id), "/"]."""

    parts: tuple
    name: str

    @property
    def label(self) -> str:
        return "".join(p if isinstance(p, str) else f"<{p.name}>" for p in self.parts) or "/"


def _route_parts(route: str) -> list:
    parts: list = []
    pos = 0
    for match in re.finditer(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>", route):
        parts.append(route[pos : match.start()])
        parts.append(Param(match["name"], ROUTE_CONVERTER_REGEX.get(match["conv"] or "str", r"[a-z0-9]{1,8}")))
        pos = match.end()
    parts.append(route[pos:])
    return parts


def _regex_parts(regex: str) -> list:
    """Split a URL regex into literal text and its top-level groups (named or not)."""
    regex = regex.removeprefix("^").removesuffix("$")
    parts: list = []
    literal, depth, group, index = "", 0, "", 0
    for char in regex:
        if depth == 0 and char != "(":
            literal += char
            continue
        if char == "(":
            depth += 1
            if depth == 1:
                parts.append(re.sub(r"\\(.)", r"\1", literal))
                literal, group = "", ""
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                named = re.match(r"\?P<(\w+)>(.*)", group, re.S)
                index += 1
                parts.append(Param(named[1], named[2]) if named else Param(f"group{index}", group))
                continue
        group += char
    parts.append(re.sub(r"\\(.)", r"\1", literal))
    return parts


def url_patterns(resolver: URLResolver | None = None, prefix: tuple = ()) -> list[Pattern]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            parts = _route_parts(str(pattern))
        elif isinstance(pattern, RegexPattern):
            parts = _regex_parts(pattern.regex.pattern)
        else:  # pragma: no cover - LocalePrefixPattern is not used
            raise AssertionError(f"unknown pattern type {pattern!r}")
        if isinstance(entry, URLResolver):
            found += url_patterns(entry, prefix + tuple(parts))
        elif isinstance(entry, URLPattern):
            found.append(Pattern(parts=tuple(p for p in prefix + tuple(parts) if p != ""), name=entry.name or ""))
    return found


def query_keys_read_by_the_app() -> list[str]:
    """Every key the app's own code reads from request.GET, found in its source."""
    keys = set()
    for path in (REPO_ROOT / "training").rglob("*.py"):
        keys.update(re.findall(r"GET\.(?:get|getlist)\(\s*[\"'](\w+)[\"']", path.read_text()))
    return sorted(keys)


PATTERNS = url_patterns()
QUERY_KEYS = sorted(set(query_keys_read_by_the_app()) | set(ADMIN_QUERY_KEYS))

overflowing_ints = st.one_of(
    st.integers(min_value=2**31, max_value=10**40), st.integers(min_value=-(10**40), max_value=-1)
).map(str)
safe_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
hostile = st.one_of(
    overflowing_ints,
    st.sampled_from(["abc", "\x00", "1\x00", "%00", "../../etc/passwd", "..", " ", "1.5", "1e9", "-0", "0x10", "٣"]),
    st.just("9" * 400),
    safe_text,
)
huge_lists = st.one_of(
    st.just(",".join(str(i) for i in range(5000))),
    st.lists(overflowing_ints, min_size=2, max_size=5).map(",".join),
)


@st.composite
def requests_for(draw, pattern: Pattern) -> str:
    path = ""
    for part in pattern.parts:
        if isinstance(part, str):
            path += part
            continue
        value = draw(st.one_of(st.from_regex(part.regex, fullmatch=True), hostile, st.sampled_from(["1", "2"])))
        path += quote(value, safe="")
    keys = draw(st.lists(st.sampled_from(QUERY_KEYS), max_size=4))
    pairs = [(key, draw(st.one_of(hostile, huge_lists))) for key in keys]
    if draw(st.booleans()):
        pairs += [("ids", str(i)) for i in range(draw(st.sampled_from([2, 3, 1500])))]
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    return "/" + path + ("?" + query if query else "")


@pytest.fixture(autouse=True)
def short_worker_broadcast():
    """The workers pages wait for replies from workers; none runs here, and the fuzz needs the answer, not the wait."""
    with override_settings(WORKER_INSPECT_TIMEOUT_SECONDS=0.05):
        yield


@pytest.fixture
def stored_objects(tiny_result):
    profile = make_profile("baseline", is_default=True)
    dataset = make_dataset(rows=900)  # enough for the runs' preset (tiny, 897); the fuzz needs rows, not history
    make_finished_run(profile, dataset, result=tiny_result)
    make_finished_run(profile, dataset, result=tiny_result, status="failed")


@pytest.fixture(params=["superuser", "anonymous"])
def fuzz_client(request, stored_objects):
    client = Client()
    if request.param == "superuser":
        client.force_login(User.objects.create_superuser("fuzz-admin", "fuzz@example.com", "fuzz-pw-123"))
    return client


def assert_no_server_error(client: Client, pattern: Pattern, url: str) -> None:
    response = client.get(url)
    allowed = ALLOWED_5XX.get(pattern.name, set())
    assert response.status_code < 500 or response.status_code in allowed, f"{url[:300]} → {response.status_code}"


def test_the_walk_covers_the_app_and_the_admin():
    labels = {p.label for p in PATTERNS}
    assert {"runs/<run_id>/files/<name>", "admin/training/regularizationprofile/<object_id>/report.json"} <= labels
    assert {"profile", "ids", "page"} <= set(QUERY_KEYS)


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.name not in ALLOWED_5XX], ids=lambda p: p.label)
def test_hostile_path_and_query_values_never_give_a_server_error(fuzz_client, pattern):
    @settings(
        max_examples=EXAMPLES_PER_PATTERN,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(url=requests_for(pattern))
    def check(url):
        assert_no_server_error(fuzz_client, pattern, url)

    check()


@pytest.mark.parametrize(
    "url",
    [
        "/runs/?profile=99999999999999999999999",
        "/runs/?profile=-5&page=99999999999999999999999",
        "/runs/1/files/%00",
        "/runs/1/files/a%00b.png",
        "/runs/99999999999999999999999/",
        "/api/runs/99999999999999999999999/",
        "/runs/compare/?ids=99999999999999999999999,1",
        "/runs/compare/?ids=1,2",
        "/admin/training/regularizationprofile/abc/report.json",
        "/admin/training/regularizationprofile/99999999999999999999999/report.json",
        "/admin/training/trainingrun/99999999999999999999999/change/",
        "/admin/training/trainingrun/?id__exact=99999999999999999999999",
        "/admin/training/trainingrun/1/delete/?_to_field=",
        "/runs/?" + "&".join(f"ids={i}" for i in range(3000)),
    ],
)
def test_inputs_that_gave_500s_now_answer_400_or_404(url, stored_objects):
    client = Client()
    client.force_login(User.objects.create_superuser("fuzz-admin", "fuzz@example.com", "fuzz-pw-123"))
    response = client.get(url)
    assert response.status_code in (200, 302, 400, 404), f"{url[:200]} → {response.status_code}"


def test_printable_query_keys_are_fuzzed():
    assert all(set(key) <= set(string.ascii_letters + string.digits + "_") for key in QUERY_KEYS)
