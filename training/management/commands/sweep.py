"""python manage.py sweep BTCUSDT --param l1_alpha=0.0001,0.01,1 [--param dropout_rate=0,0.2,0.5] [--profile NAME]
[--preset smoke] [--mode grid|optuna --trials N] [--no-wait]

Several markets (``sweep BTCUSDT ETHUSDT …`` or ``--markets FILE``): one sweep per market with the same axes,
created together or not at all, followed in turn."""

import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from training.marketdata.markets import parse_markets
from training.models import RegularizationProfile, Sweep
from training.selectors.health import worker_absent_message
from training.selectors.run_summary import verdict_lines
from training.selectors.sweep_evidence import evidence_lines, sweep_evidence, sweep_mechanism
from training.selectors.sweeps import SUCCEEDED, sweep_points, sweep_status
from training.services.sweep_axes import format_values
from training.services.sweep_holds import hold_text
from training.services.sweep_markets import sweep_create_over_markets
from training.services.sweep_reach import reach_text
from training.services.sweeps import sweep_create, sweep_reconcile

MSG_UNKNOWN_PROFILE = "Unknown profile '{name}'; profiles: {known}."
MSG_SWEEP_NOT_SUCCEEDED = "sweep {pk} {status}: {detail}"


class Command(BaseCommand):
    help = "Launch a regularization sweep (every point an ordinary run), print its id and follow it to the end."

    def add_arguments(self, parser):
        parser.add_argument("symbol", nargs="*", help="one or more SYMBOL or EXCHANGE:SYMBOL (same axes on each)")
        parser.add_argument("--markets", help="a file with one market per line ([EXCHANGE:]SYMBOL[ INTERVAL])")
        parser.add_argument(
            "--param",
            action="append",
            required=True,
            help="PARAM=VALUES: a base value (l1_alpha) or a backend's (lightgbm.reg_alpha); VALUES a list "
            "0.0001,0.01,1 or a log range LOW:HIGH:COUNT (1e-4:1:5). Repeat for more axes.",
        )
        parser.add_argument(
            "--hold",
            action="append",
            default=[],
            help="a setting held at every point instead of swept, e.g. lightgbm.early_stopping=off (L1/L2 alone, "
            "fixed boosting rounds) or tensorflow.early_stopping=off. Repeat for more.",
        )
        parser.add_argument("--profile", help="base profile name (default: the default profile)")
        parser.add_argument("--exchange", default="BINANCE")
        parser.add_argument("--interval", default="1h")
        parser.add_argument("--preset", default="quick")
        parser.add_argument("--mode", choices=Sweep.Mode.values, default=Sweep.Mode.GRID)
        parser.add_argument("--trials", type=int, default=None, help="optuna: number of trials")
        parser.add_argument("--parallel", type=int, default=2, help="optuna: trials running at once")
        parser.add_argument("--name", default="")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--seeds", type=int, default=1, help="grid: train each point with K seeds")
        parser.add_argument(
            "--objective",
            default=None,
            help="the model whose validation log loss is minimized (a model key, or 'ensemble'); default: the swept "
            "model when every axis reaches one",
        )
        parser.add_argument("--no-wait", action="store_true", help="only launch and print the sweep id")
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between progress updates")

    def handle(self, *args, symbol, param, profile, no_wait, poll, hold, **options):
        param = [*param, *hold]
        profile_obj = None
        if profile:
            profile_obj = RegularizationProfile.objects.filter(name=profile).first()
            if profile_obj is None:
                known = ", ".join(RegularizationProfile.objects.values_list("name", flat=True)) or "none"
                raise CommandError(MSG_UNKNOWN_PROFILE.format(name=profile, known=known))
        items = list(symbol)
        try:
            if options.get("markets"):
                items += Path(options["markets"]).read_text().splitlines()
            markets = parse_markets(items, exchange=options["exchange"], interval=options["interval"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if len(markets) > 1:
            return self._many(markets, profile_obj, param, no_wait=no_wait, poll=poll, options=options)
        try:
            sweep = sweep_create(
                profile=profile_obj,
                symbol=markets[0].symbol,
                axes=param,
                exchange=markets[0].exchange,
                interval=markets[0].interval,
                preset=options["preset"],
                mode=options["mode"],
                n_trials=options["trials"],
                parallel=options["parallel"],
                name=options["name"],
                seed=options["seed"],
                seeds=options["seeds"],
                objective_model=options["objective"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"sweep {sweep.pk}")
        self.stdout.write(f"objective: {sweep.objective_text}")
        for axis in sweep.axes:
            self.stdout.write(f"{axis['param']}: {reach_text(axis)}")
        for held in sweep.holds:
            self.stdout.write(hold_text(held))
        self.stdout.flush()
        self._say_if_no_worker(what=f"sweep {sweep.pk}")
        if no_wait:
            return
        status = self._follow(sweep, poll)
        sweep.refresh_from_db()
        for point in sweep_points(sweep=sweep):
            objective = "—" if point.objective is None else f"{point.objective:.5f}"
            self.stdout.write(
                f"  point {point.index}: {format_values(point.values)} run {point.run_id} "
                f"{point.run.status} objective {objective}"
            )
        if sweep.best_point:
            best = sweep.best_point
            self.stdout.write(f"best: {format_values(best.values)} objective {best.objective:.5f} (run {best.run_id})")
            for line in verdict_lines(best.run):  # the best point's run: each regime's verdict
                self.stdout.write(line)
            evidence = sweep_evidence(sweep=sweep, points=sweep_points(sweep=sweep))
            for line in evidence_lines(evidence):
                self.stdout.write(line)
            for line in sweep_mechanism(sweep=sweep, points=sweep_points(sweep=sweep)):
                self.stdout.write(f"mechanism: {line}")
        sweep_url = settings.SITE_URL.rstrip("/") + reverse("training:sweep_detail", args=[sweep.pk])
        if status["status"] != SUCCEEDED:
            raise CommandError(MSG_SWEEP_NOT_SUCCEEDED.format(pk=sweep.pk, **status) + f" {sweep_url}")
        self.stdout.write(self.style.SUCCESS(f"sweep {sweep.pk} succeeded: {status['detail']}: {sweep_url}"))

    def _many(self, markets, profile, param, *, no_wait: bool, poll: float, options: dict) -> None:
        keys = ("preset", "mode", "parallel", "name", "seed")
        try:
            sweeps = sweep_create_over_markets(
                markets=markets,
                profile=profile,
                axes=param,
                n_trials=options["trials"],
                **{key: options[key] for key in keys},
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        for sweep in sweeps:
            self.stdout.write(f"sweep {sweep.pk} {sweep.exchange}:{sweep.symbol} {sweep.interval}")
        self.stdout.flush()
        self._say_if_no_worker(what=f"sweep(s) {', '.join(str(sweep.pk) for sweep in sweeps)}")
        if no_wait:
            return
        failed = []
        for sweep in sweeps:
            status = self._follow(sweep, poll)
            sweep.refresh_from_db()
            best = sweep.best_point
            summary = f"best {format_values(best.values)} objective {best.objective:.5f}" if best else "no best point"
            self.stdout.write(f"sweep {sweep.pk} {sweep.symbol} {sweep.interval}: {status['status']}, {summary}")
            if status["status"] != SUCCEEDED:
                failed.append(str(sweep.pk))
        if failed:
            raise CommandError(f"sweep(s) {', '.join(failed)} did not succeed")

    def _say_if_no_worker(self, *, what: str) -> None:
        message = worker_absent_message(what=what)
        if message:
            self.stderr.write(self.style.WARNING(message))
            self.stderr.flush()

    def _follow(self, sweep: Sweep, poll: float) -> dict:
        last = None
        while True:
            sweep = sweep_reconcile(sweep=sweep)
            points = sweep_points(sweep=sweep)
            status = sweep_status(sweep=sweep, points=points)
            counts = ", ".join(f"{n} {s}" for s, n in status["counts"].items() if n)
            line = f"{status['status']}: {status['detail']} ({counts or 'no point yet'})"
            if status["pending"]:
                line += f", {status['pending']} trial(s) to ask"
            if line != last:
                self.stdout.write(line)
                self.stdout.flush()
                last = line
            if status["active"] == 0 and status["pending"] == 0:
                return status
            time.sleep(poll)
