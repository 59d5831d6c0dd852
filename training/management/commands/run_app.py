"""`make run`: migrate, admin login, bootstrap data, Redis if needed, one Celery worker and gunicorn."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

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
    worker_command,
)

BOOTSTRAP_COMMANDS = ("load_default_profile", "load_sample_data")


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


class Command(BaseCommand):
    help = "Run the whole app locally: Redis (if none answers), one Celery worker and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--state-dir",
            default=str(Path(settings.BASE_DIR) / "var"),
            help="where the generated admin credentials and the embedded Redis's files go",
        )

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args, port: int, state_dir: str, **options):
        var_dir = Path(state_dir)
        supervisor = Supervisor()
        redis_server = None
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        try:
            if port_in_use(port):
                raise CommandError(f"Port {port} on 127.0.0.1 is already in use (another `make run`?); set PORT.")
            call_command("migrate", interactive=False, verbosity=1)
            login = admin_login_ensure(
                username=os.environ.get("ADMIN_USERNAME") or "admin",
                email=os.environ.get("ADMIN_EMAIL") or "admin@example.com",
                password=os.environ.get("ADMIN_PASSWORD") or "",
                credentials_path=var_dir / CREDENTIALS_FILE_NAME,
            )
            self.say(login.message)
            available = get_commands()
            for name in BOOTSTRAP_COMMANDS:
                if name in available:
                    call_command(name)
                else:
                    self.say(f"Skipping {name}: that command does not exist yet.")
            if not settings.DEBUG:
                call_command("collectstatic", interactive=False, verbosity=0)
            redis_server = redis_ensure(url=settings.CELERY_BROKER_URL, directory=var_dir / "redis", say=self.say)

            env = dict(os.environ)
            env["PYTHONUNBUFFERED"] = "1"
            supervisor.start("celery worker", worker_command(), env=env, cwd=settings.BASE_DIR)
            supervisor.start("celery beat", beat_command(), env=env, cwd=settings.BASE_DIR)
            supervisor.start("web server", web_command(port=port), env=env, cwd=settings.BASE_DIR)
            base_url = f"http://127.0.0.1:{port}"
            wait_for_health(f"{base_url}/healthz", supervisor=supervisor)
            self.say("")
            self.say(f"Ares Training Manager is up: {base_url}/  (admin: {base_url}/admin/)")
            self.say(login.message)
            self.say("Press Ctrl-C to stop the web server, the worker, beat" + (" and Redis." if redis_server else "."))
            while True:
                dead = supervisor.dead()
                if dead:
                    raise RunAppError(", ".join(f"{name} exited with code {code}" for name, code in dead))
                time.sleep(1)
        except _Stop as stop:
            self.say(f"\n{stop}: stopping what run_app started.")
        except RunAppError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            supervisor.stop()
            if redis_server is not None:
                redis_server.stop()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
