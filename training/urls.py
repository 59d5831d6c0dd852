from django.urls import path

from training.views import health

app_name = "training"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
]
