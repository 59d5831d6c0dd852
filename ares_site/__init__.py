import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .celery import app as celery_app

__all__ = ("celery_app",)
