"""/api/models/: the active model of every market, one market's, its promotion history, and predictions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from training.api.pagination import Pagination
from training.api.permissions import PROMOTE, VIEW_MODELS, VIEW_PROMOTIONS, requires
from training.api.serializers.common import error_responses
from training.api.serializers.registry import (
    ActiveModelSerializer,
    PredictionSerializer,
    PredictRequestSerializer,
    RollbackRequestSerializer,
)
from training.api.serializers.runs import PromotionSerializer
from training.selectors.registry import active_model_get, active_model_list, active_model_payload, promotion_list
from training.services.predictions import SOURCE_API, prediction_serve
from training.services.registry import model_rollback


class ActiveModelListView(APIView):
    permission_classes = [requires(VIEW_MODELS)]

    @extend_schema(summary="The active model of every market", responses={200: ActiveModelSerializer(many=True)})
    def get(self, request):
        payloads = [active_model_payload(active=active) for active in active_model_list()]
        return Response(ActiveModelSerializer(payloads, many=True).data)


class ActiveModelView(APIView):
    permission_classes = [requires(VIEW_MODELS)]

    @extend_schema(
        summary="The active model of a market: run, settings, verdicts, artifacts and download URL",
        responses={200: ActiveModelSerializer, **error_responses(404)},
    )
    def get(self, request, exchange: str, symbol: str, interval: str):
        active = active_model_get(exchange=exchange, symbol=symbol, interval=interval)
        return Response(ActiveModelSerializer(active_model_payload(active=active)).data)


class PredictView(APIView):
    permission_classes = [requires(VIEW_MODELS)]

    @extend_schema(
        summary="Predict the last bar (the latest stored one for `{}`) with the market's active model; logged once "
        "per bar: asking again for the same bar returns the stored prediction",
        request=PredictRequestSerializer,
        responses={200: PredictionSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request, exchange: str, symbol: str, interval: str):
        body = PredictRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        active = active_model_get(exchange=exchange, symbol=symbol, interval=interval)
        prediction = prediction_serve(run=active.run, candles=body.validated_data.get("candles"), source=SOURCE_API)
        return Response(PredictionSerializer(prediction).data)


class PromotionHistoryView(APIView):
    permission_classes = [requires(VIEW_PROMOTIONS)]

    @extend_schema(
        summary="Every promotion of a market, newest first (who, when, which run it replaced)",
        responses={200: PromotionSerializer(many=True)},
    )
    def get(self, request, exchange: str, symbol: str, interval: str):
        paginator = Pagination()
        page = paginator.paginate_queryset(
            promotion_list(exchange=exchange, symbol=symbol, interval=interval), request, view=self
        )
        return paginator.get_paginated_response(PromotionSerializer(page, many=True).data)


class RollbackView(APIView):
    permission_classes = [requires(PROMOTE)]

    @extend_schema(
        summary="Make the previously active run of the market active again (trigger `rollback`); past the first "
        "promotion the market has no active model (the promotion's `run` is null)",
        request=RollbackRequestSerializer,
        responses={201: PromotionSerializer, **error_responses(400)},
    )
    def post(self, request, exchange: str, symbol: str, interval: str):
        body = RollbackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        promotion = model_rollback(
            exchange=exchange, symbol=symbol, interval=interval, user=request.user, **body.validated_data
        )
        return Response(PromotionSerializer(promotion).data, status=status.HTTP_201_CREATED)
