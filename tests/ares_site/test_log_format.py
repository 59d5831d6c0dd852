import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAY = "import logging; logging.getLogger('training.x').warning('hello %s', 'json')\ntry:\n 1/0\nexcept ZeroDivisionError:\n logging.getLogger('training.x').exception('boom')"


def test_log_format_json_writes_one_json_object_a_line():
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "ares_site.test_settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SAY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("WARNING", "training.x", "hello json"),
        ("ERROR", "training.x", "boom"),
    ]
    assert "ZeroDivisionError" in lines[1]["exception"] and lines[0]["time"].endswith("+00:00")


def test_an_unknown_log_format_is_refused():
    env = {**os.environ, "LOG_FORMAT": "xml", "DJANGO_SETTINGS_MODULE": "ares_site.test_settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "LOG_FORMAT must be text or json, not 'xml'." in done.stderr
