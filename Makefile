# The README's two commands are `make run` and `make test`; `install` and `worker` are the steps they share.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Playwright drives Debian's /usr/bin/chromium; it never downloads its own browsers.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install install-test run worker test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt
	@touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PIP) install -q -r requirements-test.txt
	@bash scripts/ensure_chromium.sh
	@touch $@

# Installs, migrates, creates the admin login, loads the default profile and the offline sample, then
# supervises Redis (started when none answers; persisted in var/redis), WORKERS Celery worker processes
# (default: the number of CPU cores; one run at a time each) and the web server: a part that dies is
# restarted with back-off; Ctrl-C stops all it started.
# Local mode: plain HTTP on 127.0.0.1 (HTTPS=0 unless exported) and DEBUG off, with a secret key
# generated once in var/secret-key (SECRET_KEY from the environment or .env wins when set).
LOCAL_KEY := $(CURDIR)/var/secret-key
define ensure_local_key
	@mkdir -p var && if [ ! -s var/secret-key ]; then (umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret-key); fi
endef

run: install
	$(ensure_local_key)
	SECRET_KEY_FILE="$${SECRET_KEY_FILE:-$(LOCAL_KEY)}" HTTPS="$${HTTPS:-0}" $(if $(WORKERS),WORKERS=$(WORKERS)) \
		WORKER_WARM_IMPORTS="$${WORKER_WARM_IMPORTS:-1}" $(PY) manage.py run_app

# One Celery worker for both queues (its command line: ares_site/worker_command.py, as for `make run`, the tests
# and the benches). More workers on other machines: `make worker` there with the same
# REDIS_URL and DATABASE_URL (see the README); WORKER_NAME names the node (default ares-<pid>@<host>).
worker: install
	$(ensure_local_key)
	SECRET_KEY_FILE="$${SECRET_KEY_FILE:-$(LOCAL_KEY)}" WORKER_WARM_IMPORTS="$${WORKER_WARM_IMPORTS:-1}" \
		$(PY) -m ares_site.worker_command -n "$${WORKER_NAME:-ares-$$$$}@%h"

# Lint (ruff, configured in pyproject.toml) and migration drift, then the whole suite; pytest's exit 5
# ("no tests collected") fails like any other non-zero exit.
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=ares_site.test_settings $(PY) manage.py makemigrations --check --dry-run

# TEST_WORKERS pytest-xdist processes share the suite (default 2, one per core here; TEST_WORKERS=0: one process).
# Each has its own test database, Redis database index, Celery worker and temp folders. Every real-process test
# runs in both modes; the ones that kill or stop real processes carry the `fault` marker (PYTEST_ARGS='-m "not
# fault"' leaves them out of a quick local loop, never out of `make test`). `--dist worksteal`: a process that
# runs out of tests takes half of what is still queued for the other (with xdist's `load`, the tests queued for
# one process stayed there: one ended 47 s before the other).
TEST_WORKERS ?= 2
test: install-test lint
	@bash scripts/ensure_chromium.sh
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing" >&2; fi; exit $$rc

bench: install-test  # some scripts drive real worker processes with the test helpers (psutil)
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var
