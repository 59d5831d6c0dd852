"""The run list's bounded counting: past the cap the count stops and pages stay reachable."""

import pytest
from django.urls import reverse

from training.models import TrainingRun
from training.pagination import BoundedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(profile):
    TrainingRun.objects.bulk_create([TrainingRun(symbol="BTCUSDT", profile=profile, snapshot={}) for _ in range(30)])
    return TrainingRun.objects.order_by("-created_at", "-id")


def test_below_the_cap_it_counts_exactly(runs):
    paginator = BoundedCountPaginator(runs, 10, cap=100)
    assert paginator.count == 30 and not paginator.capped and paginator.num_pages == 3


@pytest.mark.parametrize(
    "number,expected,rows,more",
    [(None, 1, 10, True), ("abc", 1, 10, True), ("2", 2, 10, True), ("3", 3, 10, False), ("99", 99, 0, False)],
)
def test_past_the_cap_pages_are_served_without_counting(runs, number, expected, rows, more):
    paginator = BoundedCountPaginator(runs, 10, cap=12)
    assert paginator.capped and paginator.count == 13
    page = paginator.get_page(number)
    assert (page.number, len(page), page.has_next()) == (expected, rows, more)
    if rows:
        assert page[0].pk == runs[(expected - 1) * 10].pk


def test_the_list_says_more_than_the_cap(launcher_client, runs, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator.__init__, "__kwdefaults__", {"cap": 12})
    page = launcher_client.get(reverse("training:run_list") + "?page=1").content.decode()
    assert "page 1 (more than 12 runs)" in page and "older →" in page
