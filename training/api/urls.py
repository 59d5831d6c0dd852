"""/api/: the router's resources, the market endpoints, the schema and its docs, and a JSON 404 for the rest."""

from csp.decorators import csp_update
from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from training.api.errors import not_found
from training.api.views.datasets import DatasetViewSet
from training.api.views.profiles import ProfileViewSet
from training.api.views.registry import (
    ActiveModelListView,
    ActiveModelView,
    PredictView,
    PromotionHistoryView,
    RollbackView,
)
from training.api.views.run_groups import RunGroupViewSet
from training.api.views.runs import RunViewSet
from training.api.views.schedules import ScheduleViewSet
from training.api.views.sweeps import SweepViewSet
from training.url_converters import MarketPartConverter

register_converter(MarketPartConverter, "market")

app_name = "api"

DOCS_STYLES = csp_update({"style-src": ["'unsafe-inline'"]})
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("runs", RunViewSet, basename="run")
router.register("run-groups", RunGroupViewSet, basename="run-group")
router.register("profiles", ProfileViewSet, basename="profile")
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("sweeps", SweepViewSet, basename="sweep")

MARKET = "models/<market:exchange>/<market:symbol>/<market:interval>/"

urlpatterns = [
    *router.urls,
    path("models/", ActiveModelListView.as_view(), name="model-list"),
    path(MARKET, ActiveModelView.as_view(), name="model-detail"),
    path(f"{MARKET}predict/", PredictView.as_view(), name="model-predict"),
    path(f"{MARKET}history/", PromotionHistoryView.as_view(), name="model-history"),
    path(f"{MARKET}rollback/", RollbackView.as_view(), name="model-rollback"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs pages style themselves inline (Swagger UI's template, ReDoc's runtime styles): allowed there
    # only; scripts stay static files (the split view serves Swagger UI's setup script from a URL).
    path("docs/", DOCS_STYLES(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", DOCS_STYLES(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
    re_path(r"^.*$", not_found, name="not-found"),
]
