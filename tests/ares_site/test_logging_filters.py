import logging

from django.conf import settings
from django.test import RequestFactory

from ares_site.logging_filters import ReadinessProbeFilter


def record_for(path: str, status: int) -> logging.LogRecord:
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Service Unavailable: %s", (path,), None)
    record.request = RequestFactory().get(path)
    record.status_code = status
    return record


def test_a_503_from_the_readiness_probe_is_not_logged_but_other_errors_are():
    keep = ReadinessProbeFilter().filter
    assert not keep(record_for("/healthz", 503))
    assert keep(record_for("/healthz", 500))
    assert keep(record_for("/runs/", 503))


def test_libraries_log_warnings_only_and_the_app_at_log_level():
    assert settings.LOGGING["root"]["level"] == "WARNING"
    for name in ("django", "training", "ares_site", "celery"):
        assert settings.LOGGING["loggers"][name]["level"] == settings.LOG_LEVEL
    assert "readiness_probe" in settings.LOGGING["handlers"]["stdout"]["filters"]
