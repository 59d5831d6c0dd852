"""Crontab messages a person can act on, the description in words and the next fire times (Celery's semantics)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from training.services.crontabs import crontab_check, crontab_next_fires, crontab_preview

AFTER = datetime(2026, 12, 2, 1, 7, tzinfo=UTC)  # a Wednesday


def test_next_five_fire_times_follow_the_fields():
    assert crontab_next_fires("0 3 * * *", after=AFTER) == [
        datetime(2026, 12, d, 3, 0, tzinfo=UTC) for d in range(2, 7)
    ]
    weekdays = crontab_next_fires("30 9 * * 1-5", after=datetime(2026, 12, 4, 10, tzinfo=UTC))  # a Friday
    assert [f.strftime("%a %d") for f in weekdays] == ["Mon 07", "Tue 08", "Wed 09", "Thu 10", "Fri 11"]
    assert crontab_next_fires("*/15 * * * *", after=AFTER, count=2) == [
        datetime(2026, 12, 2, 1, 15, tzinfo=UTC),
        datetime(2026, 12, 2, 1, 30, tzinfo=UTC),
    ]
    # Celery needs both day fields to match: the 1st of a month that is a Saturday
    assert [f.date().isoformat() for f in crontab_next_fires("0 0 1 * sat", after=AFTER, count=2)] == [
        "2027-05-01",
        "2028-01-01",
    ]


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 25 * * *", "The hour field '25' is not valid: use 0–23"),
        ("61 * * * *", "The minute field '61' is not valid: use 0–59"),
        ("0 0 * * 9", "The day of week field '9' is not valid: use 0–6"),
        ("* * *", "A crontab has 5 fields separated by spaces"),
        ("0 0 31 2 *", "'0 0 31 2 *' never fires"),
    ],
)
def test_a_bad_crontab_says_which_field_and_what_it_may_be(expression, words):
    with pytest.raises(ValidationError) as exc:
        crontab_check(expression)
    assert any(words in m for m in exc.value.messages), exc.value.messages
    assert crontab_preview(expression)["ok"] is False


def test_the_preview_describes_in_words():
    preview = crontab_preview("0 3 * * 1-5", after=AFTER)
    assert preview["description"] == "At 03:00, Monday through Friday (UTC)"
    assert preview["next"][0] == "2026-12-02 03:00 UTC (Wed)" and len(preview["next"]) == 5
