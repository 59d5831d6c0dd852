"""/api/datasets/: list, detail, and import an uploaded candle file through the market-data service."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from training.api.errors import NON_FIELD
from training.api.filters import DatasetFilter
from training.api.permissions import IMPORT_CANDLES, ModelPermissions, requires
from training.api.serializers.common import error_responses
from training.api.serializers.datasets import DatasetImportSerializer, DatasetSerializer, ImportReportSerializer
from training.models import MarketDataset
from training.services.market_data import dataset_import_file


@extend_schema_view(
    list=extend_schema(summary="List market datasets"),
    retrieve=extend_schema(summary="One market dataset", responses={200: DatasetSerializer, **error_responses(404)}),
)
class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = MarketDataset.objects.none()
    serializer_class = DatasetSerializer
    permission_classes = [ModelPermissions]
    filterset_class = DatasetFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return MarketDataset.objects.order_by("exchange", "symbol", "interval")

    @extend_schema(
        summary="Import an uploaded candle file (all checks of the admin import; nothing stored on error)",
        request={"multipart/form-data": DatasetImportSerializer},
        responses={201: ImportReportSerializer, **error_responses(400)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[requires(IMPORT_CANDLES)],
        filterset_class=None,
    )
    def import_file(self, request):
        form = DatasetImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        try:
            report = dataset_import_file(
                path_or_file=upload,
                name=upload.name,
                symbol=form.validated_data["symbol"],
                exchange=form.validated_data["exchange"],
                interval=form.validated_data["interval"],
                source=form.validated_data["source"] or f"API upload {upload.name}",
                calendar=form.validated_data["calendar"] or None,
            )
        except ValueError as exc:  # CandleFileError (every problem, by line) or a bad symbol/exchange/interval
            problems = getattr(exc, "messages", None)
            raise ValidationError({"file": list(problems)} if problems else {NON_FIELD: [str(exc)]}) from None
        return Response(ImportReportSerializer(report).data, status=status.HTTP_201_CREATED)
