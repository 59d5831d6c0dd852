from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.forms.market_data import CandleImportForm
from training.marketdata.errors import CandleFileError
from training.ml.calendars import calendar_key
from training.models import Candle, MarketDataset, RunGroup
from training.selectors.market_data import dataset_closes_for_chart
from training.services.market_calendars import dataset_set_calendar
from training.services.market_data import dataset_import_file

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 180, 4


def price_chart_svg(points: list[tuple[int, float]], title: str) -> str:
    """Inline SVG line of closes (already downsampled), with the low and high closes labelled."""
    if len(points) < 2:
        return ""
    times, closes = zip(*points)
    t0, t1, low, high = times[0], times[-1], min(closes), max(closes)
    span_t, span_p = (t1 - t0) or 1, (high - low) or 1
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    coords = " ".join(
        f"{CHART_PAD + (t - t0) / span_t * inner_w:.1f},{CHART_PAD + (high - c) / span_p * inner_h:.1f}"
        for t, c in points
    )
    return format_html(
        '<svg class="price-chart" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<rect width="100%" height="100%" fill="#fafafa" stroke="#ddd"/>'
        '<polyline fill="none" stroke="#2b6cb0" stroke-width="1.2" points="{}"/>'
        '<text x="6" y="14" font-size="11" fill="#555">high close {}</text>'
        '<text x="6" y="{}" font-size="11" fill="#555">low close {}</text></svg>',
        title,
        CHART_WIDTH,
        CHART_HEIGHT,
        CHART_WIDTH,
        CHART_HEIGHT,
        title,
        coords,
        f"{high:,.2f}",
        CHART_HEIGHT - 6,
        f"{low:,.2f}",
    )


class MarketDatasetForm(forms.ModelForm):
    class Meta:
        model = MarketDataset
        fields = ["calendar"]

    def clean_calendar(self) -> str:
        try:
            return calendar_key(self.cleaned_data["calendar"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


@admin.register(MarketDataset)
class MarketDatasetAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    list_display = (
        "__str__",
        "calendar",
        "coverage",
        "row_count",
        "gap_summary",
        "is_sample",
        "short_source",
        "updated_at",
    )
    list_filter = ("exchange", "interval", "calendar", "is_sample")
    search_fields = ("symbol", "exchange", "source")
    change_list_template = "admin/training/marketdataset/change_list.html"
    readonly_fields = (
        "exchange",
        "symbol",
        "interval",
        "is_sample",
        "coverage",
        "row_count",
        "gap_summary",
        "fingerprint",
        "source",
        "price_chart",
        "gaps",
        "created_at",
        "updated_at",
    )
    fields = ("calendar", *readonly_fields)

    form = MarketDatasetForm
    actions = ["launch_group"]

    @admin.action(description="Train the selected markets as a run group", permissions=["train"])
    def launch_group(self, request, queryset):
        query = urlencode(
            [("market", f"{d.exchange}:{d.symbol}:{d.interval}") for d in queryset] + [("trigger", "admin")]
        )
        return redirect(f"{reverse('training:run_group_new')}?{query}")

    def has_train_permission(self, request) -> bool:
        return request.user.has_perm("training.add_trainingrun")

    def save_model(self, request, obj, form, change) -> None:
        dataset_set_calendar(dataset=obj, calendar=obj.calendar)

    @admin.display(description="range (UTC)")
    def coverage(self, obj: MarketDataset) -> str:
        if not obj.first_open_time:
            return "empty"
        return f"{obj.first_open_time:%Y-%m-%d %H:%M} → {obj.last_open_time:%Y-%m-%d %H:%M}"

    @admin.display(description="gaps")
    def gap_summary(self, obj: MarketDataset) -> str:
        if not obj.gap_count:
            return "none"
        return f"{obj.gap_count} (largest: {obj.largest_gap} missing candles)"

    @admin.display(description="source")
    def short_source(self, obj: MarketDataset) -> str:
        return obj.source if len(obj.source) <= 90 else obj.source[:87] + "…"

    @admin.display(description="closes")
    def price_chart(self, obj: MarketDataset) -> str:
        return price_chart_svg(dataset_closes_for_chart(obj), f"{obj} closes") or "no candles"

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="training_marketdataset_import"), *super().get_urls()]

    def import_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        report, errors = None, []
        form = CandleImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = dataset_import_file(
                    path_or_file=upload,
                    name=upload.name,
                    symbol=form.cleaned_data["symbol"],
                    exchange=form.cleaned_data["exchange"],
                    interval=form.cleaned_data["interval"],
                    source=form.cleaned_data["source"] or f"admin upload {upload.name}",
                    calendar=form.cleaned_data["calendar"] or None,
                )
            except CandleFileError as exc:
                errors = exc.messages
            except ValueError as exc:
                errors = [str(exc)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import candles",
            "form": form,
            "report": report,
            "errors": errors,
        }
        return TemplateResponse(request, "admin/training/marketdataset/import.html", context)


@admin.register(Candle)
class CandleAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    list_display = ("dataset", "open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades")
    list_filter = ("dataset",)
    list_select_related = ("dataset",)
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RunGroup)
class RunGroupAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    list_display = ("__str__", "profile", "preset", "trigger", "launched_by", "created_at", "page")
    list_filter = ("preset", "trigger")
    readonly_fields = ("profile", "preset", "markets", "launched_by", "trigger", "created_at", "page")

    @admin.display(description="group page")
    def page(self, obj: RunGroup) -> str:
        return format_html('<a href="{}">status and verdicts</a>', reverse("training:run_group_detail", args=[obj.pk]))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
