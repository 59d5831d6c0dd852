"""Typing in the profile admin in chromium: a value that does not parse ("1e", "abc") turns the live report to one
error for that field, saving refuses it on the field with the badge still "error", and nothing is stored."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.runs_helpers import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-pw-123"
FIELD = "input[name=tensorflow_dropout_rate]"


@pytest.mark.parametrize("typed", ["1e", "abc"])
def test_a_value_that_does_not_parse_is_a_field_error_live_and_on_save(live_server, typed):
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    profile = make_profile("baseline", is_default=True, tensorflow_dropout_rate=0.3)
    url = live_server.url
    with chromium_page() as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/admin/training/regularizationprofile/{profile.pk}/change/")
        page.fill(FIELD, "")
        page.locator(FIELD).press_sequentially(typed)  # keystrokes, as a user types them
        assert page.input_value(FIELD) == typed
        page.wait_for_function("() => document.getElementById('report-status').textContent === 'error'")
        live = page.locator("#report-errors li").all_inner_texts()
        assert live == ["Keras / TensorFlow (LSTM, Transformer) dropout_rate: Enter a number."], live
        shot(page, f"desktop-profile_unparsed_{typed}_live")
        page.click("input[name=_continue]")
        page.wait_for_selector(".errornote")
        assert "Changed successfully" not in page.content() and "changed successfully" not in page.content()
        assert page.input_value(FIELD) == typed  # what was typed is still there to correct
        assert page.locator(".field-tensorflow_dropout_rate .errorlist").inner_text() == "Enter a number."
        assert page.inner_text("#report-status") == "error"
        assert page.locator("#report-errors li").all_inner_texts() == live
        assert problems(page) == []
        shot(page, f"desktop-profile_unparsed_{typed}_saved")
    profile.refresh_from_db()
    assert profile.tensorflow_dropout_rate == 0.3 and profile.history.count() == 1
