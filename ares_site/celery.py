import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ares_site.settings")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

app = Celery("ares_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
