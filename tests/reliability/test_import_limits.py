"""Bombs are refused by a real `manage.py import_klines` process whose peak memory stays bounded."""

import gzip
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from training.marketdata.archive import MSG_DECLARED_TOO_LARGE, MSG_RATIO

ROOT = Path(__file__).resolve().parents[2]
BOMB_BYTES = 600 * 2**20
PEAK_RSS_LIMIT_MB = 500
LINE = (
    b"1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,1704070799999,53957248.97,47134,682.57,28957416.81,0\n"
)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """600 MB of valid kline lines, zipped (~2 MB, as the issue's 1.7 MB one) and gzipped."""
    directory = tmp_path_factory.mktemp("bombs")
    block = LINE * (8 * 2**20 // len(LINE))
    zipped, gzipped = directory / "bomb.zip", directory / "bomb.csv.gz"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("bomb.csv", "w", force_zip64=True) as member:
            for _ in range(BOMB_BYTES // len(block)):
                member.write(block)
    with gzip.open(gzipped, "wb", compresslevel=9) as out:
        for _ in range(BOMB_BYTES // len(block)):
            out.write(block)
    return {"zip": zipped, "gzip": gzipped}


# Runs manage.py and reports the process's own peak RSS (VmHWM) at exit. Not wait4's ru_maxrss: Linux carries
# the parent's high-water mark (pytest's) over fork and exec into it.
MEASURED = (
    "import atexit, runpy, sys\n"
    "def report():\n"
    "    hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
    "    sys.stderr.write(f'\\nPEAK_RSS_KB {hwm.split()[1]}\\n')\n"
    "atexit.register(report)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def run_and_measure(path: Path, tmp_path: Path) -> tuple[int, str, float]:
    """Exit status, stderr (without the measurement) and peak RSS (MB) of `manage.py import_klines FILE`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ares_site.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/never-written.sqlite3",
    }
    command = [sys.executable, "-c", MEASURED, "manage.py", "import_klines", str(path), "--symbol", "BOMBUSDT"]
    done = subprocess.run(command + ["--interval", "1m"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    stderr, _, measured = done.stderr.decode().rpartition("\nPEAK_RSS_KB ")
    return done.returncode, stderr, int(measured) / 1024


def test_a_zip_bomb_is_refused_with_bounded_memory(bombs, tmp_path):
    status, stderr, peak_mb = run_and_measure(bombs["zip"], tmp_path)
    assert status == 1 and "Traceback" not in stderr
    expected = MSG_DECLARED_TOO_LARGE.format(member="bomb.csv", size="600 MB", limit="512 MB")
    assert stderr.strip() == f"CommandError: Import refused, nothing was stored:\nbomb.zip: {expected}"
    assert peak_mb < PEAK_RSS_LIMIT_MB


def test_a_gzip_bomb_is_refused_while_inflating_with_bounded_memory(bombs, tmp_path):
    status, stderr, peak_mb = run_and_measure(bombs["gzip"], tmp_path)
    assert status == 1 and "Traceback" not in stderr
    refused = MSG_RATIO.format(ratio=100, read="§").split("§")[0]
    assert stderr.startswith(f"CommandError: Import refused, nothing was stored:\nbomb.csv.gz: {refused}")
    assert peak_mb < PEAK_RSS_LIMIT_MB
