"""The README's shell commands after `make run`: manage.py finds the local key; a missing key is one line."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": "/nonexistent/.env",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_plain_shell_reads_the_key_make_run_generated(tmp_path):
    key = tmp_path / "secret-key"
    key.write_text("k" * 60 + "\n")
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", LOCAL_SECRET_KEY_FILE=str(key)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "k" * 60


def test_a_missing_key_is_one_line_without_a_traceback(tmp_path):
    result = manage("check", LOCAL_SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "manage.py: SECRET_KEY is not set. Set the SECRET_KEY environment variable (or SECRET_KEY_FILE, or DEBUG=1 "
        "for development)."
    ]


def test_an_explicit_secret_key_file_wins_over_the_local_one(tmp_path):
    local, explicit = tmp_path / "local", tmp_path / "explicit"
    local.write_text("l" * 60)
    explicit.write_text("e" * 60)
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        LOCAL_SECRET_KEY_FILE=str(local),
        SECRET_KEY_FILE=str(explicit),
    )
    assert result.stdout.strip().splitlines()[-1] == "e" * 60, result.stderr
