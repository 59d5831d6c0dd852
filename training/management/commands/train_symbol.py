"""python manage.py train_symbol BTCUSDT [ETHUSDT …] [--markets FILE] [--profile NAME] [--exchange BINANCE]
[--interval 1h] [--preset quick] [--no-wait] [--inline] [--cost-bps 10] [--long-only] [--hold horizon|bar]

One market: one run, followed to the end; it ends with the system's trading line: ``system: Sharpe after 10 bps …
[low, high], PSR …, DSR … (N=…), verdict``. Several (arguments and/or a file of ``[EXCHANGE:]SYMBOL[ INTERVAL]``
lines): one run per market queued together as a group, followed until every run ends."""

import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from training.marketdata.markets import parse_markets
from training.ml.trading.rule import DEFAULT_COST_BPS, HOLD_HORIZON, HOLD_MODES
from training.models import RegularizationProfile, TrainingRun
from training.selectors.health import worker_absent_message
from training.selectors.run_groups import run_group_status
from training.selectors.run_summary import system_line, verdict_lines
from training.services.run_groups import RunGroupEnqueueFailed, run_group_create
from training.services.runs import TrainingRunEnqueueFailed, training_run_create, training_run_execute
from training.services.runs.reconcile import inline_worker_name

MSG_UNKNOWN_PROFILE = "Unknown profile '{name}'; profiles: {known}."
BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Launch a training run for one market (or a group, one run per market), print its id and follow it."

    def add_arguments(self, parser):
        parser.add_argument("symbol", nargs="*", help="one or more SYMBOL, EXCHANGE:SYMBOL or EXCHANGE:SYMBOL:INTERVAL")
        parser.add_argument(
            "--markets", help="a file with one market per line ([EXCHANGE:]SYMBOL[ INTERVAL], # comments)"
        )
        parser.add_argument("--profile", help="profile name (default: the default profile)")
        parser.add_argument("--exchange", default="BINANCE")
        parser.add_argument("--interval", default="1h")
        parser.add_argument("--preset", default="quick")
        parser.add_argument("--seed", type=int, default=None)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--no-wait", action="store_true", help="only enqueue and print the run id")
        mode.add_argument("--inline", action="store_true", help="train in this process, without a worker")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between progress updates")
        parser.add_argument("--cost-bps", type=float, default=DEFAULT_COST_BPS, help="trading costs per side (bps)")
        parser.add_argument("--long-only", action="store_true", help="the trading rule goes long or flat, never short")
        parser.add_argument(
            "--hold", choices=HOLD_MODES, default=HOLD_HORIZON, help="hold for the label horizon or re-decide every bar"
        )

    def handle(self, *args, symbol, profile, exchange, interval, preset, seed, no_wait, inline, poll, **options):
        trading = {"cost_bps": options["cost_bps"], "allow_short": not options["long_only"], "hold": options["hold"]}
        items = list(symbol)
        if options.get("markets"):
            try:
                items += Path(options["markets"]).read_text().splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read the market list {options['markets']}: {exc}") from None
        try:
            markets = parse_markets(items, exchange=exchange, interval=interval)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        profile_obj = None
        if profile:
            profile_obj = RegularizationProfile.objects.filter(name=profile).first()
            if profile_obj is None:
                known = ", ".join(RegularizationProfile.objects.values_list("name", flat=True)) or "none"
                raise CommandError(MSG_UNKNOWN_PROFILE.format(name=profile, known=known))
        if len(markets) > 1:
            return self._group(
                markets, profile_obj, preset, seed, trading=trading, no_wait=no_wait, inline=inline, poll=poll
            )
        market = markets[0]
        launch = dict(
            profile=profile_obj,
            symbol=market.symbol,
            exchange=market.exchange,
            interval=market.interval,
            preset=preset,
            seed=seed,
            trading=trading,
        )
        try:
            run = training_run_create(**launch, enqueue=not inline, trigger=TrainingRun.Trigger.CLI)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except TrainingRunEnqueueFailed as exc:
            self.stdout.write(f"run {exc.run.pk}")
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run {run.pk}")
        self.stdout.flush()
        if not inline:
            self._say_if_no_worker(what=f"run {run.pk} ({run_url(run.pk)})")
        if no_wait:
            return
        if inline:
            training_run_execute(run_id=run.pk, task_id=f"inline-{run.pk}", worker=inline_worker_name())
        run = self._follow(run.pk, poll)
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {run.error} ({run_url(run.pk)})")
        for line in verdict_lines(run):
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(f"run {run.pk} succeeded in {run.duration_seconds or 0:.1f} s: {run_url(run.pk)}")
        )
        self.stdout.write(system_line(run))

    def _group(
        self, markets, profile, preset, seed, *, trading: dict, no_wait: bool, inline: bool, poll: float
    ) -> None:
        try:
            group = run_group_create(
                profile=profile,
                markets=markets,
                preset=preset,
                seed=seed,
                enqueue=not inline,
                trigger=TrainingRun.Trigger.CLI,
                trading=trading,
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        except RunGroupEnqueueFailed as exc:
            self.stdout.write(f"group {exc.group.pk}")
            raise CommandError(str(exc)) from None
        runs = list(group.runs.order_by("id"))
        self.stdout.write(f"group {group.pk}: {len(runs)} runs")
        for run in runs:
            self.stdout.write(f"run {run.pk} {run.exchange}:{run.symbol} {run.interval}")
        self.stdout.flush()
        if not inline:
            self._say_if_no_worker(what=f"group {group.pk}")
        if no_wait:
            return
        if inline:
            for run in runs:
                training_run_execute(run_id=run.pk, task_id=f"inline-{run.pk}", worker=inline_worker_name())
        last = None
        while True:
            runs = list(group.runs.order_by("id").only("status", "progress", "symbol", "exchange", "interval"))
            status, counts = run_group_status(runs=runs)
            line = f"group {group.pk} {status}: " + ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
            if line != last:
                self.stdout.write(line)
                self.stdout.flush()
                last = line
            if all(run.is_terminal for run in runs):
                break
            time.sleep(poll)
        for run in runs:
            self.stdout.write(f"run {run.pk} {run.exchange}:{run.symbol} {run.interval}: {run.status}")
            if run.status == TrainingRun.Status.SUCCEEDED:
                self.stdout.write(f"  {system_line(TrainingRun.objects.get(pk=run.pk))}")
        url = settings.SITE_URL.rstrip("/") + reverse("training:run_group_detail", args=[group.pk])
        if status != "succeeded":
            raise CommandError(f"group {group.pk} {status} ({url})")
        self.stdout.write(self.style.SUCCESS(f"group {group.pk} succeeded: {url}"))

    def _say_if_no_worker(self, *, what: str) -> None:
        message = worker_absent_message(what=what)
        if message:
            self.stderr.write(self.style.WARNING(message))
            self.stderr.flush()

    def _follow(self, run_id: int, poll: float) -> TrainingRun:
        last = None
        while True:
            run = TrainingRun.objects.only("status", "progress", "stage", "error", "started_at", "finished_at").get(
                pk=run_id
            )
            line = self._bar(run)
            if line != last:
                self.stdout.write(line)
                self.stdout.flush()
                last = line
            if run.is_terminal:
                return run
            time.sleep(poll)

    @staticmethod
    def _bar(run: TrainingRun) -> str:
        filled = int(round(run.progress * BAR_WIDTH))
        step = "waiting for a worker" if run.status == TrainingRun.Status.QUEUED else run.stage
        detail = f" — {step}" if step and step != run.status else ""
        return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {run.progress * 100:5.1f}% {run.status}{detail}"


def run_url(run_id: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("training:run_detail", args=[run_id])
