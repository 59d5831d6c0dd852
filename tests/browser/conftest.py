import pytest


@pytest.fixture(autouse=True)
def allow_database_calls_beside_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django refuses database calls from a thread
    with a running loop unless told it is safe (the test, not a request, makes them)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
