# Funnel: `make run` to try it, `make test` to check it.
# With no DATABASE_URL the project runs its own PostgreSQL under var/postgres and
# Celery's filesystem broker under var/celery; DATABASE_URL / REDIS_URL name
# external PostgreSQL and Redis servers instead.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# honcho gives every process a PORT of its own, so the address travels under other names.
export FUNNEL_HOST := $(HOST)
export FUNNEL_PORT := $(PORT)
PIP := $(BIN)/pip install --disable-pip-version-check --require-hashes -q
# DEBUG is off unless the environment says otherwise (funnelapp/settings.py); development and the
# tests run with it on. `DEBUG=0 make run` tries a production-like start.
export DEBUG ?= 1
# Processes of `make run`; with an external database there is no embedded one to run.
PROCESSES := $(if $(DATABASE_URL),web worker beat ready,)

.PHONY: run test lint format install install-dev migrate demo db-start db-stop bench lock clean check-deploy messages

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# Runtime packages, from the lock. Output goes to a log: one line per step on screen.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	@mkdir -p var
	@$(PIP) -r requirements.txt > var/install.log 2>&1 || { cat var/install.log; exit 1; }
	@touch $@

# Development and test packages on top.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@$(PIP) -r requirements.txt -r requirements-dev.txt > var/install.log 2>&1 || { cat var/install.log; exit 1; }
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The embedded PostgreSQL (nothing to do with DATABASE_URL set).
db-start: install
	@$(if $(DATABASE_URL),true,$(BIN)/python -m funnelapp.localdb start > /dev/null)
db-stop: install
	@$(if $(DATABASE_URL),true,$(BIN)/python -m funnelapp.localdb stop > /dev/null)

migrate: db-start
	@$(BIN)/python manage.py migrate --no-input -v0

demo: migrate
	@$(BIN)/python manage.py seed_demo --no-logins

# Web server, Celery worker and beat (and the embedded database) under honcho;
# Ctrl-C stops all of them. The demo logins come last, once the site answers.
run:
	@echo "[1/4] installing packages (log: var/install.log)"
	@$(MAKE) -s install
	@echo "[2/4] starting the database $(if $(DATABASE_URL),(DATABASE_URL),(embedded PostgreSQL in var/postgres))"
	@$(MAKE) -s db-start
	@echo "[3/4] migrating"
	@$(MAKE) -s migrate
	@echo "[4/4] demo data: $$($(BIN)/python manage.py seed_demo --no-logins)"
	@$(BIN)/honcho start $(PROCESSES) || [ $$? = 130 ]  # 130: stopped by Ctrl-C, as intended

# Lint, checks (check --deploy with production settings included), the whole
# suite, then the browser tests; the embedded database is stopped afterwards
# whatever the outcome.
test: install-dev
	@$(MAKE) -s db-start
	@status=0; \
	$(BIN)/ruff check . && \
	$(BIN)/ruff format --check . && \
	$(BIN)/python manage.py check && \
	{ $(MAKE) -s check-deploy > var/check-deploy.log 2>&1 || { cat var/check-deploy.log; false; }; } && \
	$(BIN)/python manage.py makemigrations --check --dry-run -v0 && \
	$(BIN)/pytest -m "not browser" -n $${PYTEST_WORKERS:-2} && \
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -m browser tests/browser || status=$$?; \
	$(MAKE) -s db-stop; exit $$status

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The locks: every package pinned with its hashes, runtime and development apart.
lock: install-dev
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 requirements.in -o requirements.txt
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 requirements-dev.in -o requirements-dev.txt

# The translations: collect every marked string into locale/de/LC_MESSAGES/{django,djangojs}.po
# (new ones empty, for a translator), then compile the .mo files Django reads (both committed).
# The .jinja templates (the queue's rows) are read like Django's: their strings are _("...") calls.
MESSAGE_IGNORES := --ignore=.venv --ignore=var --ignore=staticfiles --ignore=bench --ignore=tests --ignore=static/vendor
messages: install-dev
	$(BIN)/python manage.py makemessages -l de -d django -e html,txt,py,jinja --no-obsolete --no-location $(MESSAGE_IGNORES)
	$(BIN)/python manage.py makemessages -l de -d djangojs --no-obsolete --no-location $(MESSAGE_IGNORES)
	$(BIN)/python manage.py compilemessages -l de --ignore=.venv --ignore=var

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	    DATABASE_URL=$${DATABASE_URL:-postgres://funnel@db.invalid:5432/funnel} \
	    ALLOWED_HOSTS=funnel.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install-dev
	$(BIN)/python -m bench

clean: db-stop
	rm -rf $(VENV) var staticfiles
