"""`make run`: migrate, admin login, bootstrap data, then supervise Redis (if needed), WORKERS Celery workers and
gunicorn until Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ares_site.local_app import APP_FILE_NAME, app_record_remove, app_record_write
from ares_site.local_run import (
    CREDENTIALS_FILE_NAME,
    RunAppError,
    Supervisor,
    admin_login_ensure,
    beat_command,
    port_in_use,
    redis_ensure,
    wait_for_health,
    web_command,
    web_concurrency,
    web_health_lane,
    web_keepalive_requests,
    web_switch_interval_ms,
    worker_command,
    worker_node_name,
    workers_count,
)
from ares_site.process_lifetime import (
    ALREADY_RUNNING_MESSAGE,
    PID_FILE_NAME,
    PidFile,
    die_with_parent,
    leftovers_stop,
    supervisor_running,
    watchdog_start,
)
from training.services.web_versions import web_version_publish

BOOTSTRAP_COMMANDS = ("load_default_profile", "load_sample_data")
SUPERVISE_EVERY_SECONDS = 0.5


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


class Command(BaseCommand):
    help = "Run the whole app locally: Redis (if none answers), WORKERS Celery workers and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=None, help="worker processes (default: WORKERS, else the CPU cores)"
        )
        parser.add_argument(
            "--state-dir",
            default=str(Path(settings.BASE_DIR) / "var"),
            help="where the generated admin credentials and the embedded Redis's files go",
        )

    def say(self, message: str) -> None:
        try:
            self.stdout.write(message)
            self.stdout.flush()
        except OSError:  # the terminal closed (SIGHUP): stopping must go on without it
            pass

    def handle(self, *args, port: int, workers: int | None, state_dir: str, **options):
        var_dir = Path(state_dir)
        pid_path = var_dir / PID_FILE_NAME
        if supervisor_running(PidFile.read(pid_path)):
            raise CommandError(ALREADY_RUNNING_MESSAGE.format(pid=PidFile.read(pid_path).supervisor.pid, path=pid_path))
        leftovers_stop(pid_path, say=self.say)
        pid_file = PidFile(path=pid_path)
        pid_file.record_supervisor()
        watchdog_pipe = watchdog_start(pid_path)
        supervisor = Supervisor(
            say=self.say, on_start=lambda child: pid_file.record_child(child.name, child.process.pid)
        )
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, _raise_stop)
        try:
            workers = workers if workers is not None else workers_count()
            if workers < 1:
                raise RunAppError("--workers must be at least 1.")
            if port_in_use(port):
                raise CommandError(f"Port {port} on 127.0.0.1 is already in use (another `make run`?); set PORT.")
            call_command("migrate", interactive=False, verbosity=1)
            web_version_publish()  # before its workers start: they compare their app version with the web's
            login = admin_login_ensure(
                username=os.environ.get("ADMIN_USERNAME") or "admin",
                email=os.environ.get("ADMIN_EMAIL") or "admin@example.com",
                password=os.environ.get("ADMIN_PASSWORD") or "",
                credentials_path=var_dir / CREDENTIALS_FILE_NAME,
            )
            self.say(login.message)
            for name in BOOTSTRAP_COMMANDS:
                call_command(name)
            if not settings.DEBUG:
                call_command("collectstatic", interactive=False, verbosity=0)
            redis_server = redis_ensure(url=settings.CELERY_BROKER_URL, directory=var_dir / "redis", say=self.say)
            if redis_server is not None:
                supervisor.add(
                    "redis-server", lambda: redis_server.start(preexec_fn=die_with_parent()).process, stop_last=True
                )

            base_url = f"http://127.0.0.1:{port}"
            env = dict(os.environ)
            env["PYTHONUNBUFFERED"] = "1"
            # Every part serves this app's broker and address, whatever a recorded app.json says.
            env.update(
                LOCAL_APP_FILE="",
                REDIS_URL=settings.REDIS_URL,
                CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
                CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
                SITE_URL=env.get("SITE_URL") or base_url,
            )
            # Recorded before the parts start: a command typed as soon as /healthz answers already follows this app
            # (written after the web answered, a newcomer's first train_symbol raced it and printed port 8000).
            app_record_write(
                path=var_dir / APP_FILE_NAME,
                url=env["SITE_URL"],
                port=port,
                broker=settings.CELERY_BROKER_URL,
                result_backend=settings.CELERY_RESULT_BACKEND,
            )
            metrics_dir = var_dir / "prometheus"  # each web process's request samples, summed by /metrics
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
            if workers > 1:  # several local workers share each run's regimes unless the user said otherwise
                env.setdefault("TRAINING_REGIME_TASKS", "1")
            for index in range(1, workers + 1):
                command = worker_command(hostname=worker_node_name(index))
                supervisor.add_command(f"celery worker {index}", command, env=env, cwd=settings.BASE_DIR)
            supervisor.add_command("celery beat", beat_command(), env=env, cwd=settings.BASE_DIR)
            web_workers, web_threads = web_concurrency()
            web_switch_interval_ms()  # a bad value stops make run here, not in every gunicorn worker
            web_keepalive_requests()
            web = web_command(port=port, workers=web_workers, threads=web_threads, health_lane=web_health_lane())
            supervisor.add_command("web server", web, env=env, cwd=settings.BASE_DIR)
            wait_for_health(f"{base_url}/healthz", supervisor=supervisor)
            self.say("")
            self.say(f"Ares Training Manager is up: {base_url}/  (admin: {base_url}/admin/)")
            self.say(login.message)
            self.say(
                f"{workers} worker process(es), one run at a time each. A part that stops is restarted. "
                "Press Ctrl-C to stop the web server, the workers" + (" and Redis." if redis_server else ".")
            )
            self.say("Celery beat runs the retrain schedules (/schedules/) and stops with them.")
            self.say(
                f"A new shell's manage.py commands (train_symbol, sweep, …) use this app's broker and address "
                f"(recorded in {var_dir / APP_FILE_NAME}) unless REDIS_URL / PORT say otherwise."
            )
            while True:
                supervisor.check()
                time.sleep(SUPERVISE_EVERY_SECONDS)
        except _Stop as stop:
            self.say(f"\n{stop}: stopping what run_app started.")
        except RunAppError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)
            app_record_remove(var_dir / APP_FILE_NAME)
            supervisor.stop()
            pid_file.remove()
            os.close(watchdog_pipe)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
