from django.db import models


class WebVersion(models.Model):
    """The app version a web host serves, written by its web processes when they start (``ares_site.wsgi``,
    ``ares_site.asgi``) and by ``run_app`` before it starts its workers; a worker compares its own with the
    latest one before it works (``services.worker_checks``). One row per web host."""

    host = models.CharField(max_length=255, unique=True)
    version = models.CharField(max_length=64)
    commit = models.CharField(max_length=40, blank=True)
    dirty = models.BooleanField(null=True)
    published_at = models.DateTimeField(help_text="the database's clock when the web process started")

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.host}: {self.version} ({self.commit[:12] or 'no commit'})"
