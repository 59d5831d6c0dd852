#!/usr/bin/env bash
# The browser tests drive Debian's chromium; install it when missing (root, or sudo when available).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "chromium is missing: installing Debian's chromium package for the browser tests"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { echo "chromium could not be installed" >&2; exit 1; }
